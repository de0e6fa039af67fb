/**
 * The GPT benchmark's format variants (`npm run bench -- --lm-formats …`): the flag's parsing, the
 * quantizers each variant trains with (the lab's own for the same link), and the ratio to FP that
 * the bench's MLP points and GPT variants share (bench/measure.ts withFpRatio).
 */
import { describe, expect, it } from 'vitest';
import { parseLmFormats, type LmBenchResult } from '../bench/lm';
import { QUANT_STEP_BAR, withFpRatio, type BenchResult } from '../bench/measure';
import { gptRatios, type TorchGptLine } from '../bench/torch';
import { weightQuantLabel } from '../src/engine/core/layerquant';
import { FORMAT_INFO } from '../src/engine/core/quantizers/formats';
import { isLmVariant, lmBenchConfig, lmBenchQuant, lmVariantLabel } from '../src/engine/lm/bench';
import { lmComponentQuant, LM_COMPONENTS } from '../src/engine/lm/spec';
import { parseParams } from '../src/engine/url';

describe('--lm-formats', () => {
  it('takes a comma-separated list of format schemes, trims it and drops repeats', () => {
    expect(parseLmFormats('mxfp4,nvfp4,fp8-e4m3')).toEqual({ formats: ['mxfp4', 'nvfp4', 'fp8-e4m3'] });
    expect(parseLmFormats(' mxfp4 , mxfp4,mxint8,')).toEqual({ formats: ['mxfp4', 'mxint8'] });
  });

  it('refuses an unknown name or an empty list with a message naming the formats', () => {
    for (const bad of ['mxfp5', 'mxfp4,int4', 'fp', 'qaft', 'MXFP4']) {
      const r = parseLmFormats(bad);
      expect('error' in r && r.error, bad).toMatch(/^--lm-formats: unknown format .* \(use fp8-e4m3, .*nvfp4\)$/);
    }
    for (const empty of ['', ' , ']) expect(parseLmFormats(empty)).toEqual({ error: expect.stringMatching(/needs at least one of fp8-e4m3/) });
  });
});

describe('the GPT bench variants', () => {
  it('names fp, qaft and the formats as variants, and nothing else', () => {
    for (const v of ['fp', 'qaft', 'mxfp4', 'nvfp4', 'fp8-e4m3']) expect(isLmVariant(v)).toBe(true);
    for (const v of ['int3', 3, 'FP', 'mxfp5']) expect(isLmVariant(v)).toBe(false);
    expect(['fp', 'qaft', 'mxfp4', 'fp8-e4m3'].map((v) => lmVariantLabel(v as 'fp'))).toEqual(['FP', 'int3 QAFT', 'MXFP4 QAFT', 'FP8 E4M3 QAFT']);
  });

  it('quantizes attention and MLP as the lab does for task=lm&scheme=<format>&bits_attn=<b>&bits_mlp=<b>; embeddings and head stay FP', () => {
    for (const f of ['mxfp4', 'nvfp4', 'fp8-e4m3', 'mxfp6-e3m2', 'mxint8'] as const) {
      const b = FORMAT_INFO[f].bits;
      const link = parseParams(`v=1&task=lm&scheme=${f}&bits_attn=${b}&bits_mlp=${b}`);
      expect(link.messages).toEqual([]);
      const c = lmBenchConfig(f);
      for (const k of LM_COMPONENTS) expect(lmComponentQuant(c, k), `${f} ${k}`).toEqual(lmComponentQuant(link.config, k));
      expect(c.quant.actBits).toBe(link.config.quant.actBits);
    }
    expect(lmBenchQuant('mxfp4').labels).toEqual({ embed: 'FP32', attn: 'MXFP4 g32', mlp: 'MXFP4 g32', head: 'FP32' });
    expect(lmBenchQuant('nvfp4').labels).toEqual({ embed: 'FP32', attn: 'NVFP4 g16', mlp: 'NVFP4 g16', head: 'FP32' });
    expect(lmBenchQuant('fp8-e4m3').labels).toEqual({ embed: 'FP32', attn: 'FP8 E4M3 row', mlp: 'FP8 E4M3 row', head: 'FP32' });
    expect(Object.keys(lmBenchQuant('mxfp4').quant).sort()).toEqual(['attn', 'mlp']);
    // The default variant is unchanged: int3 per row on attention and MLP.
    const int3 = lmBenchQuant('qaft');
    expect([int3.labels.attn, int3.labels.mlp]).toEqual(['int3 absmax row', 'int3 absmax row']);
    expect(weightQuantLabel(int3.quant.attn!.weight)).toBe('int3 absmax row');
  });
});

