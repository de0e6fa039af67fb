/**
 * The format comparison in the page (Chromium on WebGPU): `run=formats` trains the FP model once,
 * then RTN, GPTQ and QAFT with int4 g128, MXFP4, NVFP4 and FP8 E4M3. QAFT with a format runs the
 * fused format fake-quant kernel (kernels/formats.ts) inside the page's worker; every run ends
 * with a finite test loss. int4 g128 does not fit the tiny MLP's 14 and 16 inputs, so the plan runs
 * int4 with one scale per output channel instead (core/plans.ts fittedGroups) rather than refusing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BASE_URL, TINY, elementShot, launch, watchErrors } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('format comparison in the page', () => {
  it('run=formats: FP, then RTN, GPTQ and QAFT with int4 g128, MXFP4, NVFP4 and FP8, all finite on WebGPU', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&backend=webgpu&run=formats`);
    await expect.poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 60_000 }).toMatch(/webgpu/i);
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 300_000, interval: 1000 }).toBe(13);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);
    const rows = await page.getByTestId('result-row').allTextContents();
    // The tiny MLP's layers have 14 and 16 inputs: int4 g128 falls back to one scale per output channel (asym row).
    for (const label of ['MXFP4 g32', 'NVFP4 g16', 'FP8 E4M3 row', 'asym row'])
      expect(rows.filter((r) => r.includes(label)).length, `${label}: ${rows.join(' | ')}`).toBe(3);
    for (const r of rows) expect(r).not.toMatch(/NaN|Infinity|error/i);
    await elementShot(page, 'results-table', '23-formats-results');
    expect(errors).toEqual([]);
    await context.close();
  });
});
