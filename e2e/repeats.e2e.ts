/** repeats=3 in the page: every method over three seeds, the repeats table with mean ± 95 % interval, and the noise verdicts. */
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
    await page.goto(`${BASE_URL}#${TINY}&lr=1e-3&repeats=3&run=1`);
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 240_000, interval: 1000 }).toBe(12);
    const rows = page.getByTestId('repeat-row');
    await expect.poll(() => rows.count()).toBe(4);
    for (let i = 0; i < 4; i++) await expect(rows.nth(i).locator('td').nth(1).textContent()).resolves.toBe('3');
    await expect(page.getByTestId('repeat-diffs').textContent()).resolves.toMatch(/(larger than|within) the seed noise/);
    await elementShot(page, 'repeats-card', '30-repeats');
    expect(errors).toEqual([]);
  });
});
