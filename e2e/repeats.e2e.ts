/**
 * repeats=3 in the page: every method over three seeds, the repeats table with mean ± 95 % interval
 * and the noise verdicts; the loss curves as means with a min–max band; a sweep whose cells read
 * mean ± interval; the Pareto view's points at their means with error bars.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BASE_URL, elementShot, launch, TINY, watchErrors } from './browser';

let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
});

describe('repeats in Chromium', () => {
  it('runs the comparison three times and shows each method as mean ± 95 % interval over n = 3', async () => {
    await page.goto(`${BASE_URL}#${TINY}&lr=1e-3&repeats=3&sweep_bits=4,2&sweep_lr=1e-3&run=1`);
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 240_000, interval: 1000 }).toBe(12);
    const rows = page.getByTestId('repeat-row');
    await expect.poll(() => rows.count()).toBe(4);
    for (let i = 0; i < 4; i++) await expect(rows.nth(i).locator('td').nth(1).textContent()).resolves.toBe('3');
    await expect(page.getByTestId('repeat-diffs').textContent()).resolves.toMatch(/(larger than|within) the seed noise/);
    await elementShot(page, 'repeats-card', '30-repeats');
    expect(errors).toEqual([]);
  });

  it('draws each method once: the mean curve with a min–max band over the seeds, and RTN as a band around its mean', async () => {
    const legend = page.getByTestId('loss-chart').locator('.legend li');
    await expect(legend.count()).resolves.toBe(4);
    for (let i = 0; i < 4; i++) await expect(legend.nth(i).textContent()).resolves.toMatch(/mean of 3 seeds · test \d\.\d+ ± \d/);
    // FP, QAFT and scratch train: a band each; RTN's final losses: a horizontal band.
    await expect(page.getByTestId('loss-chart').locator('.recharts-area-area').count()).resolves.toBe(3);
    await expect(page.getByTestId('loss-chart').locator('.recharts-reference-area-rect').count()).resolves.toBe(1);
    await expect(page.getByTestId('loss-chart').textContent()).resolves.toMatch(/shaded band from the lowest to the highest seed .*\(min–max/);
    await elementShot(page, 'loss-chart', '31-repeats-loss-band');
  });

  it('a sweep with repeats=3: each cell is mean ± 95 % interval over three seeds, and the Pareto view has error bars', async () => {
    await page.getByTestId('run-sweep').click();
    await page.getByTestId('tab-sweep').click();
    // RTN and QAFT at 4 and 2 bits, three seeds each: every cell reads mean ± interval over n = 3.
    for (const id of ['sweep-cell-4-1e-3', 'sweep-cell-2-1e-3', 'sweep-rtn-4', 'sweep-rtn-2'])
      await expect.poll(() => page.getByTestId(id).getAttribute('data-n'), { timeout: 240_000, interval: 1000 }).toBe('3');
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 60_000 }).toBe(true);
    await expect(page.getByTestId('sweep-cell-4-1e-3').textContent()).resolves.toMatch(/^\d\.\d\de-?\d+ ± \d\.\d\de-?\d+$|^\d\.\d{3} ± \d\.\d{3}$/);
    await elementShot(page, 'views', '32-repeats-sweep');
    await page.getByTestId('tab-pareto').click();
    // FP, RTN, QAFT and scratch at 1.58 bits, RTN and QAFT at 4 and 2: eight settings, each a mean with an error bar.
    await expect.poll(() => page.getByTestId('view-pareto').locator('.recharts-errorBar').count()).toBe(8);
    await expect(page.getByTestId('view-pareto').textContent()).resolves.toMatch(/one point at the mean, with an error bar of the 95 % interval/);
    await elementShot(page, 'views', '33-repeats-pareto');
    expect(errors).toEqual([]);
  });
});
