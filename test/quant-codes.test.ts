/**
 * Codes and scales of quantized matrices (src/engine/core/quantizers/codes.ts): for every family
 * of the zoo, the codes and per-group parameters found for the weights RTN, GPTQ and the tfjs
 * fake-quant produce rebuild those weights bit for bit (±0 counted equal: an integer code 0 has
 * no sign), the codes stay in the scheme's range, the element codecs round-trip, the [out, in]
 * layout with permuted channels rebuilds the permuted transpose, and weights that are not on the
 * grid are refused with the group named.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gptqLayer } from '../src/engine/core/gptq';
import { quantizeWeight } from '../src/engine/core/quant';
import { Rng } from '../src/engine/core/rng';
import { decodeElement, decodeMatrix, elementTable, encodeElement, encodeMatrix, toOutIn } from '../src/engine/core/quantizers/codes';
import { E2M1, E2M3, E3M2, E4M3, E5M2, INT8_MX, quantizeTensor, quantizeWeights, type QuantizerSpec } from '../src/engine/core/quantizers';
import { useBackend } from './helpers/backend';

function randn(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return out;
}

/** Bits of float32 values with −0 written as +0. */
const bits = (a: Float32Array) => Array.from(new Uint32Array(Float32Array.from(a, (x) => x + 0).buffer));

function expectExact(got: Float32Array, want: Float32Array, what: string): void {
  const g = bits(got);
  const w = bits(want);
  const bad = g.findIndex((x, i) => x !== w[i]);
  expect(bad, `${what}: element ${bad} rebuilt as ${got[bad]}, stored ${want[bad]}`).toBe(-1);
  expect(got.length).toBe(want.length);
}

const IN = 64;
const OUT = 24;
const W = randn(new Rng(7), IN * OUT, 0.2);
// A few outliers, so some groups' absmax sits far above the rest.
for (const k of [5, 300, 901]) W[k] *= 6;

const spec = (scheme: QuantizerSpec['scheme'], bitsN: number, granularity: QuantizerSpec['granularity'] = 'row', groupSize?: number): QuantizerSpec => ({
  scheme,
  bits: bitsN,
  granularity,
  groupSize,
  clip: 'none',
});

const ZOO: [string, QuantizerSpec][] = [
  ['int4 sym-narrow row', spec('sym-narrow', 4)],
  ['int3 asym group 32', spec('asym', 3, 'group', 32)],
  ['int8 sym-full tensor', spec('sym-full', 8, 'tensor')],
  ['int2 sym-narrow group 16, mse clip', { ...spec('sym-narrow', 2, 'group', 16), clip: 'mse' }],
  ['int4 sym block 32', spec('sym-narrow', 4, 'block', 32)],
  ['ternary row', spec('ternary', 1.58)],
  ['ternary tensor', spec('ternary', 1.58, 'tensor')],
  ['binary row', spec('binary', 1)],
  ['nf4 group 32', spec('nf4', 4, 'group', 32)],
  ['kmeans 3 row', spec('kmeans', 3)],
  ['fp8-e4m3 row', spec('fp8-e4m3', 8)],
  ['fp8-e5m2 tensor', spec('fp8-e5m2', 8, 'tensor')],
  ['mxfp4', spec('mxfp4', 4, 'group', 32)],
  ['mxfp6-e2m3', spec('mxfp6-e2m3', 6, 'group', 32)],
  ['mxfp6-e3m2', spec('mxfp6-e3m2', 6, 'group', 32)],
  ['mxfp8-e4m3', spec('mxfp8-e4m3', 8, 'group', 32)],
  ['mxint8', spec('mxint8', 8, 'group', 32)],
  ['nvfp4', spec('nvfp4', 4, 'group', 16)],
];

beforeAll(async () => {
  await useBackend();
});

describe('element codes', () => {
  it('every finite code of every element format decodes and encodes back (sign of zero kept)', () => {
    for (const f of [E4M3, E5M2, E2M3, E3M2, E2M1, INT8_MX]) {
      const t = elementTable(f);
      let finite = 0;
      for (let c = 0; c < t.values.length; c++) {
        const v = decodeElement(c, f);
        if (Number.isNaN(v)) continue;
        finite++;
        const back = encodeElement(v, f);
        // MXINT8 has one zero (k = 0); the float formats have ±0.
        expect(decodeElement(back, f), `${f.name} code ${c}`).toBe(v);
        if (f !== INT8_MX) expect(back, `${f.name} code ${c}`).toBe(c);
      }
      // E4M3: 2 NaN codes; E5M2: 8 Inf/NaN codes; MXINT8: k = −128 unused.
      const expected = { E4M3: 254, E5M2: 248, E2M3: 64, E3M2: 64, E2M1: 16, INT8: 255 }[f.name];
      expect(finite, f.name).toBe(expected);
    }
    expect(decodeElement(0b0111, E2M1)).toBe(6);
    expect(decodeElement(0b1001, E2M1)).toBe(-0.5);
    expect(decodeElement(0x7e, E4M3)).toBe(448);
    expect(encodeElement(0.3, E2M1)).toBe(-1);
  });
});

