/**
 * Export and import end to end in Chromium: a tiny experiment's runs as JSON and CSV, the loss
 * chart and the Pareto view as PNG and SVG, the config diff of two runs, and the JSON dropped
 * (and picked) in a fresh browser context, which then shows the same table; a mangled or
 * foreign file gets a message and changes nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Download, Locator, Page } from 'playwright-core';
import { SHOTS, TINY, elementShot, launch, shot, watchErrors, openLab as open } from './browser';

let browser: Browser;
let context: BrowserContext;
const VIEWPORT = { width: 1280, height: 900 };

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
});

afterAll(async () => {
  await browser?.close();
});

const rows = (page: Page) => page.getByTestId('result-row');
const rowTexts = (page: Page) => rows(page).allTextContents();

/** Click `button` and return the file it downloads (name and bytes). */
async function download(page: Page, button: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download') as Promise<Download>, button.click()]);
  const p = await d.path();
  const bytes = readFileSync(p);
  // Keep a copy beside the screenshots to look at.
  mkdirSync(path.join(SHOTS, 'export'), { recursive: true });
  writeFileSync(path.join(SHOTS, 'export', d.suggestedFilename()), bytes);
  return { name: d.suggestedFilename(), bytes };
}

/** Drop a file on an element the way a browser does (a drop event carrying a DataTransfer with the file). */
async function dropFile(page: Page, testId: string, name: string, text: string): Promise<void> {
  await page.evaluate(
    ({ testId, name, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'application/json' }));
      const target = document.querySelector(`[data-testid="${testId}"]`)!;
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { testId, name, text },
  );
}

/** Check an exported PNG (header, decodes in the page at twice the figure's size) and SVG (XML with an <svg> root holding the chart's paths). */
async function checkChartFiles(page: Page, figure: string, png: Buffer, svg: string, curveSelector: string): Promise<void> {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const width = await page
    .getByTestId(`figure-${figure}`)
    .locator('.figure-body')
    .evaluate((e) => Math.ceil(e.getBoundingClientRect().width));
  const decoded = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    return { w: img.naturalWidth, h: img.naturalHeight };
  }, png.toString('base64'));
  // 2× the figure and its 10 px margins.
  expect(decoded.w).toBe(2 * (width + 20));
  expect(decoded.h).toBeGreaterThan(100);
  const pageD = await page.getByTestId(`figure-${figure}`).locator(curveSelector).first().getAttribute('d');
  const parsed = await page.evaluate(
    ({ svg, d }) => {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      return {
        root: doc.documentElement.nodeName,
        ns: doc.documentElement.namespaceURI,
        error: doc.getElementsByTagName('parsererror').length,
        title: doc.querySelector('svg > title')?.textContent ?? '',
        paths: doc.getElementsByTagName('path').length,
        hasCurve: [...doc.getElementsByTagName('path')].some((p) => p.getAttribute('d') === d),
        texts: [...doc.getElementsByTagName('text')].map((t) => t.textContent).join(' '),
      };
    },
    { svg, d: pageD },
  );
  expect(parsed).toMatchObject({ root: 'svg', ns: 'http://www.w3.org/2000/svg', error: 0, hasCurve: true });
  expect(parsed.paths).toBeGreaterThan(2);
  expect(parsed.title.length).toBeGreaterThan(3);
  return void parsed.texts;
}

/** Show an exported SVG on its own in a page and screenshot it (to look at what the file draws). */
async function shotSvg(svg: string, name: string): Promise<void> {
  const p = await context.newPage();
  await p.setContent(`<body style="margin:0;background:#888">${svg.replace(/^<\?xml[^>]*>/, '')}</body>`);
  await p
    .locator('svg')
    .first()
    .screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await p.close();
}

