/**
 * Quantizer values on hand-checked tensors (src/engine/quant.ts), against the reference
 * vectors of /work/shared/reference/vectors/refvectors.out (torch semantics, fp32).
 * Weights are stored [in, out]: "row" granularity = one scale per output channel = a
 * reduction over axis 0.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeQuantActivation, fakeQuantWeight, intAbsmax, quantizeActivation, quantizeWeight, ternaryAbsmean } from '../src/engine/core/quant';
import { useBackend } from './helpers/backend';
import { allFinite, expectClose, readAndDispose } from './helpers/expect';

const TOL = 1e-6;

beforeAll(async () => {
  await useBackend();
});

/** Run `f` on a fresh tensor and read the result back; every tensor is disposed. */
async function q(values: number[][], f: (t: tf.Tensor) => tf.Tensor): Promise<Float32Array> {
  const t = tf.tensor2d(values);
  const out = await readAndDispose(f(t));
  t.dispose();
  return out;
}

const transpose = (m: number[][]): number[][] => m[0].map((_, j) => m.map((r) => r[j]));
const scale = (v: number[], s: number): number[] => v.map((x) => x * s);

describe('ternary absmean (1.58 bit)', () => {
  // refvectors.out: BitNet W → gamma = mean|W| = 0.69375, Wq/gamma = [[1,-1,0,0],[1,0,1,-1]].
  const W = [
    [0.5, -1.2, 0.05, 0],
    [2, -0.3, 0.6, -0.9],
  ];
  const GAMMA = 0.69375;
  const WT = [1, -1, 0, 0, 1, 0, 1, -1];

  it('reference vector: gamma 0.69375 and codes [[1,-1,0,0],[1,0,1,-1]]', async () => {
    const out = await q(W, ternaryAbsmean);
    expectClose(out, scale(WT, GAMMA), TOL, 'Wq');
    expectClose(
      Array.from(out, (v) => v / GAMMA),
      WT,
      TOL,
      'Wq/gamma',
    );
  });

  it('quantizeWeight(1.58) is ternaryAbsmean, one scale for the whole tensor (granularity ignored)', async () => {
    for (const granularity of ['row', 'tensor'] as const) {
      const out = await q(W, (t) => quantizeWeight(t, { bits: 1.58, granularity }));
      expectClose(out, scale(WT, GAMMA), TOL, `ternary ${granularity}`);
    }
  });

  it('thresholds: |w| < 0.5γ → 0, exactly 0.5γ → 0 (half to even), ≥ 1.5γ → clamped to ±1', async () => {
    // mean|W| = (0.5 + 1 + 3 + 0.5 + 0 + 1)/6 = 1 → γ = 1.
    const out = await q([[0.5, -1, 3, -0.5, 0, 1]], ternaryAbsmean);
    expectClose(out, [0, -1, 1, 0, 0, 1], TOL);
  });

  it('all-zero weights give all zeros, no NaN', async () => {
    const out = await q(
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      ternaryAbsmean,
    );
    expect(allFinite(out)).toBe(true);
    expectClose(out, [0, 0, 0, 0, 0, 0], 0);
  });
});

