/**
 * Activation quantization and SmoothQuant in the page: a link with a static MSE observer per
 * tensor and SmoothQuant runs the comparison (scratch without the scales, with its note), the
 * run names say so, and a static observer per token is refused at its key with a message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BASE_URL, elementShot, launch, TINY, watchErrors } from './browser';

let browser: Browser;
let page: Page; // a fresh page per test: a link's messages are shown when the page loads
let errors: string[];

beforeAll(async () => {
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
});

describe('activation quantization in Chromium', () => {
  it('W4A8 with a static MSE observer and SmoothQuant: the comparison runs and names the settings', async () => {
    await page.goto(`${BASE_URL}#${TINY}&bits=4&abits=8&aobs=mse&agran=tensor&smooth=smoothquant&run=1`);
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 240_000, interval: 1000 }).toBe(4);
    const rows = await page.getByTestId('result-row').allTextContents();
    // RTN and QAFT quantize with SmoothQuant's scales; scratch says it has none; the trained runs calibrate before training.
    expect(rows.filter((t) => t.includes('SmoothQuant (α 0.5) scales from the FP activations of 64 calibration examples'))).toHaveLength(2);
    expect(rows[3]).toContain('scratch starts from a random init and quantizes without them');
    expect(rows.filter((t) => t.includes('Static activation scales (mse) calibrated on the starting model'))).toHaveLength(2);
    await expect(page.getByTestId('input-aobs').inputValue()).resolves.toBe('mse');
    await expect(page.getByTestId('input-smooth').inputValue()).resolves.toBe('smoothquant');
    await elementShot(page, 'quant-panel', '40-actquant-panel');
    expect(errors).toEqual([]);
  });

  it('a static observer per token (agran=token) is refused at the key, with the default kept', async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&abits=8&aobs=percentile`);
    await page.getByTestId('backend-badge').waitFor();
    await expect(page.getByTestId('url-messages').textContent()).resolves.toMatch(/aobs.*one scale per tensor/);
    await expect(page.getByTestId('input-aobs').inputValue()).resolves.toBe('dynamic');
    expect(errors).toEqual([]);
  });
});