describe('export and import in Chromium', () => {
  let page: Page;
  let errors: string[];
  let json = '';
  let before: string[] = [];

  it('runs a tiny experiment, and one more run with other settings', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await open(page, TINY);
    await page.getByTestId('run-comparison').click();
    await expect.poll(() => rows(page).count(), { timeout: 240_000, interval: 1000 }).toBe(4);
    // RTN again at 4 bits: a run whose settings differ from the comparison's.
    await page.getByTestId('input-bits').selectOption('4');
    await expect.poll(() => page.url()).toContain('bits=4');
    await expect.poll(() => page.getByTestId('run-rtn').isEnabled(), { timeout: 60_000 }).toBe(true);
    await page.getByTestId('run-rtn').click();
    await expect.poll(() => rows(page).count(), { timeout: 120_000, interval: 500 }).toBe(5);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 60_000 }).toBe(true);
    before = await rowTexts(page);
    await shot(page, 'export-01-runs');
  });

  it('exports every run as JSON and as CSV (runs and curves)', async () => {
    const j = await download(page, page.getByTestId('export-json'));
    expect(j.name).toMatch(/^qaft-lab-poly-.*-runs\.json$/);
    json = j.bytes.toString('utf8');
    const file = JSON.parse(json) as {
      format: string;
      version: number;
      runs: { id: string; method: string; curve: unknown[]; config: { quant: { bits: number } } }[];
    };
    expect(file.format).toBe('qaft-lab-runs');
    expect(file.version).toBe(1);
    expect(file.runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'scratch', 'rtn']);
    expect(file.runs.map((r) => r.config.quant.bits)).toEqual([1.58, 1.58, 1.58, 1.58, 4]);
    expect(file.runs[0].curve.length).toBeGreaterThan(1);

    const csv = (await download(page, page.getByTestId('export-csv'))).bytes.toString('utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^run_id,Method,Bits,LR,Steps,Test MSE,Ratio to FP,/);
    expect(lines[0]).toContain(',config.quant.bits,');
    expect(lines[5]).toContain(file.runs[4].id);
    const curves = (await download(page, page.getByTestId('export-curves-csv'))).bytes.toString('utf8').trimEnd().split('\r\n');
    expect(curves[0]).toBe('run_id,run_name,method,step,train_loss,test_loss,metric');
    expect(curves.length - 1).toBe(file.runs.reduce((n, r) => n + r.curve.length, 0));
  });

  it('saves the loss chart and the Pareto view as PNG and SVG', async () => {
    await page.getByTestId('figure-loss').scrollIntoViewIfNeeded();
    await elementShot(page, 'loss-chart', 'export-02-loss-chart-on-page');
    const lossPng = (await download(page, page.getByTestId('export-png-loss'))).bytes;
    const lossSvg = (await download(page, page.getByTestId('export-svg-loss'))).bytes.toString('utf8');
    await checkChartFiles(page, 'loss', lossPng, lossSvg, 'path.recharts-curve');
    expect(lossSvg).toContain('Loss curves (test MSE)');
    // The legend (HTML on the page) is drawn in the file too.
    expect(lossSvg).toMatch(/<text[^>]*>QAFT[^<]*<\/text>/);
    await shotSvg(lossSvg, 'export-03-loss-chart-svg');

    await page.getByTestId('tab-pareto').click();
    await page.getByTestId('view-pareto').locator('.recharts-scatter-symbol').first().waitFor();
    const paretoPng = (await download(page, page.getByTestId('export-png-pareto'))).bytes;
    const paretoSvg = (await download(page, page.getByTestId('export-svg-pareto'))).bytes.toString('utf8');
    await checkChartFiles(page, 'pareto', paretoPng, paretoSvg, 'path.recharts-scatter-symbol, .recharts-symbols');
    await shotSvg(paretoSvg, 'export-04-pareto-svg');

    // Hand-drawn SVG panels styled by the page's CSS (the polynomial plots): the styles travel with the file.
    const polyPng = (await download(page, page.getByTestId('export-png-poly'))).bytes;
    const polySvg = (await download(page, page.getByTestId('export-svg-poly'))).bytes.toString('utf8');
    await checkChartFiles(page, 'poly', polyPng, polySvg, 'path.true-curve');
    expect(polySvg.match(/<svg /g)?.length).toBeGreaterThanOrEqual(7);
    await shotSvg(polySvg, 'export-05-poly-svg');

    // A view that is an HTML table (the sensitivity heat map): its cells, colours and text are drawn into the SVG.
    await page.getByTestId('tab-sensitivity').click();
    await page.getByTestId('run-sensitivity').click();
    await page.getByTestId('sensitivity-table').waitFor({ timeout: 120_000 });
    const cell = (await page.getByTestId('sensitivity-table').locator('tbody td').first().textContent())!.trim();
    const sensSvg = (await download(page, page.getByTestId('export-svg-sensitivity'))).bytes.toString('utf8');
    const texts = await page.evaluate((svg) => {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      return doc.documentElement.nodeName === 'svg' && !doc.querySelector('parsererror')
        ? [...doc.getElementsByTagName('text')].map((t) => t.textContent)
        : null;
    }, sensSvg);
    expect(texts).toContain(cell);
    await shotSvg(sensSvg, 'export-05-sensitivity-svg');
    expect(errors).toEqual([]);
  });

  it('shows the config diff of two runs with different settings', async () => {
    const picks = page.getByTestId('diff-pick');
    await picks.nth(1).check();
    await expect(page.getByTestId('config-diff-hint').textContent()).resolves.toMatch(/Tick a second run/);
    await picks.nth(4).check();
    const diff = page.getByTestId('config-diff');
    await diff.waitFor();
    const changed = await page.getByTestId('config-diff-row').allTextContents();
    expect(changed).toEqual(['quant.bits− 1.58+ 4']);
    await expect(page.getByTestId('config-diff-same').textContent()).resolves.toMatch(/^\d+ identical settings$/);
    // Two runs of one comparison share every setting.
    await picks.nth(4).uncheck();
    await picks.nth(2).check();
    await expect(page.getByTestId('config-diff-none').textContent()).resolves.toMatch(/same settings/);
    await picks.nth(2).uncheck();
    await picks.nth(4).check();
    await elementShot(page, 'results-card', 'export-06-config-diff');
  });

  it('a fresh browser context imports the dropped JSON and shows the same table; the file picker does not double it', async () => {
    const fresh = await browser.newContext({ viewport: VIEWPORT });
    const p2 = await fresh.newPage();
    const errors2 = watchErrors(p2);
    await open(p2, TINY);
    await expect(p2.locator('[data-testid="results-card"] .empty').textContent()).resolves.toMatch(/No runs yet/);
    await dropFile(p2, 'loss-chart', 'runs.json', json);
    await expect.poll(() => rows(p2).count(), { timeout: 10_000 }).toBe(5);
    expect(await rowTexts(p2)).toEqual(before);
    await expect(p2.getByTestId('message').last().textContent()).resolves.toMatch(/Imported 5 runs from runs\.json/);
    // The curves are on the chart.
    await expect.poll(() => p2.getByTestId('loss-chart').locator('path.recharts-curve').count()).toBeGreaterThan(2);
    await shot(p2, 'export-07-imported-fresh-context');

    // The same file again, by the Import button's file picker: nothing is doubled.
    await p2.getByTestId('import-runs-input').setInputFiles({ name: 'runs.json', mimeType: 'application/json', buffer: Buffer.from(json) });
    await expect.poll(() => p2.getByTestId('message').last().textContent()).toMatch(/All 5 runs of runs\.json are already here: nothing was added\./);
    expect(await rowTexts(p2)).toEqual(before);

    // Mangled: cut in the middle. Foreign: JSON of another kind. Each gets a message; the table stays.
    await dropFile(p2, 'results-card', 'cut.json', json.slice(0, Math.floor(json.length / 2)));
    await expect.poll(() => p2.getByTestId('message').last().textContent()).toMatch(/cut\.json is not valid JSON .*Nothing was imported/);
    await dropFile(p2, 'results-card', 'other.json', JSON.stringify({ name: 'something else', rows: [1, 2] }));
    await expect.poll(() => p2.getByTestId('message').last().textContent()).toMatch(/other\.json is not a QAFT Lab runs export: its "format" is missing/);
    const broken = JSON.parse(json) as { runs: { curve: unknown }[] };
    for (const r of broken.runs) r.curve = 'none';
    await dropFile(p2, 'results-card', 'broken.json', JSON.stringify(broken));
    await expect
      .poll(() => p2.getByTestId('message').last().textContent())
      .toMatch(/broken\.json holds no run this page can use\. Left out 5: run 1 \("FP[^"]*"\): "curve" expected array/);
    expect(await rowTexts(p2)).toEqual(before);
    await shot(p2, 'export-08-mangled-files');

    // The imported runs were saved in this context's IndexedDB: a reload keeps them.
    await p2.reload();
    await p2.getByTestId('backend-badge').waitFor();
    await expect.poll(() => rows(p2).count(), { timeout: 20_000 }).toBe(5);
    expect(await rowTexts(p2)).toEqual(before);

    // A run from someone else's file whose settings fetch from another site: loading them and running asks first, as a link does.
    const first = (JSON.parse(json) as { runs: { config: { lm: object } }[] }).runs[0];
    const hfUrl = 'https://huggingface.co/EleutherAI/pythia-14m/resolve/main/';
    const hfRun = {
      ...first,
      id: 'imported-hf',
      name: 'FP of a Hugging Face model',
      config: { ...first.config, task: 'lm', lm: { ...first.config.lm, source: 'hf', hfUrl } },
    };
    await dropFile(p2, 'results-card', 'hf.json', JSON.stringify({ format: 'qaft-lab-runs', version: 1, runs: [hfRun] }));
    await expect.poll(() => p2.getByTestId('message').last().textContent()).toMatch(/Imported 1 run from hf\.json; 1 of them belong to the language model/);
    expect(await rowTexts(p2)).toEqual(before);
    const requests: string[] = [];
    p2.on('request', (r) => requests.push(r.url()));
    await p2.getByTestId('task-lm').click();
    await expect.poll(() => rows(p2).count()).toBe(1);
    await rows(p2).first().locator('button.link-btn').click();
    await expect.poll(() => p2.url()).toContain('lm_src=hf');
    await p2.getByTestId('run-comparison').click();
    await expect(p2.getByTestId('consent-hosts').textContent()).resolves.toBe('huggingface.co');
    expect(requests.filter((u) => u.includes('huggingface.co'))).toEqual([]);
    await elementShot(p2, 'fetch-consent', 'export-09-imported-run-asks-before-fetching');
    await p2.getByTestId('consent-deny').click();
    expect(requests.filter((u) => u.includes('huggingface.co'))).toEqual([]);
    expect(errors2).toEqual([]);
    await fresh.close();
  });
});
