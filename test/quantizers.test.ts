/**
 * The quantizer zoo (src/engine/quantizers): reference vectors (quantization-methods.md §1/§2,
 * refvectors.out), ties, degenerate groups, k-means, storage, and the tfjs ops (cpu backend)
 * against the Float32Array versions, bit for bit, plus the straight-through gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/engine/core/rng';
import {
  fakeQuant,
  kmeans1d,
  NF4_LEVELS,
  NF4_MIDPOINTS,
  quantizeTensor,
  quantizeWeights,
  storageBits,
  validateSpec,
  roundHalfEven,
  type QuantizerSpec,
  type Scheme,
  type ZooGranularity,
} from '../src/engine/core/quantizers';
import { useBackend } from './helpers/backend';
import { expectClose } from './helpers/expect';

/** refvectors.py NF4 block (numpy default_rng(0), second draw, float32), its codes and dequantized values. */
const NF4_BLOCK = [
  -0.15922501683235168, 0.5408455729484558, 0.21465912461280823, 0.35537269711494446, -0.6538286209106445, -0.12961363792419434, 0.7839754819869995,
  1.4934310913085938, -1.2590655088424683, 1.5139237642288208, 1.3458753824234009, 0.7813113927841187, 0.2644556164741516, -0.31392282247543335,
  1.4580206871032715, 1.9602583646774292, 1.8016349077224731, 1.3151037693023682, 0.3573804199695587, -1.2083185911178589, -0.004454133100807667,
  0.6564749479293823, -1.2883614301681519, 0.39512205123901367, 0.42986369132995605, 0.6960427165031433, -1.1841179132461548, -0.661702573299408,
  -0.4364352524280548, -1.169801950454712, 1.7393678426742554, -0.49591073393821716, 0.3289696276187897, -0.2585725486278534, 1.5834728479385376,
  1.3203610181808472, 0.6333526372909546, -2.20350980758667, 0.052028972655534744, 0.6836861968040466, 1.0039615631103516, -0.6179070472717285,
  1.8220113515853882, -1.3204309940338135, -0.6615280508995056, 0.9350500106811523, 0.04905461519956589, 2.002392530441284, 0.1885191947221756,
  -0.633194088935852, -0.3775635063648224, -1.0911461114883423, -1.2776801586151123, 0.6304115056991577, 0.5811657905578613, 1.2945587635040283,
  -0.754605770111084, 1.6891074180603027, -0.2873876988887787, 1.5744082927703857, -0.43278583884239197, -0.7354832887649536, 0.249785378575325,
  1.0314531326293945,
];
const NF4_IDX = [
  6, 10, 8, 9, 4, 6, 11, 14, 2, 14, 13, 11, 8, 5, 14, 15, 14, 13, 9, 2, 7, 11, 2, 9, 9, 11, 2, 4, 5, 2, 14, 5, 9, 6, 14, 13, 10, 0, 7, 11, 12, 4, 14, 2, 4, 12,
  7, 15, 8, 4, 5, 2, 2, 10, 10, 13, 3, 14, 6, 14, 5, 4, 8, 12,
];
const NF4_DEQ = [
  -0.20062965154647827, 0.542310893535614, 0.1753559708595276, 0.35461127758026123, -0.6267693638801575, -0.20062965154647827, 0.7445995211601257,
  1.5930424928665161, -1.15700364112854, 1.5930424928665161, 1.239732027053833, 0.7445995211601257, 0.1753559708595276, -0.4071500599384308, 1.5930424928665161,
  2.20350980758667, 1.5930424928665161, 1.239732027053833, 0.35461127758026123, -1.15700364112854, 0.0, 0.7445995211601257, -1.15700364112854,
  0.35461127758026123, 0.35461127758026123, 0.7445995211601257, -1.15700364112854, -0.6267693638801575, -0.4071500599384308, -1.15700364112854,
  1.5930424928665161, -0.4071500599384308, 0.35461127758026123, -0.20062965154647827, 1.5930424928665161, 1.239732027053833, 0.542310893535614,
  -2.20350980758667, 0.0, 0.7445995211601257, 0.9711084365844727, -0.6267693638801575, 1.5930424928665161, -1.15700364112854, -0.6267693638801575,
  0.9711084365844727, 0.0, 2.20350980758667, 0.1753559708595276, -0.6267693638801575, -0.4071500599384308, -1.15700364112854, -1.15700364112854,
  0.542310893535614, 0.542310893535614, 1.239732027053833, -0.8702045679092407, 1.5930424928665161, -0.20062965154647827, 1.5930424928665161,
  -0.4071500599384308, -0.6267693638801575, 0.1753559708595276, 0.9711084365844727,
];