describe('codes and scales rebuild the weights exactly', () => {
  it('RTN (host) for every family of the zoo, from the latent weights and from the quantized weights alone', () => {
    for (const [name, s] of ZOO) {
      const q = quantizeWeights(W, [IN, OUT], s).values;
      for (const source of [W, undefined]) {
        const e = encodeMatrix(q, [IN, OUT], s, source);
        expectExact(decodeMatrix(e), q, `${name}${source ? '' : ' (no source)'}`);
        // RTN's scales are float32 numbers.
        if (e.scales) expect(e.scalesF32, name).toBe(true);
        const lo = Math.min(...e.codes);
        const hi = Math.max(...e.codes);
        if (s.scheme === 'asym') expect([lo >= 0, hi <= 7], name).toEqual([true, true]);
        if (s.scheme === 'sym-narrow') expect([lo >= -(2 ** (s.bits - 1)), hi <= 2 ** (s.bits - 1) - 1], name).toEqual([true, true]);
        if (s.scheme === 'ternary' || s.scheme === 'binary') expect([lo >= -1, hi <= 1], name).toEqual([true, true]);
        if (s.scheme === 'nf4' || s.scheme === 'mxfp4' || s.scheme === 'nvfp4') expect([lo >= 0, hi <= 15], name).toEqual([true, true]);
      }
    }
  });

  it('GPTQ (float64 scales, groups whose largest code is below the grid’s) for int, ternary, MXFP4 and FP8', () => {
    const rng = new Rng(3);
    // H = XᵀX/n of correlated inputs.
    const n = 256;
    const X = randn(rng, n * IN);
    for (let t = 0; t < n; t++) for (let i = 1; i < IN; i++) X[t * IN + i] += 0.5 * X[t * IN + i - 1];
    const H = new Float64Array(IN * IN);
    for (let t = 0; t < n; t++) for (let a = 0; a < IN; a++) for (let b = 0; b < IN; b++) H[a * IN + b] += (2 * X[t * IN + a] * X[t * IN + b]) / n;
    const cases: [string, QuantizerSpec][] = [
      ['int4 sym-narrow group 16', spec('sym-narrow', 4, 'group', 16)],
      ['int3 asym row', spec('asym', 3)],
      ['ternary row', spec('ternary', 1.58)],
      ['mxfp4', spec('mxfp4', 4, 'group', 32)],
      ['fp8-e4m3 row', spec('fp8-e4m3', 8)],
    ];
    let f64 = 0;
    for (const [name, s] of cases) {
      const g = gptqLayer(W, [IN, OUT], H, s, { actOrder: false });
      expect(g.fallback).toBe(false);
      const e = encodeMatrix(g.q, [IN, OUT], s);
      expectExact(decodeMatrix(e), g.q, `GPTQ ${name}`);
      if (e.scalesF32 === false) f64++;
    }
    // GPTQ fits its scales in float64: some groups need a float64 scale to rebuild exactly.
    expect(f64).toBeGreaterThan(0);
  });

  it('the tfjs fake-quant on the test backend (the lab’s absmax int and ternary, zoo int, NVFP4, MXFP4), from the latent weights', async () => {
    const w = tf.tensor2d(W, [IN, OUT]);
    const cases: [string, QuantizerSpec, tf.Tensor][] = [
      ['lab int3 row', spec('sym-narrow', 3), quantizeWeight(w, { bits: 3, granularity: 'row' })],
      ['lab int5 tensor', spec('sym-narrow', 5, 'tensor'), quantizeWeight(w, { bits: 5, granularity: 'tensor' })],
      ['lab ternary', spec('ternary', 1.58, 'tensor'), quantizeWeight(w, { bits: 1.58, granularity: 'tensor' })],
    ];
    for (const [, s] of ZOO.filter(([, s]) => s.scheme !== 'kmeans')) cases.push([`zoo ${s.scheme} ${s.granularity}`, s, quantizeTensor(w, s)]);
    for (const [name, s, t] of cases) {
      const q = (await t.data()) as Float32Array;
      t.dispose();
      const e = encodeMatrix(q, [IN, OUT], s, W);
      expectExact(decodeMatrix(e), q, name);
    }
    w.dispose();
  });

  it('[out, in] with permuted output channels rebuilds the permuted transpose', () => {
    const perm = Int32Array.from({ length: OUT }, (_, r) => (r * 7) % OUT);
    for (const [name, s] of ZOO) {
      const q = quantizeWeights(W, [IN, OUT], s).values;
      const e = toOutIn(encodeMatrix(q, [IN, OUT], s, W), perm);
      const want = new Float32Array(q.length);
      for (let r = 0; r < OUT; r++) for (let i = 0; i < IN; i++) want[r * IN + i] = q[i * OUT + perm[r]];
      expectExact(decodeMatrix(e), want, `${name} [out, in]`);
    }
  });

  it('weights off the grid are refused, naming the group; blocks across channels are refused', () => {
    expect(() => encodeMatrix(W, [IN, OUT], spec('sym-narrow', 4, 'group', 16))).toThrow(/not on the sym-narrow grid at output 0, group 0/);
    const q = quantizeWeights(W, [IN, OUT], spec('mxfp4', 4, 'group', 32)).values.slice();
    q[33 * OUT + 5] = 0.123456;
    expect(() => encodeMatrix(q, [IN, OUT], spec('mxfp4', 4, 'group', 32))).toThrow(/output 5, group 1/);
    expect(() => encodeMatrix(W, [IN, OUT], spec('sym-narrow', 4, 'block', 48))).toThrow(/cross output channels/);
  });
});