describe('int absmax', () => {
  // refvectors.out: x = [0.1,-0.5,0.25,1.0], s = 127, x·s = [12.7,-63.5,31.75,127] → [13,-64,32,127].
  const X = [0.1, -0.5, 0.25, 1.0];
  const INTS = [13, -64, 32, 127];

  it('int8 with an explicit axis: the -63.5 tie rounds half to even (-64, not -63)', async () => {
    // As a row [1,4], reducing over axis 1 ...
    const row = await q([X], (t) => intAbsmax(t, 8, 1));
    expectClose(row, scale(INTS, 1 / 127), TOL, 'axis 1');
    expect(Array.from(row, (v) => Math.round(v * 127))).toEqual(INTS);
    // ... and as a column [4,1] (an output channel of a weight stored [in,out]) over axis 0.
    const col = await q(transpose([X]), (t) => intAbsmax(t, 8, 0));
    expectClose(col, scale(INTS, 1 / 127), TOL, 'axis 0');
    // Per-tensor gives the same here (one channel).
    expectClose(await q([X], (t) => intAbsmax(t, 8, null)), scale(INTS, 1 / 127), TOL, 'tensor');
  });

  it('quantizeWeight int8 "row" = one scale per output channel = column of the [in,out] matrix', async () => {
    // Column 0 is X (amax 1); column 1 is small (amax 0.05) and gets its own fine scale.
    const small = [0.02, -0.04, 0.01, 0.05];
    const w = transpose([X, small]); // [4 in, 2 out]
    const perRow = await q(w, (t) => quantizeWeight(t, { bits: 8, granularity: 'row' }));
    const col = (a: Float32Array, j: number) => [0, 1, 2, 3].map((i) => a[i * 2 + j]);
    expectClose(col(perRow, 0), scale(INTS, 1 / 127), TOL, 'row: channel 0');
    // s = 127/0.05 = 2540: [50.8, -101.6, 25.4, 127] → [51, -102, 25, 127].
    expectClose(col(perRow, 1), scale([51, -102, 25, 127], 1 / 2540), TOL, 'row: channel 1');

    // Per-tensor: one scale (127/1) for both → the small channel is coarse: [2.54,-5.08,1.27,6.35] → [3,-5,1,6].
    const perTensor = await q(w, (t) => quantizeWeight(t, { bits: 8, granularity: 'tensor' }));
    expectClose(col(perTensor, 0), scale(INTS, 1 / 127), TOL, 'tensor: channel 0');
    expectClose(col(perTensor, 1), scale([3, -5, 1, 6], 1 / 127), TOL, 'tensor: channel 1');

    // The two granularities really differ, and per-row is the more accurate one here.
    const err = (a: number[]) => a.reduce((s, v, i) => s + Math.abs(v - small[i]), 0);
    expect(err(col(perRow, 1))).toBeLessThan(err(col(perTensor, 1)) / 10);

    // Shape semantics: "row" on [in,out] = intAbsmax over the last axis of the transposed [out,in].
    const viaTranspose = await q(transpose(w), (t) => intAbsmax(t, 8, 1));
    expectClose(
      viaTranspose,
      [0, 1].flatMap((j) => col(perRow, j)),
      TOL,
      'transposed',
    );
  });

  it('int4 narrow reference vector (s = 7/amax; codes within ±7)', async () => {
    // refvectors.out "int4 narrow s=amax/7": x = [-1,-0.5,-0.26,0,0.2,0.74,0.9] →
    // [-1,-0.428571,-0.285714,0,0.142857,0.714286,0.857143].
    const x = [-1, -0.5, -0.26, 0, 0.2, 0.74, 0.9];
    const ref = [-1, -0.428571, -0.285714, 0, 0.142857, 0.714286, 0.857143];
    const out = await q(transpose([x]), (t) => quantizeWeight(t, { bits: 4, granularity: 'row' }));
    // Every element that is not an exact .5 tie matches the reference (printed to 6 decimals).
    for (const i of [0, 2, 3, 4, 5, 6]) expect(Math.abs(out[i] - ref[i]), `element ${i}`).toBeLessThan(1e-6 + 5e-7);
    // -0.5 is an exact tie in the engine's op order (x·s = -0.5·7 = -3.5) and rounds half to
    // even to -4. The numpy reference divides by s = amax/7 instead (-0.5/(1/7) ≈ -3.4999998 in
    // fp32 → -3): the float-dependent tie that quantization-methods.md §0 warns about.
    expect(out[1]).toBeCloseTo(-4 / 7, 6);
    expect(Array.from(out, (v) => Math.round(v * 7))).toEqual([-7, -4, -2, 0, 1, 5, 6]);
  });

  it('per-tensor vs per-row differ when the channels have different ranges (int4)', async () => {
    const w = [
      [1.0, 0.1],
      [-0.3, -0.06],
      [0.55, 0.02],
    ];
    const perRow = await q(w, (t) => quantizeWeight(t, { bits: 4, granularity: 'row' }));
    const perTensor = await q(w, (t) => quantizeWeight(t, { bits: 4, granularity: 'tensor' }));
    // Channel 0 (amax 1): [7, -2.1, 3.85] → [7, -2, 4]/7 under both.
    // Channel 1 per row (amax 0.1, s 70): [7, -4.2, 1.4] → [7, -4, 1]/70; per tensor (s 7): [0.7,-0.42,0.14] → [1, 0, 0]/7.
    expectClose(perRow, [1, 0.1, -2 / 7, -4 / 70, 4 / 7, 1 / 70], TOL, 'row');
    expectClose(perTensor, [1, 1 / 7, -2 / 7, 0, 4 / 7, 0], TOL, 'tensor');
  });

  it('all-zero weights give all zeros, no NaN, for every int width and granularity', async () => {
    const zeros = [
      [0, 0, 0],
      [0, 0, 0],
    ];
    for (const bits of [2, 3, 4, 5, 6, 7, 8]) {
      for (const granularity of ['row', 'tensor'] as const) {
        const out = await q(zeros, (t) => quantizeWeight(t, { bits, granularity }));
        expect(allFinite(out), `${bits} ${granularity}`).toBe(true);
        expectClose(out, [0, 0, 0, 0, 0, 0], 0, `${bits} ${granularity}`);
      }
    }
    // One all-zero channel next to a non-zero one (per row).
    const out = await q(
      [
        [0, 0.5],
        [0, -1],
      ],
      (t) => quantizeWeight(t, { bits: 8, granularity: 'row' }),
    );
    // Channel 0 stays 0; channel 1 (s = 127): 0.5·127 = 63.5 → 64 (half to even).
    expectClose(out, [0, 64 / 127, 0, -1], TOL);
  });

  it('16 and 32 bits are the identity (a copy for quantizeWeight, the same tensor for fakeQuantWeight)', async () => {
    const v = [
      [0.123456, -7.5],
      [1e-7, 3.3],
    ];
    for (const bits of [16, 32]) {
      const out = await q(v, (t) => quantizeWeight(t, { bits, granularity: 'row' }));
      expectClose(out, Float32Array.from(v.flat()), 0, `quantizeWeight ${bits}`);
      const t = tf.tensor2d(v);
      expect(fakeQuantWeight(t, { bits, granularity: 'tensor' })).toBe(t);
      expect(fakeQuantActivation(t, bits)).toBe(t);
      expect(fakeQuantActivation(t, 0)).toBe(t);
      t.dispose();
    }
  });

  it('rejects an unsupported bit-width', () => {
    const t = tf.tensor2d([[1, 2]]);
    expect(() => quantizeWeight(t, { bits: 1, granularity: 'row' })).toThrow(/bit-width 1/);
    expect(() => quantizeWeight(t, { bits: 2.5, granularity: 'row' })).toThrow(/bit-width 2\.5/);
    t.dispose();
  });
});