const spec = (scheme: Scheme, bits: number, granularity: ZooGranularity, more: Partial<QuantizerSpec> = {}): QuantizerSpec => ({
  scheme,
  bits,
  granularity,
  clip: 'none',
  ...more,
});

function gaussian(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const u = Math.max(rng.next(), 1e-12);
    out[t] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

/** The column j (output channel) of a [in, out] matrix. */
const column = (w: ArrayLike<number>, inDim: number, outDim: number, j: number) => Array.from({ length: inDim }, (_, i) => w[i * outDim + j]);

beforeAll(async () => {
  expect(await useBackend('cpu')).toBe('cpu');
});

describe('reference vectors', () => {
  // quantization-methods.md §2 test vectors: b = 4, one output channel of 7 inputs.
  const x = Float32Array.from([-1, -0.5, -0.26, 0, 0.2, 0.74, 0.9]);
  const cases: [Scheme, number[]][] = [
    ['sym-narrow', [-1, -0.428571, -0.285714, 0, 0.142857, 0.714286, 0.857143]],
    ['sym-full', [-0.933333, -0.533333, -0.266667, 0, 0.266667, 0.8, 0.933333]],
    ['asym', [-1.013333, -0.506667, -0.253333, 0, 0.253333, 0.76, 0.886667]],
  ];
  for (const [scheme, want] of cases)
    for (const gran of ['row', 'tensor', 'block'] as const)
      it(`int4 ${scheme} (${gran})`, () => {
        const q = quantizeWeights(x, [7, 1], spec(scheme, 4, gran, { groupSize: 7 })).values;
        expectClose(q, want, 1e-6, scheme);
      });

  it('sym-full keeps the fp32 tie caveat: −1/(1/7.5) = −7.4999995 rounds to −7', () => {
    const s = Math.fround(1 / 7.5);
    expect(Math.fround(-1 / s)).toBeCloseTo(-7.4999995, 7);
    const q = quantizeWeights(x, [7, 1], spec('sym-full', 4, 'row')).values;
    expect(q[0]).toBe(Math.fround(-7 * s));
  });

  it('BitNet absmean ternary (per tensor): gamma = 0.69375, codes as in the doc', () => {
    // W is [out=2, in=4] in the doc; the engine stores Wᵀ.
    const W = [
      [0.5, -1.2, 0.05, 0],
      [2, -0.3, 0.6, -0.9],
    ];
    const w = Float32Array.from({ length: 8 }, (_, t) => W[t % 2][Math.floor(t / 2)]);
    const q = quantizeWeights(w, [4, 2], spec('ternary', 1.58, 'tensor')).values;
    const gamma = Math.fround(Math.fround(0.5 + 1.2 + 0.05 + 2 + 0.3 + 0.6 + 0.9) / 8);
    expect(gamma).toBeCloseTo(0.69375, 6);
    const codes = Array.from(q, (v) => Math.round(v / gamma) + 0);
    expect(codes).toEqual([1, 1, -1, 0, 0, 1, 0, -1]); // [[1,-1,0,0],[1,0,1,-1]] transposed
  });

  it('NF4 block of 64 (bitsandbytes semantics, refvectors.out)', () => {
    const q = quantizeWeights(Float32Array.from(NF4_BLOCK), [64, 1], spec('nf4', 4, 'block', { groupSize: 64 })).values;
    expect(Array.from(q)).toEqual(NF4_DEQ.map(Math.fround));
    const am = Math.max(...NF4_BLOCK.map(Math.abs));
    const code = (v: number) => NF4_LEVELS.reduce((b, l, k) => (Math.abs(l * am - v) < Math.abs(NF4_LEVELS[b] * am - v) ? k : b), 0);
    expect(Array.from(q, code)).toEqual(NF4_IDX);
  });
});

describe('rounding ties and degenerate groups', () => {
  it('round half to even everywhere (never Math.round)', () => {
    expect([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, -63.5].map(roundHalfEven)).toEqual([2, 4, -2, -4, 0, 0, -64]);
    // sym-narrow int4 with amax 7 → s = 1: x/s are exact halves.
    const x = Float32Array.from([7, 2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.5]);
    expect(Array.from(quantizeWeights(x, [8, 1], spec('sym-narrow', 4, 'row')).values)).toEqual([7, 2, 4, -2, -4, 0, 0, 2]);
    // asym int4 with min −8, max 7 → s = 1, z = 8.
    const y = Float32Array.from([-8, 7, 2.5, -2.5, 0.5, -0.5, 3.5]);
    expect(Array.from(quantizeWeights(y, [7, 1], spec('asym', 4, 'row')).values)).toEqual([-8, 7, 2, -2, 0, 0, 4]);
    // ternary with gamma = 1: 0.5γ → 0, 1.5γ → 2 → clamped to 1.
    const z = Float32Array.from([0.5, 1.5, 1, 1]);
    expect(Array.from(quantizeWeights(z, [4, 1], spec('ternary', 1.58, 'row')).values)).toEqual([0, 1, 1, 1]);
    // NF4: a value exactly on a midpoint goes to the LOWER code (torch.bucketize right=False).
    const m = Float32Array.from([1, ...NF4_MIDPOINTS]);
    const q = quantizeWeights(m, [16, 1], spec('nf4', 4, 'row')).values;
    expect(Array.from(q.subarray(1))).toEqual(Array.from(NF4_LEVELS.subarray(0, 15)));
  });

  const all: QuantizerSpec[] = [
    spec('sym-narrow', 4, 'row'),
    spec('sym-full', 3, 'group', { groupSize: 4 }),
    spec('asym', 2, 'group', { groupSize: 4, clip: 'mse' }),
    spec('asym', 4, 'tensor'),
    spec('ternary', 1.58, 'group', { groupSize: 4 }),
    spec('binary', 1, 'row'),
    spec('nf4', 4, 'group', { groupSize: 4, clip: 'mse' }),
    spec('nf4', 4, 'block', { groupSize: 4 }),
    spec('kmeans', 2, 'row'),
  ];
  for (const s of all)
    it(`all-zero channels and groups → zeros, no NaN (${s.scheme} ${s.granularity})`, async () => {
      const [inDim, outDim] = [8, 3];
      const w = gaussian(new Rng(3), inDim * outDim);
      for (let i = 0; i < inDim; i++) w[i * outDim + 1] = 0; // output channel 1 all zero
      for (let i = 0; i < 4; i++) w[i * outDim + 2] = 0; // first group of channel 2 all zero
      const r = quantizeWeights(w, [inDim, outDim], s);
      expect(r.values.every(Number.isFinite)).toBe(true);
      expect(column(r.values, inDim, outDim, 1)).toEqual(Array(inDim).fill(0));
      if (s.granularity === 'group' || (s.granularity === 'block' && s.groupSize === 4))
        expect(column(r.values, inDim, outDim, 2).slice(0, 4)).toEqual([0, 0, 0, 0]);
      const zeros = quantizeWeights(new Float32Array(inDim * outDim), [inDim, outDim], s).values;
      expect(Array.from(zeros).every((v) => v === 0)).toBe(true);
      if (s.scheme !== 'kmeans') {
        const t = quantizeTensor(tf.zeros([inDim, outDim]), s);
        expect(Array.from(await t.data()).every((v) => v === 0)).toBe(true);
        t.dispose();
      }
    });

  it('a group size that does not divide the input dimension is a clear error', () => {
    const w = new Float32Array(14 * 4);
    expect(() => quantizeWeights(w, [14, 4], spec('asym', 4, 'group', { groupSize: 32 }))).toThrow(/group size 32 does not divide the input dimension 14/);
    expect(() => quantizeTensor(tf.zeros([14, 4]), spec('asym', 4, 'group', { groupSize: 32 }))).toThrow(/does not divide/);
    // 'block' straddles output channels instead.
    expect(quantizeWeights(gaussian(new Rng(1), 56), [14, 4], spec('asym', 4, 'block', { groupSize: 32 })).values.length).toBe(56);
  });

  it('validation messages', () => {
    expect(validateSpec(spec('ternary', 2, 'row'))).toEqual(['ternary is 1.58 bits, got 2']);
    expect(validateSpec(spec('kmeans', 3, 'group', { groupSize: 32 }))[0]).toMatch(/per tensor or per row/);
    expect(validateSpec(spec('binary', 1, 'row', { clip: 'mse' }))[0]).toMatch(/clip 'mse'/);
    expect(validateSpec(spec('asym', 9, 'row'))[0]).toMatch(/integer bits 2–8/);
    expect(validateSpec(spec('nf4', 4, 'block'))[0]).toMatch(/groupSize/);
    expect(validateSpec(spec('sym-full', 4, 'group', { groupSize: 64, clip: 'mse' }))).toEqual([]);
  });
});

describe('granularity', () => {
  it('block == group when the block size divides the input dimension', () => {
    const w = gaussian(new Rng(5), 64 * 3);
    for (const scheme of ['asym', 'nf4', 'ternary'] as const) {
      const bits = scheme === 'asym' ? 3 : scheme === 'nf4' ? 4 : 1.58;
      const g = quantizeWeights(w, [64, 3], spec(scheme, bits, 'group', { groupSize: 32 })).values;
      const b = quantizeWeights(w, [64, 3], spec(scheme, bits, 'block', { groupSize: 32 })).values;
      expect(Array.from(b)).toEqual(Array.from(g));
    }
  });

  it('row = one group per output channel; finer granularity → smaller error', () => {
    const w = gaussian(new Rng(6), 128 * 8);
    const err = (s: QuantizerSpec) => quantizeWeights(w, [128, 8], s).values.reduce((a, v, t) => a + (v - w[t]) ** 2, 0);
    const eT = err(spec('sym-narrow', 3, 'tensor'));
    const eR = err(spec('sym-narrow', 3, 'row'));
    const eG = err(spec('sym-narrow', 3, 'group', { groupSize: 32 }));
    expect(eR).toBeLessThan(eT);
    expect(eG).toBeLessThan(eR);
    const g = quantizeWeights(w, [128, 8], spec('sym-narrow', 3, 'group', { groupSize: 128 })).values;
    expect(Array.from(g)).toEqual(Array.from(quantizeWeights(w, [128, 8], spec('sym-narrow', 3, 'row')).values));
  });

  it("clip 'mse' never has a larger Σ|q − w|^2.4 per channel than no clipping", () => {
    const w = gaussian(new Rng(8), 64 * 6);
    w[5 * 6 + 2] = 9; // an outlier in channel 2
    for (const scheme of ['sym-narrow', 'sym-full', 'asym', 'nf4'] as const) {
      const bits = scheme === 'nf4' ? 4 : 3;
      const a = quantizeWeights(w, [64, 6], spec(scheme, bits, 'row')).values;
      const b = quantizeWeights(w, [64, 6], spec(scheme, bits, 'row', { clip: 'mse' })).values;
      for (let j = 0; j < 6; j++) {
        const e = (q: Float32Array) => column(q, 64, 6, j).reduce((s, v, i) => s + Math.abs(v - w[i * 6 + j]) ** 2.4, 0);
        expect(e(b)).toBeLessThanOrEqual(e(a) * (1 + 1e-6));
      }
    }
  });
});

describe('k-means', () => {
  it('distortion never rises, codebook ascending, outputs are codebook values', () => {
    const w = gaussian(new Rng(11), 96 * 5);
    for (const bits of [1, 2, 3, 4]) {
      for (const gran of ['tensor', 'row'] as const) {
        const r = quantizeWeights(w, [96, 5], spec('kmeans', bits, gran));
        const K = 2 ** bits;
        expect(r.codebook?.length).toBe(K * (gran === 'row' ? 5 : 1));
        for (const h of r.kmeansHistory ?? []) {
          expect(h.length).toBeGreaterThan(1);
          for (let t = 1; t < h.length; t++) expect(h[t]).toBeLessThanOrEqual(h[t - 1]);
        }
        const cb = r.codebook as Float32Array;
        for (let g = 0; g < cb.length / K; g++) for (let k = 1; k < K; k++) expect(cb[g * K + k]).toBeGreaterThanOrEqual(cb[g * K + k - 1]);
        r.values.forEach((v, t) => {
          const g = gran === 'row' ? t % 5 : 0;
          expect(Array.from(cb.subarray(g * K, (g + 1) * K))).toContain(v);
        });
      }
    }
  });

  it('beats uniform min-max at the same bits on Gaussian weights; exact on few distinct values', () => {
    const w = gaussian(new Rng(12), 256 * 4);
    const err = (s: QuantizerSpec) => quantizeWeights(w, [256, 4], s).values.reduce((a, v, t) => a + (v - w[t]) ** 2, 0);
    expect(err(spec('kmeans', 3, 'row'))).toBeLessThan(err(spec('asym', 3, 'row')));
    const few = kmeans1d([0, 0, 0, 1, 1, 1, 5, 5], 4);
    expect(few.history[few.history.length - 1]).toBe(0);
    const x = Float32Array.from([0, 0, 0, 1, 1, 1, 5, 5]);
    expect(Array.from(quantizeWeights(x, [8, 1], spec('kmeans', 2, 'row')).values)).toEqual(Array.from(x));
  });

  it('is deterministic', () => {
    const w = gaussian(new Rng(13), 64 * 4);
    const a = quantizeWeights(w, [64, 4], spec('kmeans', 3, 'row'));
    const b = quantizeWeights(w, [64, 4], spec('kmeans', 3, 'row'));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
  });
});

describe('storage accounting', () => {
  it('bits per weight including scales, zero points and codebooks', () => {
    expect(storageBits(spec('asym', 4, 'group', { groupSize: 128 }), [512, 512]).bitsPerWeight).toBeCloseTo(4 + 20 / 128, 12);
    expect(storageBits(spec('sym-narrow', 4, 'group', { groupSize: 32 }), [512, 512]).bitsPerWeight).toBeCloseTo(4.5, 12);
    expect(storageBits(spec('nf4', 4, 'block', { groupSize: 64 }), [512, 512]).bitsPerWeight).toBeCloseTo(4.25, 12);
    expect(storageBits(spec('nf4', 4, 'block', { groupSize: 64 }), [512, 512], { scaleBits: 32 }).bitsPerWeight).toBeCloseTo(4.5, 12);
    expect(storageBits(spec('kmeans', 3, 'row'), [64, 32]).bitsPerWeight).toBeCloseTo(3 + (8 * 16) / 64, 12);
    expect(storageBits(spec('sym-full', 8, 'row'), [100, 10]).totalBits).toBe(8000 + 160);
    const t = storageBits(spec('ternary', 1.58, 'tensor'), [512, 512]);
    expect(t.bitsPerWeight).toBeCloseTo(Math.log2(3) + 16 / 512 ** 2, 12);
    expect(storageBits(spec('binary', 1, 'block', { groupSize: 64 }), [14, 512]).overheadBits).toBe(Math.ceil((14 * 512) / 64) * 16);
    expect(() => storageBits(spec('asym', 4, 'group', { groupSize: 64 }), [14, 512])).toThrow(/does not divide/);
  });
});

describe('tfjs ops (cpu backend)', () => {
  const specs: QuantizerSpec[] = [];
  for (const scheme of ['sym-narrow', 'sym-full', 'asym'] as const)
    for (const bits of [2, 4])
      for (const clip of ['none', 'mse'] as const) {
        specs.push(spec(scheme, bits, 'tensor', { clip }), spec(scheme, bits, 'row', { clip }));
        specs.push(spec(scheme, bits, 'group', { groupSize: 8, clip }), spec(scheme, bits, 'block', { groupSize: 32, clip }));
      }
  for (const gran of ['tensor', 'row', 'group', 'block'] as const) {
    specs.push(spec('ternary', 1.58, gran, { groupSize: 8 }), spec('binary', 1, gran, { groupSize: gran === 'group' ? 8 : 32 }));
    specs.push(spec('nf4', 4, gran, { groupSize: gran === 'group' ? 8 : 64 }));
  }
  specs.push(spec('nf4', 4, 'block', { groupSize: 64, clip: 'mse' }), spec('nf4', 4, 'row', { clip: 'mse' }));

  it('quantizeTensor equals quantizeWeights bit for bit, without leaking tensors', async () => {
    const [inDim, outDim] = [24, 7]; // 168 elements: the 32- and 64-blocks leave a partial last block
    const w = gaussian(new Rng(21), inDim * outDim, 0.3);
    w[3] = 1.7; // an outlier for the MSE search
    const wt = tf.tensor2d(w, [inDim, outDim]);
    const before = tf.memory().numTensors;
    const bad: string[] = [];
    for (const s of specs) {
      const host = quantizeWeights(w, [inDim, outDim], s).values;
      const t = quantizeTensor(wt, s);
      const dev = (await t.data()) as Float32Array;
      t.dispose();
      const diff = host.reduce((m, v, k) => Math.max(m, Math.abs(v - dev[k])), 0);
      if (!(diff === 0)) bad.push(`${JSON.stringify(s)}: max diff ${diff}`);
    }
    expect(bad).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    wt.dispose();
  });

  it('kmeans with a host-fitted codebook equals the host values', async () => {
    const [inDim, outDim] = [40, 6];
    const w = gaussian(new Rng(22), inDim * outDim);
    const wt = tf.tensor2d(w, [inDim, outDim]);
    for (const gran of ['tensor', 'row'] as const) {
      const s = spec('kmeans', 3, gran);
      const host = quantizeWeights(w, [inDim, outDim], s);
      const cb = gran === 'row' ? tf.tensor2d(host.codebook as Float32Array, [outDim, 8]) : tf.tensor1d(host.codebook as Float32Array);
      const t = quantizeTensor(wt, s, { codebook: cb });
      expect(Array.from(await t.data())).toEqual(Array.from(host.values));
      t.dispose();
      expect(() => quantizeTensor(wt, s)).toThrow(/needs a codebook/);
      cb.dispose();
    }
    wt.dispose();
  });

  it('fakeQuant: quantized forward, identity (straight-through) gradient', async () => {
    const [inDim, outDim] = [16, 4];
    const w = tf.tensor2d(gaussian(new Rng(23), inDim * outDim), [inDim, outDim]);
    const c = tf.tensor2d(gaussian(new Rng(24), inDim * outDim), [inDim, outDim]);
    const host = quantizeWeights(Float32Array.from(await w.data()), [inDim, outDim], spec('kmeans', 2, 'row'));
    const cb = tf.tensor2d(host.codebook as Float32Array, [outDim, 4]);
    const cases: [QuantizerSpec, tf.Tensor | undefined][] = [
      [spec('asym', 3, 'group', { groupSize: 8, clip: 'mse' }), undefined],
      [spec('ternary', 1.58, 'tensor'), undefined],
      [spec('nf4', 4, 'block', { groupSize: 32 }), undefined],
      [spec('kmeans', 2, 'row'), cb],
    ];
    const before = tf.memory().numTensors;
    for (const [s, codebook] of cases) {
      const value = tf.tidy(() => tf.sub(fakeQuant(w, s, { codebook }), quantizeTensor(w, s, { codebook })));
      expect(Array.from(await value.data()).every((v) => v === 0)).toBe(true);
      value.dispose();
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuant(x, s, { codebook }), c)))(w);
      expect(Array.from(await g.data())).toEqual(Array.from(await c.data()));
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const t of [w, c, cb]) t.dispose();
  });
});
