/**
 * The Hadamard rotation in the page (Chromium on WebGPU): a link with rot=hadamard sets the
 * quantizer panel's Rotation, runs the comparison rotated, and the weights view shows each layer
 * in its rotated basis with the FP weights' kurtosis and max|w|/σ before → after the rotation.
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

describe('Hadamard rotation in the page', () => {
  it('rot=hadamard from the link: the panel shows it, the comparison runs, and the weights view shows kurtosis before → after', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&backend=webgpu&bits=3&rot=hadamard&rot_seed=3&run=1`);
    await expect.poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 60_000 }).toMatch(/webgpu/i);
    await expect(page.getByTestId('input-rot').inputValue()).resolves.toBe('hadamard');
    await expect(page.getByTestId('input-rot-seed').inputValue()).resolves.toBe('3');
    // FP, RTN, QAFT, scratch.
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 150_000, interval: 1000 }).toBe(4);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);

    await page.getByTestId('tab-weights').click();
    await page.getByTestId('run-histograms').click();
    const view = page.getByTestId('view-weights');
    await expect.poll(() => view.getByTestId('hist-pair').count(), { timeout: 30_000 }).toBe(2);
    const tails = await view.getByTestId('hist-tails').allTextContents();
    expect(tails).toHaveLength(2);
    for (const t of tails) expect(t).toMatch(/kurtosis -?\d+\.\d+ → -?\d+\.\d+, max\|w\|\/σ \d+\.\d+ → \d+\.\d+/);
    // Every layer is quantized (layers=all) and so rotated: its histograms are in the rotated basis.
    const captions = await view.getByTestId('hist-fp').locator('figcaption').allTextContents();
    for (const c of captions) expect(c).toMatch(/rotated, Rᵀ·W\)/);
    await elementShot(page, 'views', '20-rotation-weights');
    await page.getByTestId('input-rot').scrollIntoViewIfNeeded();
    await elementShot(page, 'panel-quant', '21-rotation-control');
    expect(errors).toEqual([]);
    await context.close();
  });
});
