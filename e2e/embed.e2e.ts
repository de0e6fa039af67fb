/**
 * Embed mode (`embed=1&view=…`) in Chromium: the lab in iframes of a page on another site (a tiny
 * HTTP server on its own port, reached as `localhost` while the lab is at 127.0.0.1), run from
 * inside the frame; the same embed on a cross-origin-isolated page (COOP/COEP require-corp, which
 * needs the lab's Cross-Origin-Resource-Policy); and a mangled embed link.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { BASE_URL, SHOTS, TINY, launch, watchErrors } from './browser';

let browser: Browser;
let server: Server;
let hostUrl: string;

const LOSS = `${BASE_URL}#${TINY}&lr=1e-3&embed=1&view=loss`;
const SWEEP = `${BASE_URL}#${TINY}&sweep_bits=4,2&sweep_lr=1e-3&embed=1&view=sweep`;
/** A URL as an HTML attribute value. */
const attr = (url: string) => url.replaceAll('&', '&amp;');

/** A post on another site with the lab embedded twice, as the README's snippet does it. */
const POST = `<!doctype html><html><head><meta charset="utf-8"><title>A post about quantization</title>
<style>body{font:16px/1.5 Georgia,serif;max-width:760px;margin:24px auto;color:#222}iframe{width:100%;border:1px solid #ccc;border-radius:6px}</style></head>
<body><h1>What fine-tuning after quantizing buys</h1>
<p>Press the button inside the frame: the lab trains the models in your browser and draws the loss curves.</p>
<iframe id="loss" src="${attr(LOSS)}" height="560" title="QAFT Lab: loss curves"></iframe>
<p>And the learning rate × bit-width sweep:</p>
<iframe id="sweep" src="${attr(SWEEP)}" height="380" title="QAFT Lab: sweep"></iframe>
</body></html>`;

/** A cross-origin-isolated page (as a site that uses SharedArrayBuffer itself would be). */
const ISOLATED = `<!doctype html><html><head><meta charset="utf-8"><title>An isolated page</title></head>
<body><h1>Cross-origin isolated host</h1>
<iframe id="iso" src="${attr(`${BASE_URL}#${TINY}&embed=1&view=results`)}" width="420" height="300" allow="cross-origin-isolated"></iframe>
</body></html>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/isolated.html') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(ISOLATED);
    } else if (req.url === '/post.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(POST);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Another port and another host name: another origin and another site than the lab's 127.0.0.1.
  hostUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
  browser = await launch();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const idleIn = (frame: FrameLocator) => expect.poll(() => frame.getByTestId('embed-run').isEnabled(), { timeout: 240_000, interval: 1000 }).toBe(true);

describe('embed mode', () => {
  it('a mangled embed link gets the standard message and shows the default view', async () => {
    const page = await browser.newPage({ viewport: { width: 640, height: 600 } });
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&embed=1&view=nope`);
    await expect(page.getByTestId('embed').getAttribute('data-view')).resolves.toBe('loss');
    await expect(page.getByTestId('url-messages').textContent()).resolves.toMatch(/"view=nope" is not a view of the polynomial task .*showing loss/);
    // No panels: the settings sidebar is not there.
    await expect(page.locator('.sidebar').count()).resolves.toBe(0);
    await page.goto(`${BASE_URL}#${TINY}&embed=please`);
    await expect(page.getByTestId('url-messages').textContent()).resolves.toMatch(/"embed" must be 1 or 0, not "please"; the whole page is shown/);
    await expect(page.getByTestId('embed').count()).resolves.toBe(0);
    await expect(page.getByTestId('run-comparison').count()).resolves.toBe(1);
    // view= without embed=1 opens that tab of the whole page.
    await page.goto(`${BASE_URL}#${TINY}&view=pareto`);
    await expect(page.getByTestId('tab-pareto').getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.getByTestId('view-pareto').count()).resolves.toBe(1);
    // The language model's views: its samples alone; the toy's sweep is not one of them.
    await page.goto(`${BASE_URL}#v=1&task=lm&embed=1&view=samples`);
    await expect(page.getByTestId('embed').getAttribute('data-view')).resolves.toBe('samples');
    await expect(page.getByTestId('embed-run').textContent()).resolves.toBe('Run comparison');
    await page.goto(`${BASE_URL}#v=1&task=lm&embed=1&view=sweep`);
    await expect(page.getByTestId('embed').getAttribute('data-view')).resolves.toBe('loss');
    await expect(page.getByTestId('url-messages').textContent()).resolves.toMatch(/"view=sweep" is not a view of the language model/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds in iframes of a page on another site: run inside the frame, the curve and the sweep appear', async () => {
    const page: Page = await browser.newPage({ viewport: { width: 900, height: 1180 } });
    const errors = watchErrors(page);
    await page.goto(`${hostUrl}/post.html`);
    const loss = page.frameLocator('#loss');
    await expect.poll(() => loss.getByTestId('backend-badge').textContent(), { timeout: 90_000 }).toMatch(/webgpu|wasm/i);
    await expect(loss.getByTestId('embed-run').textContent()).resolves.toBe('Run comparison');
    // The link opens the whole lab with the same settings (not the embed).
    const open = (await loss.getByTestId('embed-open').getAttribute('href')) ?? '';
    expect(open).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#v=1&lr=1e-3&/);
    expect(open).toContain('width=16');
    expect(open).not.toMatch(/embed|view=/);
    await idleIn(loss);
    await loss.getByTestId('embed-run').click();
    // FP, RTN, QAFT and scratch: four names in the legend, and the curves drawn.
    await expect.poll(() => loss.locator('.legend li').count(), { timeout: 240_000, interval: 1000 }).toBe(4);
    await idleIn(loss);
    await expect.poll(() => loss.locator('.recharts-line-curve').count()).toBeGreaterThanOrEqual(3);
    await expect(loss.getByTestId('status').textContent()).resolves.toMatch(/Idle/);

    const sweep = page.frameLocator('#sweep');
    await sweep.getByTestId('embed-run').scrollIntoViewIfNeeded();
    await expect(sweep.getByTestId('embed-run').textContent()).resolves.toBe('Run sweep');
    await idleIn(sweep);
    await sweep.getByTestId('embed-run').click();
    await expect.poll(() => sweep.getByTestId('sweep-cell-2-1e-3').textContent(), { timeout: 240_000, interval: 1000 }).toMatch(/^\d/);
    await expect.poll(() => sweep.getByTestId('sweep-rtn-4').textContent(), { timeout: 60_000, interval: 1000 }).toMatch(/^\d/);
    await idleIn(sweep);
    // The whole host page as a reader sees it (a viewport shot: Chromium paints out-of-process frames into those).
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, '40-embed-host.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds in a cross-origin-isolated page: the lab sends Cross-Origin-Resource-Policy, and the frame is isolated too', async () => {
    const head = await fetch(BASE_URL);
    expect(head.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(head.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
    const errors = watchErrors(page);
    await page.goto(`${hostUrl}/isolated.html`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const iso = page.frameLocator('#iso');
    await iso.getByTestId('embed').waitFor({ timeout: 60_000 });
    await expect(iso.getByTestId('embed').getAttribute('data-view')).resolves.toBe('results');
    const frame = page.frames().find((f) => f.url().startsWith(BASE_URL));
    expect(await frame?.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, '41-embed-isolated-host.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