describe('ratio to FP (shared by the MLP points and the GPT variants)', () => {
  const lm = (backend: string, variant: LmBenchResult['variant'], batch: number, ms: number | null) =>
    ({ backend, variant, batch, ms_per_step: ms, tokens_per_s: ms && Math.round((batch * 64 * 1000) / ms) }) as LmBenchResult;

  it('divides each GPT variant by the FP step of its backend and batch, and checks the 1.25× bar', () => {
    const rows = withFpRatio(
      [lm('wasm', 'fp', 32, 400), lm('wasm', 'qaft', 32, 420), lm('wasm', 'mxfp4', 32, 520), lm('wasm', 'nvfp4', 32, 500), lm('webgpu', 'mxfp4', 1, null)],
      (r) => r.variant === 'fp',
    );
    expect(rows.map((r) => [r.variant, r.ratio_to_fp, r.within_1_25x])).toEqual([
      ['fp', null, null],
      ['qaft', 1.05, true],
      ['mxfp4', 1.3, false],
      ['nvfp4', QUANT_STEP_BAR, true],
      ['mxfp4', null, null], // counts only: no time, no ratio
    ]);
    // Another batch has no FP to compare with.
    expect(withFpRatio([lm('wasm', 'fp', 32, 400), lm('wasm', 'mxfp4', 16, 300)], (r) => r.variant === 'fp')[1].ratio_to_fp).toBeNull();
  });

  it('keeps the MLP points paired by fused kernels as before', () => {
    const p = (bits: BenchResult['bits'], fused: boolean, ms: number) => ({ backend: 'wasm', bits, batch: 256, fused, ms_per_step: ms }) as BenchResult;
    const rows = withFpRatio(
      [p('fp', true, 100), p('fp', false, 200), p('mxfp4', true, 110), p('mxfp4', false, 300)],
      (r) => r.bits === 'fp',
      (a, b) => a.fused === b.fused,
    );
    expect(rows.map((r) => r.ratio_to_fp)).toEqual([null, null, 1.1, 1.5]);
  });

  it('uses the interleaved medians (the variant and FP timed in turn) when a point has them', () => {
    const p = (bits: BenchResult['bits'], ms: number, extra = {}) =>
      ({ backend: 'wasm', bits, batch: 256, fused: true, ms_per_step: ms, ...extra }) as BenchResult;
    const rows = withFpRatio(
      [p('fp', 80), p('mxfp4', 104, { interleaved_ms_per_step: 84, interleaved_fp_ms_per_step: 75 }), p('nvfp4', 104)],
      (r) => r.bits === 'fp',
    );
    expect(rows.map((r) => [r.ratio_to_fp, r.within_1_25x])).toEqual([
      [null, null],
      [1.12, true],
      [1.3, false],
    ]);
  });

  it('gives PyTorch ratios for FP and int3 QAFT only (the reference has no formats)', () => {
    const t = { config: { batch: 16 }, tokens_per_s: 1000 } as TorchGptLine;
    const r = gptRatios([lm('wasm', 'fp', 16, 500), lm('wasm', 'mxfp4', 16, 600), lm('wasm', 'qaft', 16, 550)], { fp: t, qaft: t });
    expect(r.map((x) => x.variant)).toEqual(['fp', 'qaft']);
  });
});
