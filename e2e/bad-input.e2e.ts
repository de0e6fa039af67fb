/**
 * Bad input in links, in Chromium: a link the parser cannot use still opens the page with a
 * message naming the key; messages quoting huge values cannot blow up the layout; a link that
 * would fetch from another origin asks first (naming the host), even with run=1, and fetches
 * only after Allow. Every request to the foreign hosts is answered here by a route: nothing
 * leaves the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { elementShot, launch, shot, watchErrors, openLab as open } from './browser';

let browser: Browser;
let context: BrowserContext;
/** Every request the page or its worker made to a foreign host (seen by the route). */
const foreign: string[] = [];

/** A plain text long enough for the tiny GPT's training and validation windows. */
const CORPUS = Array.from({ length: 120 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog. `).join('\n');

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route(/^https?:\/\/(evil\.example|huggingface\.co)\//, async (route: Route) => {
    const url = route.request().url();
    foreign.push(url);
    const cors = { 'access-control-allow-origin': '*' };
    if (url.startsWith('https://evil.example/x.txt')) await route.fulfill({ status: 200, contentType: 'text/plain', headers: cors, body: CORPUS });
    else await route.fulfill({ status: 404, headers: cors, body: 'not here' });
  });
});

afterAll(async () => {
  await browser?.close();
});

/** The main panels: settings, run buttons, results. */
async function expectPanels(page: Page): Promise<void> {
  for (const id of ['run-comparison', 'status', 'results-table', 'input-bits']) {
    await expect(page.getByTestId(id).first().isVisible(), id).resolves.toBe(true);
  }
}

const rows = (page: Page) => page.getByTestId('result-row');
const messages = async (page: Page) => (await page.getByTestId('messages').textContent()) ?? '';
const hitsTo = (host: string) => foreign.filter((u) => new URL(u).host === host);

/** A tiny GPT pretrained here on the text at text_url (SwiftShader runs WebGPU on the CPU). */
const TINY_LM_URL =
  'v=1&task=lm&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=20&lm_steps=10&lm_batch=4&lm_fp_batch=4&sample_len=20&log=10&budget=16' +
  '&text=url&text_url=https://evil.example/x.txt';
const HF_LINK = 'v=1&task=lm&lm_src=hf&hf=https://huggingface.co/EleutherAI/pythia-14m/resolve/main/&run=1';

describe('bad input in links', () => {
  it('a link the parser cannot use (lq=0) opens the page with a message naming the key', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await open(page, 'v=1&lq=0');
    await expectPanels(page);
    await expect(page.getByTestId('url-messages').textContent()).resolves.toContain('lq');
    await elementShot(page, 'url-messages', 'bad-input-lq-message');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('messages quoting huge values wrap and scroll inside the banner; the page keeps its layout', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    const long = 'x'.repeat(100_000);
    const unknown = Array.from({ length: 40 }, (_, i) => `unknown_key_${i}=${i}`).join('&');
    await open(page, `v=1&prompt=${long}&${'k'.repeat(3000)}=1&text_url=${long}&bits=${'9'.repeat(5000)}&${unknown}`);
    const banner = page.getByTestId('url-messages');
    await banner.waitFor();
    const box = await banner.boundingBox();
    expect(box).not.toBeNull();
    // The banner stays within the page's width and well under the window's height.
    expect(box!.width).toBeLessThanOrEqual(1280);
    expect(box!.height).toBeLessThan(900 * 0.6);
    // One huge message does not hide the others: the second starts inside the banner.
    const second = await banner.locator('li').nth(1).boundingBox();
    expect(second!.y).toBeLessThan(box!.y + box!.height - 20);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectPanels(page);
    await elementShot(page, 'url-messages', 'bad-input-long-messages');
    await shot(page, 'bad-input-long-messages-page');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a link with run=1 and a Hugging Face URL asks before fetching; Don't allow fetches nothing, and Run asks again", async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await open(page, HF_LINK);
    const notice = page.getByTestId('fetch-consent');
    await notice.waitFor();
    await expect(page.getByTestId('consent-hosts').textContent()).resolves.toBe('huggingface.co');
    await expect(notice.textContent()).resolves.toContain('This link loads a model from huggingface.co');
    await expect(notice.textContent()).resolves.toContain('Allow fetching from huggingface.co?');
    // The backend is ready and the link asked to run: nothing starts and nothing is fetched while the question is open.
    await page.waitForTimeout(1500);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/Waiting for your answer/);
    expect(await rows(page).count()).toBe(0);
    expect(hitsTo('huggingface.co')).toEqual([]);
    await elementShot(page, 'fetch-consent', 'bad-input-consent-hf');
    await shot(page, 'bad-input-consent-hf-page');

    await page.getByTestId('consent-deny').click();
    await expect(notice.count()).resolves.toBe(0);
    await expect.poll(() => messages(page)).toContain('Nothing was fetched from huggingface.co');
    // The settings are kept, without the auto-start.
    await expect(page.getByTestId('input-lm-hf').inputValue()).resolves.toBe('https://huggingface.co/EleutherAI/pythia-14m/resolve/main/');
    await expect.poll(() => page.url()).not.toContain('run=1');

    // Run asks again, naming the host; declining again still fetches nothing.
    await page.getByTestId('run-comparison').click();
    await notice.waitFor();
    await expect(page.getByTestId('consent-hosts').textContent()).resolves.toBe('huggingface.co');
    await page.getByTestId('consent-deny').click();
    await page.waitForTimeout(500);
    expect(hitsTo('huggingface.co')).toEqual([]);
    expect(await rows(page).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a link (opened by a hash change) with run=1 and a text URL asks first; Allow fetches it and the run starts', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await open(page, 'v=1');
    await page.evaluate((h) => {
      location.hash = h;
    }, `${TINY_LM_URL}&run=1`);
    const notice = page.getByTestId('fetch-consent');
    await notice.waitFor();
    await expect(page.getByTestId('consent-hosts').textContent()).resolves.toBe('evil.example');
    await expect(notice.textContent()).resolves.toContain('its training text from evil.example');
    await expect(notice.textContent()).resolves.toContain('https://evil.example/x.txt');
    await page.waitForTimeout(1500);
    expect(hitsTo('evil.example')).toEqual([]);
    expect(await rows(page).count()).toBe(0);
    await elementShot(page, 'fetch-consent', 'bad-input-consent-text');

    await page.getByTestId('consent-allow').click();
    await expect(notice.count()).resolves.toBe(0);
    await expect.poll(() => hitsTo('evil.example'), { timeout: 60_000 }).toEqual(['https://evil.example/x.txt']);
    // The link's run=1 starts once allowed: the FP model is pretrained on the fetched text.
    await expect.poll(() => rows(page).count(), { timeout: 240_000, interval: 1000 }).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('results-table').textContent()).resolves.toContain('FP');
    if (await page.getByTestId('stop').isEnabled()) await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);
    expect(await notice.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
