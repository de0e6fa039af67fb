/**
 * The language-model task end to end in Chromium on WebGPU: a tiny GPT comparison (FP → RTN →
 * GPTQ → QAFT) from its URL, the validation-NLL curves, the side-by-side text samples (and new
 * ones from another prompt), the per-layer error view, the table; bad input (an empty own
 * text, missing checkpoint files, a text URL that cannot be fetched) is reported and loses
 * nothing; runs of both tasks share the list.
 */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { bpeTokenizerJson, gpt2Config, gpt2Tensors, safetensorsOf, type ModelSpec } from '../test/helpers/hf-fixtures';
import { SHOTS, launch, shot, watchErrors, openLab as open } from './browser';

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
});

/**
 * A tiny GPT (SwiftShader runs WebGPU on the CPU), pretrained here for 40 steps; attention and
 * MLP at 2 bits, so that the quantized models' samples (same prompt, same seed) differ from FP's.
 */
const TINY_LM =
  'v=1&task=lm&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=40&lm_steps=20&lm_batch=4&lm_fp_batch=4&bits_attn=2&bits_mlp=2&sample_len=80&log=10&budget=16';

async function cardShot(page: Page, testId: string, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.getByTestId(testId).screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

const rows = (page: Page) => page.getByTestId('result-row');
const idle = async (page: Page) => expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);
const sampleTexts = (page: Page) => page.getByTestId('lm-samples').getByTestId('lm-sample-text').allTextContents();
const messages = async (page: Page) => (await page.getByTestId('messages').textContent()) ?? '';

