/** The speed page's suite (src/engine/speed.ts) on the real wasm backend, with a tiny plan. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { benchTokens } from '../src/engine/lm/bench';
import { matmulGflops, runSpeedSuite, speedPlan, type SpeedPlan } from '../src/engine/speed';
import { useBackend } from './helpers/backend';

const TINY: SpeedPlan = {
  matmulSizes: [32, 64],
  matmulMs: 5,
  toyBatches: [8],
  toyPlan: { warmup: 1, timed: 2 },
  gptBatch: 1,
  gptPlan: { warmup: 0, timed: 2 },
};

describe('speed suite', () => {
  it('measures matmul GFLOP/s from the products it times', async () => {
    await useBackend();
    const p = await matmulGflops(64, 5);
    expect(p.reps).toBeGreaterThanOrEqual(1);
    // 2n³ flops per product over the timed milliseconds (ms is rounded to 0.01 in the result).
    expect(p.gflops / ((2 * 64 ** 3 * p.reps) / (p.ms * 1e6))).toBeCloseTo(1, 1);
    expect(p.gflops).toBeGreaterThan(0);
  });

  it('runs matmuls, the toy MLP (FP, 1.58-bit, MXFP4, NVFP4) and the GPT (FP, int3 and MXFP4 QAFT) and leaves no tensor behind', async () => {
    await useBackend();
    const before = tf.memory().numTensors;
    const labels: string[] = [];
    const tokens = benchTokens('the quick brown fox jumps over the lazy dog. '.repeat(40));
    const r = await runSpeedSuite(TINY, tokens, (l) => labels.push(l));
    expect(tf.memory().numTensors).toBe(before);
    expect(r.matmul.map((m) => m.n)).toEqual([32, 64]);
    expect(r.toy.map((t) => t.bits)).toEqual(['fp', 1.58, 'mxfp4', 'nvfp4']);
    for (const t of r.toy) {
      expect(t.batch).toBe(8);
      expect(t.per_s).toBeGreaterThan(0);
      expect(t.per_s).toBeCloseTo((8 * 1000) / t.ms_per_step!, -1);
      expect(t.leaked_tensors_per_step).toBe(0);
      expect(t.gpu_programs_per_step).toBeNull(); // not webgpu
      expect(t.kernels_per_step).toBeGreaterThan(10);
    }
    // A quantized step runs the fake-quant kernels on top of the FP step's (a format's: one fused kernel per weight, 5 layers).
    for (const t of r.toy.slice(1)) expect(t.kernels_per_step, String(t.bits)).toBeGreaterThan(r.toy[0].kernels_per_step);
    expect(r.toy[2].kernels_per_step - r.toy[0].kernels_per_step).toBe(5);
    expect(r.gpt.map((g) => g.variant)).toEqual(['fp', 'qaft', 'mxfp4']);
    for (const g of r.gpt) {
      expect(g.per_s).toBeGreaterThan(0);
      expect(g.leaked_tensors_per_step).toBe(0);
      expect(g.params).toBeGreaterThan(DEFAULT_CONFIG.lm.layers * 12 * DEFAULT_CONFIG.lm.dModel ** 2);
    }
    expect(r.gpt[0].quant).toEqual({});
    expect(Object.values(r.gpt[1].quant).some((q) => /3/.test(q))).toBe(true);
    expect(r.gpt[2].quant).toEqual({ embed: 'FP32', attn: 'MXFP4 g32', mlp: 'MXFP4 g32', head: 'FP32' });
    // 16 quantized matrices (4 blocks × qkv, out, fc, proj): one fused fake-quant kernel each.
    expect(r.gpt[2].kernels_per_step - r.gpt[0].kernels_per_step).toBe(16);
    expect(labels.length).toBe(2 + 4 + 3);
    expect(labels).toContain('MLP 512×4 MXFP4 batch 8');
    expect(labels).toContain('GPT MXFP4 QAFT batch 1');
  }, 120_000);

  it('gives slow backends smaller work', () => {
    const fast = speedPlan('quick', false);
    const slow = speedPlan('quick', true);
    expect(Math.max(...slow.matmulSizes)).toBeLessThan(Math.max(...fast.matmulSizes));
    expect(slow.gptBatch).toBeLessThan(fast.gptBatch);
    expect(speedPlan('full', false).toyBatches).toEqual([256, 1024, 4096]);
  });
});
