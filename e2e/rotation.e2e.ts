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
    await elementShot(page, 'quant-panel', '21-rotation-control');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the language model with rot=hadamard: runs folded, and the Layers view lists each linear’s kurtosis and max|w|/σ before and after', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const lm =
      'v=1&task=lm&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=40&lm_steps=10&lm_batch=4&lm_fp_batch=4&bits_attn=3&bits_mlp=3&sample_len=20&log=5&budget=8';
    await page.goto(`${BASE_URL}#${lm}&backend=webgpu&rot=hadamard&run=1`);
    await expect.poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 60_000 }).toMatch(/webgpu/i);
    // FP, RTN, GPTQ, QAFT.
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 280_000, interval: 1000 }).toBe(4);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);
    await page.getByTestId('lm-tab-layers').click();
    await page.mouse.move(0, 0);
    const table = page.getByTestId('lm-tails-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(4);
    const names = await table.locator('tbody td:first-child').allTextContents();
    expect(names).toEqual(['h0.attn.qkv', 'h0.attn.out', 'h0.mlp.fc', 'h0.mlp.proj']);
    for (const cell of await table.locator('tbody td.num').allTextContents()) expect(cell).toMatch(/^-?\d+\.\d\d$/);
    await elementShot(page, 'lm-views', '22-lm-rotation-tails');
    expect(errors).toEqual([]);
    await context.close();
  });
});