describe('the language-model task in Chromium on WebGPU', () => {
  let page: Page;
  let errors: string[];

  it('runs a tiny GPT comparison from its URL: curves, four different text samples, the table', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await open(page, `${TINY_LM}&run=1`);
    await expect(page.getByTestId('task-lm').getAttribute('aria-checked')).resolves.toBe('true');
    await expect(page.getByTestId('input-lm-layers').inputValue()).resolves.toBe('1');
    // FP, RTN, GPTQ, QAFT.
    await expect.poll(() => rows(page).count(), { timeout: 280_000, interval: 1000 }).toBe(4);
    await idle(page);
    const table = (await page.getByTestId('results-table').textContent()) ?? '';
    for (const s of ['FP', 'RTN', 'GPTQ', 'QAFT', '2b', 'KiB']) expect(table).toContain(s);
    for (const h of ['Val NLL', 'Perplexity', 'Δ vs FP']) await expect(page.getByRole('columnheader', { name: h }).count()).resolves.toBe(1);
    // Every row has a finite validation NLL and perplexity.
    const nll = await rows(page).locator('td:nth-child(5)').allTextContents();
    expect(nll.every((t) => Number.isFinite(Number(t)) && Number(t) > 0)).toBe(true);
    const ppl = await rows(page).locator('td:nth-child(6)').allTextContents();
    expect(ppl.every((t) => Number(t) >= 1)).toBe(true);

    // Curves: FP and QAFT, validation (solid) and train (dashed); RTN and GPTQ as lines.
    const chart = page.getByTestId('loss-chart');
    await expect.poll(() => chart.locator('path.recharts-curve').count()).toBeGreaterThanOrEqual(4);
    await expect(chart.textContent()).resolves.toContain('validation NLL (nats/token)');

    // Four samples side by side, all from the prompt "The ", all different.
    await expect.poll(() => page.getByTestId('lm-sample').count()).toBe(4);
    const texts = await sampleTexts(page);
    expect(texts).toHaveLength(4);
    expect(texts.every((t) => t.startsWith('The '))).toBe(true);
    expect(new Set(texts).size).toBe(4);
    await expect(page.getByTestId('lm-samples').locator('mark.prompt').count()).resolves.toBe(4);
    await shot(page, '20-lm-comparison');
    await cardShot(page, 'lm-samples', '21-lm-samples');
    await cardShot(page, 'results-card', '22-lm-table');
    expect(errors).toEqual([]);
  });

  it('draws new samples from the kept models with another prompt', async () => {
    await page.getByTestId('lm-new-prompt').fill('And ');
    await expect.poll(() => page.url()).toContain('prompt=And');
    await page.getByTestId('lm-resample').click();
    await expect.poll(async () => (await sampleTexts(page)).filter((t) => t.startsWith('And ')).length, { timeout: 120_000, interval: 500 }).toBe(4);
    await idle(page);
    const marks = await page.getByTestId('lm-samples').locator('mark.prompt').allTextContents();
    expect(marks).toEqual(['And ', 'And ', 'And ', 'And ']);
    await cardShot(page, 'lm-samples', '23-lm-new-prompt');
  });

  it('per-layer local error of RTN, GPTQ and QAFT, and the error-vs-size view', async () => {
    await page.getByTestId('lm-tab-layers').click();
    await page.mouse.move(0, 0); // no tooltip in the screenshots
    const view = page.getByTestId('view-lm-layers');
    await expect.poll(() => view.locator('.recharts-bar-rectangle').count()).toBeGreaterThan(3);
    const linears = await view.getByTestId('lm-layer-table').locator('tbody td:first-child').allTextContents();
    expect(linears.some((n) => /^h0\./.test(n))).toBe(true);
    await cardShot(page, 'lm-views', '24-lm-layers');
    await page.getByTestId('lm-tab-pareto').click();
    await page.mouse.move(0, 0);
    await expect.poll(() => page.getByTestId('view-pareto').locator('.recharts-scatter-symbol').count()).toBeGreaterThanOrEqual(4);
    await cardShot(page, 'lm-views', '25-lm-pareto');
    // The polynomial views are not offered for the LM.
    await expect(page.getByTestId('tab-landscape').count()).resolves.toBe(0);
    await expect(page.getByTestId('poly-plot').count()).resolves.toBe(0);
  });

  it('bad input is reported and loses nothing: an empty own text, missing files, an unreachable text URL', async () => {
    const before = await rows(page).count();
    // An empty own text: the engine takes it, and a run on it fails with the engine's message.
    await page.getByTestId('input-lm-text').selectOption('own');
    await page.getByTestId('lm-use-text').click();
    await expect.poll(async () => (await page.getByTestId('lm-text-held').textContent()) ?? '', { timeout: 30_000 }).toMatch(/0 characters.*empty/);
    let nMsgs = await page.getByTestId('message').count();
    await page.getByTestId('run-fp').click();
    await expect.poll(() => page.getByTestId('message').count(), { timeout: 60_000 }).toBeGreaterThan(nMsgs);
    await idle(page);
    await expect(page.getByTestId('message').last().textContent()).resolves.toMatch(/Error/);
    await expect(rows(page).count()).resolves.toBe(before);

    // Checkpoint files without the weights.
    await page.getByTestId('input-lm-src').selectOption('files');
    await page
      .getByTestId('lm-files-drop-input')
      .setInputFiles([{ name: 'config.json', mimeType: 'application/json', buffer: Buffer.from('{"model_type":"gpt2"}') }]);
    await expect.poll(() => page.getByTestId('lm-files-held').getByRole('alert').count(), { timeout: 30_000 }).toBe(1);
    await expect(page.getByTestId('lm-files-held').getByRole('alert').textContent()).resolves.toMatch(/safetensors/i);

    // A text URL that cannot be fetched: the run fails with the worker's message.
    await page.getByTestId('input-lm-src').selectOption('tiny');
    await page.getByTestId('input-lm-text').selectOption('url');
    await page.getByTestId('input-lm-text-url').fill('http://127.0.0.1:9/no-such-text.txt');
    nMsgs = await page.getByTestId('message').count();
    await page.getByTestId('run-fp').click();
    await expect.poll(() => page.getByTestId('message').count(), { timeout: 60_000 }).toBeGreaterThan(nMsgs);
    await idle(page);
    expect(await messages(page)).toMatch(/no-such-text|fetch/i);
    await expect(rows(page).count()).resolves.toBe(before);
    await expect.poll(() => page.getByTestId('lm-sample').count()).toBe(0); // other settings: no samples shown
    await shot(page, '26-lm-bad-input');

    // Back to the lab corpus: the runs, curves and samples are all still there.
    await page.getByTestId('input-lm-text').selectOption('builtin');
    await expect.poll(() => page.getByTestId('lm-sample').count()).toBe(4);
    await expect(rows(page).count()).resolves.toBe(before);
  });

  it('runs of both tasks share the list; each task shows its own', async () => {
    await page.getByTestId('task-poly').click();
    await expect.poll(() => page.url()).not.toContain('task=lm');
    await expect(rows(page).count()).resolves.toBe(0);
    await expect(page.getByTestId('other-task-runs').textContent()).resolves.toMatch(/4 runs of the language model/);
    await expect(page.getByTestId('lm-samples').count()).resolves.toBe(0);
    await page.getByTestId('task-lm').click();
    await expect.poll(() => rows(page).count()).toBe(4);
    // Saved in IndexedDB: still there after a reload.
    await page.reload();
    await page.getByTestId('backend-badge').waitFor();
    await expect.poll(() => rows(page).count(), { timeout: 20_000 }).toBe(4);
    // The refused fetch of the bad text URL is logged by the browser; nothing else may be.
    expect(errors.filter((e) => !/no-such-text|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([]);
  });

  it('a GPT-2 checkpoint dropped as files, on my own pasted text: FP and RTN run on them', async () => {
    // A tiny random GPT-2 with a BPE tokenizer learned from the text (made here: no network).
    const text = 'the cat sat on the mat. the dog ran to the cat and the cat ran home. a bird sang; the dog slept.\n'.repeat(60);
    const tok = bpeTokenizerJson(text, 40, 'gpt2');
    const spec: ModelSpec = { layers: 1, d: 16, heads: 2, vocab: parseHfTokenizer(tok).vocab, nPos: 64, inner: 64 };
    const before = await rows(page).count();
    await page.getByTestId('input-lm-src').selectOption('files');
    await page.getByTestId('lm-files-drop-input').setInputFiles([
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(gpt2Config(spec))) },
      { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(safetensorsOf(gpt2Tensors(spec, 11))) },
      { name: 'tokenizer.json', mimeType: 'application/json', buffer: Buffer.from(tok) },
    ]);
    await expect.poll(() => page.getByTestId('lm-files-held').locator('li').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId('lm-files-held').getByRole('alert').count()).resolves.toBe(0);
    await page.getByTestId('input-lm-text').selectOption('own');
    await page.getByTestId('input-lm-own-text').fill(text);
    await page.getByTestId('lm-use-text').click();
    await expect
      .poll(async () => (await page.getByTestId('lm-text-held').textContent()) ?? '', { timeout: 30_000 })
      .toContain(`${text.length.toLocaleString('en-US')} characters`);
    // Nothing of it goes into the link.
    expect(page.url()).toContain('lm_src=files');
    expect(page.url()).not.toContain('cat');
    await page.getByTestId('run-rtn').click();
    // FP (the checkpoint, evaluated) first, as RTN needs it.
    await expect.poll(() => rows(page).count(), { timeout: 200_000, interval: 1000 }).toBe(before + 2);
    await idle(page);
    const table = (await page.getByTestId('results-table').textContent()) ?? '';
    expect(table).toContain('dropped checkpoint');
    await expect.poll(() => page.getByTestId('lm-sample').count()).toBe(2);
    await shot(page, '27-lm-dropped-checkpoint');
    expect(errors.filter((e) => !/no-such-text|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([]);
  });
});
