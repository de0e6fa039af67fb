/**
 * The lab end to end in Chromium on WebGPU: backend, a tiny comparison through the UI,
 * curves/plots/table, share link round trip, malformed links, divergence, persistence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE_URL, TINY, launch, shot, watchErrors, openLab as open } from './browser';

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
});

afterAll(async () => {
  await browser?.close();
});

const rows = (page: Page) => page.getByTestId('result-row');

describe('QAFT Lab in Chromium on WebGPU', () => {
  let page: Page;
  let errors: string[];

  it('loads with the webgpu backend active', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await open(page, TINY);
    await expect(page.getByTestId('backend-badge').textContent()).resolves.toMatch(/webgpu/i);
    // LSQ and scale-only need integer bits: disabled at the default 1.58, with the reason as the title.
    await expect(page.getByTestId('run-lsq').isDisabled()).resolves.toBe(true);
    await expect(page.getByTestId('run-lsq').getAttribute('title')).resolves.toMatch(/bits/);
    await shot(page, '01-loaded');
  });

  it('runs a tiny comparison through the UI: curves, plots and table appear', async () => {
    await page.getByTestId('input-bits').selectOption('2');
    await page.getByTestId('input-lr-text').fill('3e-3');
    await page.getByTestId('input-lr-text').press('Enter');
    await expect.poll(() => page.url()).toContain('bits=2');
    await expect.poll(() => page.getByTestId('run-lsq').isDisabled()).toBe(false);
    await expect.poll(() => page.url()).toContain('lr=3e-3');
    await page.getByTestId('run-comparison').click();
    await expect.poll(() => rows(page).count(), { timeout: 240_000, interval: 1000 }).toBeGreaterThanOrEqual(4);
    const table = (await page.getByTestId('results-table').textContent()) ?? '';
    for (const name of ['FP', 'RTN', 'QAFT', 'Scratch']) expect(table).toContain(name);
    expect(table).toMatch(/2b/);
    // Loss curves drawn: recharts renders one path per series.
    await expect.poll(() => page.getByTestId('loss-chart').locator('path.recharts-curve').count()).toBeGreaterThan(2);
    await expect.poll(() => page.getByTestId('poly-plot').count()).toBeGreaterThanOrEqual(6);
    await shot(page, '02-comparison');
    expect(errors).toEqual([]);
  });

  it('the copied link restores the settings in a fresh page', async () => {
    await page.getByTestId('copy-link').click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain('bits=2');
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p2 = await fresh.newPage();
    await p2.goto(copied);
    await p2.getByTestId('backend-badge').waitFor();
    await expect(p2.getByTestId('input-bits').inputValue()).resolves.toBe('2');
    await expect(p2.getByTestId('input-lr-text').inputValue()).resolves.toMatch(/^3e-3$|^0\.003$/);
    await expect(p2.getByTestId('input-width').inputValue()).resolves.toBe('16');
    await shot(p2, '03-restored-from-link');
    await fresh.close();
  });

  it('runs survive a reload, and a run can be deleted', async () => {
    const before = await rows(page).count();
    await page.reload();
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => rows(page).count(), { timeout: 20_000 }).toBe(before);
    await page.getByTestId('delete-run').first().click();
    await expect.poll(() => rows(page).count()).toBe(before - 1);
    await page.reload();
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => rows(page).count(), { timeout: 20_000 }).toBe(before - 1);
    await shot(page, '04-after-reload-and-delete');
  });

  it('a malformed URL shows a message naming each bad key, and the page still works', async () => {
    const p = await context.newPage();
    const errs = watchErrors(p);
    await open(p, `${TINY}&bits=banana&foo=1&deg=9&gran=diagonal`);
    const box = p.getByTestId('url-messages');
    await box.waitFor();
    const text = (await box.textContent()) ?? '';
    for (const key of ['bits', 'foo', 'deg', 'gran']) expect(text).toContain(key);
    await expect(p.getByTestId('input-bits').inputValue()).resolves.toBe('1.58');
    const before = await rows(p).count();
    await p.getByTestId('run-fp').click();
    await expect.poll(() => rows(p).count(), { timeout: 120_000, interval: 1000 }).toBe(before + 1);
    await shot(p, '05-malformed-url');
    expect(errs).toEqual([]);
    await p.close();
  });

  it('a NaN-producing learning rate is reported as diverged and loses nothing already computed', async () => {
    const p = await context.newPage();
    await open(p, `${TINY}&fp_lr=10&fp_steps=40`);
    const before = await rows(p).count();
    await p.getByTestId('run-fp').click();
    await expect.poll(() => rows(p).count(), { timeout: 120_000, interval: 1000 }).toBe(before + 1);
    await expect.poll(async () => (await p.getByTestId('results-table').textContent()) ?? '').toMatch(/diverged/i);
    await expect.poll(async () => (await p.getByTestId('messages').textContent()) ?? '').toMatch(/diverged/i);
    await shot(p, '06-diverged');
    await p.close();
  });
});
