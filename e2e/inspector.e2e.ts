/**
 * The block inspector end to end in Chromium on WebGPU, on the tiny MLP and the tiny GPT: FP
 * trained once, then int4 g128, MXFP4 and NVFP4 chosen by link (the FP model stays cached), the
 * inspector opened on the block with the largest error, its scale rows, levels plot and values,
 * keyboard navigation between blocks. Screenshots of the views card for each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TINY, elementShot, launch, watchErrors, openLab as open } from './browser';

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
});

afterAll(async () => {
  await browser?.close();
});

/** The MLP 14 → 128 → 200 with its first layer kept FP (14 inputs take no group of 128). */
const POLY = `${TINY.replace('width=16', 'width=128')}&layers=nofirst`;
/** A one-block GPT with d = 128, so every block linear has a multiple of 128 inputs. */
const LM = 'v=1&task=lm&lm_layers=1&lm_heads=2&lm_d=128&lm_ctx=16&lm_pre=0&lm_fp_steps=20&lm_steps=10&lm_batch=4&lm_fp_batch=4&sample_len=20&log=10&budget=8';

interface Case {
  name: string;
  params: string;
  /** The quantizer label the inspector's title shows. */
  label: string;
  /** Scale rows it must show. */
  scale: string[];
}
const CASES: Case[] = [
  { name: 'int4-g128', params: 'scheme=sym-narrow&gran=group&group=128', label: 'int4 sym-narrow g128', scale: ['scale', 'zero point', '-7 … 7'] },
  { name: 'mxfp4', params: 'scheme=mxfp4', label: 'MXFP4 g32', scale: ['E8M0 scale code', 'shared exponent'] },
  { name: 'nvfp4', params: 'scheme=nvfp4', label: 'NVFP4 g16', scale: ['FP32 tensor scale', 'E4M3 block scale', 'total scale'] },
];

const idle = async (page: Page) => expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 200_000, interval: 500 }).toBe(true);

async function inspectAll(page: Page, base: string, bits: string, tab: string, card: string, prefix: string): Promise<void> {
  for (const c of CASES) {
    await page.evaluate((h) => {
      location.hash = h;
    }, `${base}&${bits}&${c.params}`);
    await page.getByTestId(tab).click();
    await expect.poll(() => page.getByTestId('run-inspect').isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('run-inspect').click();
    const title = page.getByTestId('inspect-title');
    await expect.poll(async () => (await title.count()) && ((await title.textContent()) ?? ''), { timeout: 60_000 }).toContain(c.label);
    await expect(page.getByTestId('inspect-stale').count()).resolves.toBe(0);
    const scale = (await page.getByTestId('inspect-scale').textContent()) ?? '';
    for (const s of c.scale) expect(scale).toContain(s);
    // Opens on the block with the largest error; a finite SQNR in dB.
    await expect(page.getByTestId('inspect-where').textContent()).resolves.toContain('the largest error');
    await expect(page.getByTestId('inspect-error-sqnr').textContent()).resolves.toMatch(/^-?\d+(\.\d+)? dB$/);
    // Levels (blue lines) and one arrow/dot row per value.
    const plot = page.getByTestId('inspect-plot');
    await expect.poll(() => plot.locator('line').count()).toBeGreaterThan(5);
    const n = await page.getByTestId('inspect-values').locator('tbody tr').count();
    await expect(plot.locator('circle').count()).resolves.toBe(n);
    expect(n).toBe(c.name === 'int4-g128' ? 128 : c.name === 'mxfp4' ? 32 : 16);
    await elementShot(page, card, `${prefix}-${c.name}`);

    // Keyboard: → moves to the next block (or ← when the largest error is the last one), Home goes back.
    const unit = page.getByTestId('inspect-unit');
    const at = Number(await unit.inputValue());
    const last = Number(await unit.getAttribute('max'));
    await page.getByTestId('inspect-detail').focus();
    await page.keyboard.press(at < last ? 'ArrowRight' : 'ArrowLeft');
    await expect.poll(() => unit.inputValue(), { timeout: 30_000 }).toBe(String(at < last ? at + 1 : at - 1));
    await expect(page.getByTestId('inspect-where').textContent()).resolves.not.toContain('the largest error');
    await page.getByTestId('inspect-detail').focus();
    await page.keyboard.press('Home');
    await expect.poll(() => unit.inputValue(), { timeout: 30_000 }).toBe(String(at));
  }
}

describe('the block inspector in Chromium on WebGPU', () => {
  it('the tiny MLP: int4 g128, MXFP4 and NVFP4 blocks of its FP model', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await open(page, `${POLY}&bits=4&${CASES[0].params}`);
    await page.getByTestId('run-fp').click();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 120_000, interval: 500 }).toBe(1);
    await idle(page);
    await inspectAll(page, POLY, 'bits=4', 'tab-inspector', 'views', '70-inspector-mlp');
    // The layer picker lists the FP first layer as not quantized.
    await expect(page.getByTestId('inspect-layer').textContent()).resolves.toContain('FP32');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the tiny GPT: int4 g128, MXFP4 and NVFP4 blocks of its block linears', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await open(page, `${LM}&bits_attn=4&bits_mlp=4&${CASES[0].params}`);
    await page.getByTestId('run-fp').click();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 200_000, interval: 1000 }).toBe(1);
    await idle(page);
    await inspectAll(page, LM, 'bits_attn=4&bits_mlp=4', 'lm-tab-inspector', 'lm-views', '71-inspector-lm');
    // Another layer from the picker: the MLP's projection (512 inputs).
    const picker = page.getByTestId('inspect-layer');
    await picker.selectOption({ label: 'h0.mlp.proj — NVFP4 g16' });
    await expect.poll(() => page.getByTestId('inspect-title').textContent(), { timeout: 60_000 }).toContain('h0.mlp.proj [512 × 128]');
    expect(errors).toEqual([]);
    await page.close();
  });
});
