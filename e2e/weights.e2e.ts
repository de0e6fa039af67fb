/**
 * Quantized weights as safetensors in Chromium on WebGPU: after a tiny GPT comparison, the RTN
 * card's "Download quantized weights (safetensors)" downloads a file the lab's own checkpoint
 * loader reads (the tiny GPT's own layout), whose header lists every weight and the codes and
 * scales of the quantized ones, and whose metadata names the scheme; config.json comes with it.
 * QAFT's card (weights fake-quantized on the GPU) downloads a file that loads too.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import { loadGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt } from '../src/engine/lm/gpt';
import { parseSafetensors } from '../src/engine/lm/safetensors';
import { BASE_URL, elementShot, launch, watchErrors } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

/** A tiny GPT pretrained here for 30 steps; attention and MLP at 3 bits in groups of 8 (asym). */
const TINY_LM =
  'v=1&task=lm&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=30&lm_steps=10&lm_batch=4&lm_fp_batch=4&bits_attn=3&bits_mlp=3&scheme=asym&gran=group&group=8&sample_len=20&log=10&budget=16';

describe('downloading quantized weights in Chromium on WebGPU', () => {
  let page: Page;

  it('the RTN card downloads a safetensors file with the weights, their codes and scales, and config.json', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY_LM}&run=1`);
    await expect.poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 60_000 }).toMatch(/webgpu/i);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 240_000, interval: 500 }).toBe(true);
    const card = page.getByTestId('lm-samples').locator('[data-testid="lm-sample"][data-method="rtn"]');
    const button = card.getByTestId('lm-download-weights');
    await expect(button.textContent()).resolves.toBe('Download quantized weights (safetensors)');
    await elementShot(page, 'lm-samples', 'lm-export-buttons');
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await button.click();
    await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(2);
    const byName = new Map(downloads.map((d) => [d.suggestedFilename(), d]));
    expect([...byName.keys()].sort()).toEqual(['rtn-3b-asym.config.json', 'rtn-3b-asym.safetensors']);
    const bytes = new Uint8Array(readFileSync((await byName.get('rtn-3b-asym.safetensors')!.path())!));
    const { tensors, metadata } = parseSafetensors(bytes);
    const names = [...tensors.keys()];
    for (const n of ['wte', 'wpe', 'h0.wqkv', 'h0.wqkv.qweight', 'h0.wqkv.scales', 'h0.wqkv.zeros', 'h0.wproj.qweight', 'headBias'])
      expect(names, n).toContain(n);
    expect(tensors.get('h0.wqkv.qweight')!.dtype).toBe('U8');
    // 16 inputs in groups of 8: two groups per output channel.
    expect(tensors.get('h0.wqkv.scales')!.shape).toEqual([2, 48]);
    const q = JSON.parse(metadata.quantization) as { method: string; tensors: Record<string, { scheme: string; bits: number; group_size: number }> };
    expect(q.method).toBe('rtn');
    expect(q.tensors['h0.wqkv']).toMatchObject({ scheme: 'asym', bits: 3, granularity: 'group', group_size: 8 });
    // The lab's own loader reads it (code tensors skipped).
    const { model } = loadGpt(bytes, { name: 'download' });
    expect(model.config.dModel).toBe(16);
    disposeGpt(model);
    const config = JSON.parse(readFileSync((await byName.get('rtn-3b-asym.config.json')!.path())!, 'utf8'));
    expect(config).toMatchObject({ layers: 1, heads: 2, dModel: 16, context: 16 });
    await expect.poll(async () => (await page.getByTestId('messages').textContent()) ?? '').toMatch(/Downloaded the weights of "RTN 3b asym"/);
    // QAFT's latent weights are fake-quantized on WebGPU; its codes are found from what the GPU computed.
    await page.getByTestId('lm-samples').locator('[data-testid="lm-sample"][data-method="qaft"]').getByTestId('lm-download-weights').click();
    await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(4);
    const qaft = downloads.find((d) => d.suggestedFilename().startsWith('qaft-') && d.suggestedFilename().endsWith('.safetensors'))!;
    const qbytes = new Uint8Array(readFileSync((await qaft.path())!));
    expect(JSON.parse(parseSafetensors(qbytes).metadata.quantization).method).toBe('qaft');
    disposeGpt(loadGpt(qbytes).model);
    expect(errors).toEqual([]);
    await context.close();
  });
});