describe('activation quantizer (absmax per example, over the last axis)', () => {
  it('int8: one scale per example; the reference row, an all-zero row and a second tie', async () => {
    const x = [
      [0.1, -0.5, 0.25, 1.0], // s 127 → [13,-64,32,127]
      [0, 0, 0, 0], // → zeros, no NaN
      [2, -4, 1, 0.5], // s 127/4 = 31.75 → [63.5,-127,31.75,15.875] → [64,-127,32,16]
    ];
    const out = await q(x, (t) => quantizeActivation(t, 8));
    expect(allFinite(out)).toBe(true);
    expectClose(out, [...scale([13, -64, 32, 127], 1 / 127), 0, 0, 0, 0, ...scale([64, -127, 32, 16], 4 / 127)], TOL);
  });

  it('fakeQuantActivation gives the quantizer value (2 and 4 bits)', async () => {
    const x = [
      [0.3, -0.9, 0.1],
      [5, 1, -2],
    ];
    // 4 bits, qp 7: row 0 s = 7/0.9: [2.333,-7,0.778] → [2,-7,1]·0.9/7; row 1 s = 7/5: [7,1.4,-2.8] → [7,1,-3]·5/7.
    expectClose(await q(x, (t) => fakeQuantActivation(t, 4)), [...scale([2, -7, 1], 0.9 / 7), ...scale([7, 1, -3], 5 / 7)], TOL, '4 bit');
    // 2 bits, qp 1: ternary·amax per example: row 0 [0.333,-1,0.111] → [0,-1,0]; row 1 [1,0.2,-0.4] → [1,0,0].
    expectClose(await q(x, (t) => fakeQuantActivation(t, 2)), [0, -0.9, 0, 5, 0, 0], TOL, '2 bit');
  });
});
