/** The benchmark's PyTorch ratios and the GPT dimension check (bench/torch.ts). */
import { describe, expect, it } from 'vitest';
import { gptDimensionCheck, gptRatios, toyRatios, type TorchGptLine } from '../bench/torch';
import type { BenchResult } from '../bench/measure';
import type { LmBenchResult } from '../bench/lm';

const toy = (backend: string, bits: 'fp' | 1.58, batch: number, samples: number | null) => ({ backend, bits, batch, samples_per_s: samples }) as BenchResult;
const torchGpt = (bits: number | 'fp', tokens: number, over: Partial<TorchGptLine['config']> = {}): TorchGptLine => ({
  impl: 'PyTorch',
  bits,
  threads: 2,
  config: { vocab: 70, context: 64, layers: 4, heads: 4, d_model: 128, batch: 16, norm: 'LayerNorm', mlp: 'GELU 4x', head: 'tied', ...over },
  params: 800_000,
  warmup_steps: 3,
  timed_steps: 12,
  ms_per_step: 100,
  tokens_per_s: tokens,
  final_loss_mean: 4,
  loadavg: [1, 1, 1],
});

describe('bench torch ratios', () => {
  it('pairs each wasm toy point with PyTorch at the same bits and batch (FP = bits null)', () => {
    const r = toyRatios(
      [toy('wasm', 'fp', 256, 1000), toy('wasm', 1.58, 256, 600), toy('cpu', 'fp', 256, 50), toy('wasm', 'fp', 1024, null), toy('wasm', 'fp', 4096, 900)],
      [
        { bits: null, batch: 256, ms_per_step: 1, samples_per_s: 2000 },
        { bits: 1.58, batch: 256, ms_per_step: 1, samples_per_s: 400 },
        { bits: 4, batch: 256, ms_per_step: 1, samples_per_s: 1 },
        { bits: null, batch: 1024, ms_per_step: 1, samples_per_s: 10 },
      ],
    );
    expect(r).toEqual([
      { bits: 'fp', batch: 256, wasm_samples_per_s: 1000, torch_samples_per_s: 2000, wasm_over_torch: 0.5 },
      { bits: 1.58, batch: 256, wasm_samples_per_s: 600, torch_samples_per_s: 400, wasm_over_torch: 1.5 },
    ]);
  });

  it('divides wasm GPT tokens/s by PyTorch FP and QAFT', () => {
    const lm = [
      { backend: 'wasm', variant: 'fp', batch: 16, tokens_per_s: 1500 },
      { backend: 'wasm', variant: 'qaft', batch: 16, tokens_per_s: 1000 },
      { backend: 'cpu', variant: 'fp', batch: 4, tokens_per_s: 10 },
    ] as LmBenchResult[];
    expect(gptRatios(lm, { fp: torchGpt('fp', 3000), qaft: torchGpt(3, 3000) }).map((r) => [r.variant, r.wasm_over_torch])).toEqual([
      ['fp', 0.5],
      ['qaft', 0.333],
    ]);
    expect(gptRatios(lm, {})).toEqual([]);
  });

  it('checks the PyTorch GPT against the bench LM and names what differs', () => {
    const lab = { vocab: 70, context: 64, layers: 4, heads: 4, dModel: 128, norm: 'rms', batch: 16, params: 810_000 };
    const ok = gptDimensionCheck(lab, torchGpt('fp', 1));
    expect(ok.match).toBe(true);
    expect(ok.differences.join(' ')).toMatch(/RMSNorm.*LayerNorm/);
    const bad = gptDimensionCheck(lab, torchGpt('fp', 1, { d_model: 256, batch: 32 }));
    expect(bad.match).toBe(false);
    expect(bad.mismatches).toEqual(['d_model: lab 128, torch 256', 'batch: lab 16, torch 32']);
  });
});
