/**
 * The formats people ship (src/engine/core/quantizers/formats.ts): exact element vectors derived
 * by hand from the OCP OFP8 / MX specs and NVIDIA's NVFP4 recipe (formats.md), MX scale selection
 * (floor rule, zero block, saturation), MXINT8, NVFP4 by hand, partial last blocks, NaN, storage,
 * validation and config resolution, the tfjs fake-quant against the host bit for bit (cpu and
 * wasm) with its straight-through gradient, and GPTQ with block formats.
 *
 * Cross-check: the conventions match torchao's prototype/mx_formats (to_mx FLOOR: E8M0 exponent =
 * floor(log2 amax) − emax_elem, NaN amax → 255, compute scale ≥ 2^-126, saturating element casts;
 * nvfp4_quantize: block scale E4M3((amax/6)/s_t), total = s_t·s_b, x/total clamped to ±6) and
 * microxcaling's symmetric MXINT8 (±127/64). Every expected value below is written by hand.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { wasmDir } from '../src/cli/node-env';
import { gptqLayer, hessian, proxyError, type GptqOptions } from '../src/engine/core/gptq';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { resolveWeightQuant } from '../src/engine/core/layerquant';
import {
  E2M1,
  E2M3,
  E3M2,
  E4M3,
  E5M2,
  FORMAT_SCHEMES,
  INT8_MX,
  allFormatSpecs,
  formatSpec,
  fakeQuant,
  floorLog2,
  mxScale,
  mxScaleCode,
  quantizeTensor,
  quantizeWeights,
  roundToFormat,
  specLabel,
  specProblems,
  storageBits,
  validateSpec,
  type ElementFormat,
  type QuantizerSpec,
} from '../src/engine/core/quantizers';
import { Rng } from '../src/engine/core/rng';
import { formatQuantInto } from '../src/engine/core/quantizers/formatfast';
import { setFusedKernels } from '../src/engine/core/kernels';
import { configProblems } from '../src/engine/tasks';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';

beforeAll(async () => {
  expect(await useBackend('cpu')).toBe('cpu');
});

const rtn = (w: number[], shape: [number, number], s: QuantizerSpec) => Array.from(quantizeWeights(Float32Array.from(w), shape, s).values);
const r = (f: ElementFormat) => (x: number) => roundToFormat(x, f);

function gaussian(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) out[t] = scale * Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-12))) * Math.cos(2 * Math.PI * rng.next());
  return out;
}

describe('element formats (OFP8 / MX element tables)', () => {
  it('E2M1: all 16 codes S.EE.M and their values; every code value is a fixed point', () => {
    // Code s·8 + e·2 + m: e = 0 is subnormal m·2^(1−bias−1) = m·0.5; e ≥ 1 is (1 + m/2)·2^(e−1).
    const decode = (c: number) => {
      const [s, e, m] = [c >> 3, (c >> 1) & 3, c & 1];
      const v = e === 0 ? m * 0.5 : (1 + m / 2) * 2 ** (e - 1);
      return s ? -v : v;
    };
    const values = Array.from({ length: 16 }, (_, c) => decode(c));
    expect(values).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
    for (const v of values) expect(roundToFormat(v, E2M1)).toBe(v === 0 ? 0 : v);
    // Nothing else is ever produced: a fine sweep of [-8, 8] lands on the 15 distinct values.
    const seen = new Set<number>();
    for (let k = -512; k <= 512; k++) seen.add(roundToFormat(k / 64, E2M1) + 0);
    expect([...seen].sort((a, b) => a - b)).toEqual([-6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6]);
  });

  it('E2M1 ties go to the even mantissa; above 6 saturates', () => {
    // 0.25: 0 (m 0) vs 0.5 (m 1) → 0. 0.75: 0.5 (m 1) vs 1 (m 0) → 1. 1.25 → 1, 1.75 → 2,
    // 2.5: 2 (m 0) vs 3 (m 1) → 2. 3.5 → 4. 5: 4 (m 0) vs 6 (m 1) → 4. 7 and 100 → 6 (saturating).
    expect([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 7, 100, -5, -0.75].map(r(E2M1))).toEqual([0, 1, 1, 2, 2, 4, 4, 6, 6, -4, -1]);
    // Just off the ties: nearest wins.
    expect([0.2500001, 2.5000002, 4.9999995].map(r(E2M1))).toEqual([0.5, 3, 4]);
  });

  it('FP8 E4M3: max 448, 464 → 448, min subnormal 2^-9, ties to even', () => {
    // max = 1.75·2^8 = 448 (S.1111.111 is NaN, so 1.875·2^8 = 480 is not a value).
    expect(roundToFormat(448, E4M3)).toBe(448);
    // 464 is halfway between 448 (m 110) and 480 (not representable): saturating RNE → 448; so are 470, 1e6, ∞.
    expect([464, 470, 479, 1e6, Infinity, -Infinity].map(r(E4M3))).toEqual([448, 448, 448, 448, 448, -448]);
    // Step in binade 8 is 2^(8−3) = 32: 432 is halfway between 416 (m 101) and 448 (m 110) → 448.
    expect(roundToFormat(432, E4M3)).toBe(448);
    // Subnormals: m·2^-9 (emin −6, 3 mantissa bits). 2^-9 exact; 2^-10 is halfway 0 / 2^-9 → 0 (even);
    // 1.5·2^-10 → 2^-9; 2.5·2^-9 → 2·2^-9 (even); largest subnormal 7·2^-9; min normal 2^-6.
    expect([2 ** -9, 2 ** -10, 1.5 * 2 ** -10, 2.5 * 2 ** -9, 7 * 2 ** -9, 7.5 * 2 ** -9, 2 ** -6].map(r(E4M3))).toEqual([
      2 ** -9,
      0,
      2 ** -9,
      2 * 2 ** -9,
      7 * 2 ** -9,
      8 * 2 ** -9,
      2 ** -6,
    ]);
    // Normals in [1, 2) step 1/8: 1.0625 is halfway 1 (m 000) / 1.125 (m 001) → 1; 1.1875 → 1.25 (m 010).
    // [16, 32) step 2: 17 → 16, 19 → 20; −19 → −20.
    expect([1.0625, 1.1875, 17, 19, -19, 0.3].map(r(E4M3))).toEqual([1, 1.25, 16, 20, -20, 0.3125]);
  });

  it('FP8 E5M2: max 57344, min subnormal 2^-16; E2M3 max 7.5, E3M2 max 28', () => {
    // E5M2 max = 1.75·2^15; 61440 (halfway to 2^16) saturates; 2^-16 = 1·2^(−14−2) exact; 2^-17 → 0 (even);
    // 3·2^-17 is halfway 2^-16 (m 01) / 2^-15 (m 10) → 2^-15.
    expect([57344, 61440, 1e9, 2 ** -16, 2 ** -17, 3 * 2 ** -17, 1.125, 1.375].map(r(E5M2))).toEqual([57344, 57344, 57344, 2 ** -16, 0, 2 ** -15, 1, 1.5]);
    // E2M3: max 1.875·4 = 7.5, subnormal step 2^(0−3) = 0.125; 7.75 saturates; 0.0625 → 0 (even), 0.1875 → 0.25;
    // 5.25 is halfway 5 (1.25·4, m 010) / 5.5 (m 011) → 5.
    expect([7.5, 7.75, 9, 0.125, 0.0625, 0.1875, 5.25].map(r(E2M3))).toEqual([7.5, 7.5, 7.5, 0.125, 0, 0.25, 5]);
    // E3M2: max 1.75·16 = 28, subnormal step 2^(−2−2) = 0.0625; 30 saturates; 0.03125 → 0; 26 (24 m 10 / 28 m 11) → 24.
    expect([28, 30, 0.0625, 0.03125, 26, 0.3].map(r(E3M2))).toEqual([28, 28, 0.0625, 0, 24, 0.3125]);
  });

  it('MX INT8: the 2^-6 grid, symmetric ±127/64', () => {
    // k/64, k in −127…127: 0.5/64 → 0 (even), 1.5/64 → 2/64, 2.5/64 → 2/64, 1.99 → 127/64 (saturating), −2 → −127/64.
    expect([0.5 / 64, 1.5 / 64, 2.5 / 64, 1.99, -2, 1, 0.3].map(r(INT8_MX))).toEqual([0, 2 / 64, 2 / 64, 127 / 64, -127 / 64, 1, 19 / 64]);
  });

  it('NaN stays NaN; floorLog2 is exact at and around powers of two', () => {
    for (const f of [E4M3, E5M2, E2M3, E3M2, E2M1, INT8_MX]) expect(roundToFormat(NaN, f)).toBeNaN();
    expect([1, 8, 0.125, 2 ** -126, 2 ** -140, 2 ** 127, 7.999999, Math.fround(1 - 2 ** -24)].map(floorLog2)).toEqual([0, 3, -3, -126, -140, 127, 2, -1]);
  });
});

describe('MX block scale (E8M0, floor rule)', () => {
  it('scale selection: amax 6, 5.99, 7.5 (saturates), 8, 0 (zero block), NaN', () => {
    // MXFP4, emax_elem(E2M1) = 2: X = 2^(floor(log2 amax) − 2).
    // amax 6: floor(log2 6) = 2 → X = 2^0, code 127; 5.99 also → 127; 8 → 2^1, code 128; 0.7 → 2^(−1−2), code 124.
    expect([6, 5.99, 7.5, 8, 0.7].map((a) => mxScaleCode(a, E2M1))).toEqual([127, 127, 127, 128, 124]);
    // Zero block → the smallest scale, code 0 (2^-127); NaN and ∞ → 255.
    expect([0, NaN, Infinity].map((a) => mxScaleCode(a, E2M1))).toEqual([0, 255, 255]);
    // E4M3 emax 8: amax 448 → 2^(8−8) = 1; amax 1 → 2^-8. Clamped to E8M0's range: 2^-140 → code 0; 3e38 → 127 + 127 − 2.
    expect([mxScaleCode(448, E4M3), mxScaleCode(1, E4M3), mxScaleCode(2 ** -140, E4M3), mxScaleCode(3e38, E2M1)]).toEqual([127, 119, 0, 252]);
    // The arithmetic scale: 2^(code − 127), at least 2^-126 (so a zero block computes with 2^-126).
    expect([mxScale(6, E2M1), mxScale(0.7, E2M1), mxScale(0, E2M1), mxScale(NaN, E2M1)]).toEqual([1, 2 ** -3, 2 ** -126, NaN]);
  });

  it('MXFP4 blocks by hand: 6 exact, 5.99 → 6, the saturating block, the zero block', () => {
    const pad = (head: number[]) => [...head, ...Array<number>(32 - head.length).fill(0)];
    // Block amax 6 → X = 1: 6 → 6, 2.5 → 2 (tie, even), −0.25 → 0 (tie) … printed as −0.
    expect(rtn(pad([6, 2.5, -0.25, 0.3]), [32, 1], formatSpec('mxfp4'))).toEqual(pad([6, 2, -0, 0.5]));
    // amax 5.99 → X = 1 (floor rule): 5.99 → 6 (nearest), 1.2 → 1.
    expect(rtn(pad([5.99, 1.2]), [32, 1], formatSpec('mxfp4'))).toEqual(pad([6, 1]));
    // amax 7.5 → X = 1 still: the largest element saturates to 6 (rceil would pick X = 2).
    expect(rtn(pad([7.5, -7, 3]), [32, 1], formatSpec('mxfp4'))).toEqual(pad([6, -6, 3]));
    // amax 0.7 → X = 2^-3: 0.7·8 = 5.6 → 6 → 0.75; 0.1·8 = 0.8 → 1 → 0.125.
    expect(rtn(pad([0.7, 0.1]), [32, 1], formatSpec('mxfp4'))).toEqual(pad([0.75, 0.125]));
    // A zero block stays zero, no NaN.
    expect(rtn(pad([]), [32, 1], formatSpec('mxfp4'))).toEqual(pad([]));
  });

  it('MXINT8: X = 2^floor(log2 amax), elements on the 2^-6 grid', () => {
    const pad = (head: number[]) => [...head, ...Array<number>(32 - head.length).fill(0)];
    // amax 1.999 → X = 1: 1.999·64 = 127.94 → 128 → saturates at 127 → 127/64; 0.01·64 = 0.64 → 1/64;
    // 1/128 = 0.5/64 → 0 (even); 3/128 = 1.5/64 → 2/64; −1.5 exact.
    expect(rtn(pad([1.999, 0.01, 1 / 128, 3 / 128, -1.5]), [32, 1], formatSpec('mxint8'))).toEqual(pad([127 / 64, 1 / 64, 0, 2 / 64, -1.5]));
    // amax 0.3 → X = 2^-2: grid 2^-8; 0.3·256 = 76.8 → 77 → 0.30078125.
    expect(rtn(pad([0.3]), [32, 1], formatSpec('mxint8'))).toEqual(pad([0.30078125]));
  });

  it('MXFP8 / MXFP6 blocks: the element grid under the block scale', () => {
    const pad = (head: number[]) => [...head, ...Array<number>(32 - head.length).fill(0)];
    // MXFP8 E4M3, amax 1 → X = 2^-8; 1.0625 would be a tie in E4M3 but the block amax is now 1.0625 → same X:
    // 1.0625·256 = 272 in binade 8 (step 32) → 256+16 → tie 256 (m 000) / 288 → 256 → 1.
    expect(rtn(pad([1.0625, 0.5]), [32, 1], formatSpec('mxfp8-e4m3'))).toEqual(pad([1, 0.5]));
    // MXFP6 E2M3, amax 3 → floor(log2 3) = 1 → X = 2^(1−2) = 0.5: 3/0.5 = 6 exact; 0.1/0.5 = 0.2 → 0.25 → 0.125.
    expect(rtn(pad([3, 0.1]), [32, 1], formatSpec('mxfp6-e2m3'))).toEqual(pad([3, 0.125]));
    // MXFP6 E3M2, amax 3 → X = 2^(1−4) = 1/8: 3·8 = 24 exact; 2.9·8 = 23.2 → 24 → 3 (step 4 in [16, 32)).
    expect(rtn(pad([3, 2.9]), [32, 1], formatSpec('mxfp6-e3m2'))).toEqual(pad([3, 3]));
  });

  it('a partial last block gets its own scale (in = 40: blocks of 32 and 8)', () => {
    // Channel 0: inputs 0–31 with amax 6 (X = 1), inputs 32–39 with amax 0.1 (X = 2^(−4−2) = 2^-6):
    // 0.1·64 = 6.4 → 6 → 0.09375; 0.03·64 = 1.92 → 2 → 0.03125. Sharing X = 1 they would be 0.
    const w = [6, ...Array<number>(31).fill(1), 0.1, 0.03, ...Array<number>(6).fill(0)];
    const q = rtn(w, [40, 1], formatSpec('mxfp4'));
    expect(q.slice(0, 3)).toEqual([6, 1, 1]);
    expect(q.slice(32, 35)).toEqual([0.09375, 0.03125, 0]);
    // The first layer of the MLP (14 inputs) is one partial block per channel.
    expect(storageBits(formatSpec('mxfp4'), [14, 32]).totalBits).toBe(14 * 32 * 4 + 32 * 8);
    expect(storageBits(formatSpec('mxfp4'), [40, 3]).overheadBits).toBe(3 * 2 * 8);
  });
});

describe('NVFP4 (E2M1, E4M3 scale per 16, FP32 tensor scale)', () => {
  it('two 16-element blocks by hand', () => {
    // Tensor amax 168 → s_t = 168/(448·6) = 1/16.
    // Block A (inputs 0–15), amax 168: (168/6)/s_t = 448 → E4M3 448; total = 28; 168/28 = 6; 42/28 = 1.5; 70/28 = 2.5 → 2 (tie) → 56.
    // Block B (16–31), amax 0.625: (0.625/6)·16 = 1.6667 → E4M3 (step 1/8 in [1, 2)) 13.33/8 → 13/8 = 1.625;
    //   total = 1.625/16 = 0.1015625. Codes: 0.625/total = 6.154 → 6 → 0.609375; 0.1875/total = 1.846 → 2 → 0.203125;
    //   −0.0625/total = −0.615 → −0.5 → −0.05078125; 0.025/total = 0.246 → 0; 0.25390625/total = 2.5 → 2 (tie) → 0.203125;
    //   0.15234375/total = 1.5 exactly → 0.15234375.
    const A = [168, 42, 70, ...Array<number>(13).fill(0)];
    const B = [0.625, 0.1875, -0.0625, 0.025, 0.25390625, 0.15234375, ...Array<number>(10).fill(0)];
    const q = rtn([...A, ...B], [32, 1], formatSpec('nvfp4'));
    expect(q.slice(0, 3)).toEqual([168, 42, 56]);
    expect(q.slice(16, 22)).toEqual([0.609375, 0.203125, -0.05078125, 0, 0.203125, 0.15234375]);
  });

  it('a block whose E4M3 scale is subnormal, and one whose scale rounds to 0', () => {
    // s_t = 1/16 again (amax 168 in block A). Block B amax 0.004: (0.004/6)·16 = 0.010667 → E4M3 subnormal
    // (step 2^-9): 5.46 → 5·2^-9; total = 5·2^-13; 0.004/total = 6.55 → saturates to 6 → 6·5·2^-13 = 0.003662109375.
    // Block C amax 1e-4: (1e-4/6)·16 = 2.7e-4 < 2^-10 → E4M3 0 → the block is ±0 (no lower clamp; torchao clamps at 2^-6).
    const A = [168, ...Array<number>(15).fill(0)];
    const B = [0.004, ...Array<number>(15).fill(0)];
    const C = [1e-4, -1e-4, ...Array<number>(14).fill(0)];
    const q = rtn([...A, ...B, ...C], [48, 1], formatSpec('nvfp4'));
    expect(q[16]).toBe(0.003662109375);
    expect(q.slice(32, 34)).toEqual([0, -0]);
    expect(q.every(Number.isFinite)).toBe(true);
  });

  it('storage: 4.5 bits per weight plus 32 bits per tensor', () => {
    expect(storageBits(formatSpec('nvfp4'), [512, 512]).totalBits).toBe(512 * 512 * 4.5 + 32);
    expect(storageBits(formatSpec('nvfp4'), [14, 10]).overheadBits).toBe(10 * 8 + 32);
  });
});

describe('FP8 with a tensor or channel scale', () => {
  it('s = amax/448: the largest weight maps to 448·s, the others to the E4M3 grid times s', () => {
    // [in 2, out 2]: channel 0 = [28, 1.1], channel 1 = [0.02, 0.01].
    const w = [28, 0.02, 1.1, 0.01];
    // Channel 0: s = 28/448 = 2^-4 exactly; 1.1·16 = 17.6 → binade 4 (step 2) → 18 → 1.125.
    // Channel 1: s = 0.02/448; 0.02/s ≈ 448 → 448 (either side of it); 0.01/s ≈ 224 → 224 (binade 7, step 16).
    const s1 = Math.fround(Math.fround(0.02) / 448);
    expect(rtn(w, [2, 2], formatSpec('fp8-e4m3', 'row'))).toEqual([28, Math.fround(448 * s1), 1.125, Math.fround(224 * s1)]);
    // Per tensor: s = 2^-4 for both: 0.02·16 = 0.32 → binade −2 (step 1/32) → 10/32 → 0.01953125;
    // 0.01·16 = 0.16 → binade −3 (step 1/64) → 10/64 → 0.009765625.
    expect(rtn(w, [2, 2], formatSpec('fp8-e4m3', 'tensor'))).toEqual([28, 0.01953125, 1.125, 0.009765625]);
    // E5M2 per channel: s = 28/57344 = 2^-11; 1.1·2048 = 2252.8 → binade 11 (step 512) → 2048 → 1.
    expect(rtn(w, [2, 2], formatSpec('fp8-e5m2', 'row'))[2]).toBe(1);
  });

  it('storage: a 32-bit scale per channel or per tensor', () => {
    expect(storageBits(formatSpec('fp8-e4m3', 'row'), [100, 10]).totalBits).toBe(8000 + 10 * 32);
    expect(storageBits(formatSpec('fp8-e5m2', 'tensor'), [100, 10]).totalBits).toBe(8000 + 32);
    expect(storageBits(formatSpec('mxfp8-e4m3'), [512, 512]).bitsPerWeight).toBe(8.25);
    expect(storageBits(formatSpec('mxfp6-e3m2'), [512, 512]).bitsPerWeight).toBe(6.25);
    expect(storageBits(formatSpec('mxfp4'), [512, 512]).bitsPerWeight).toBe(4.25);
    expect(storageBits(formatSpec('mxint8'), [512, 512]).bitsPerWeight).toBe(8.25);
  });
});

describe('NaN and infinity', () => {
  it('a non-finite weight makes its scale group NaN: MX block, FP8 channel, NVFP4 tensor', async () => {
    const w = gaussian(new Rng(9), 64 * 2, 0.5);
    w[3 * 2 + 0] = NaN; // input 3 of channel 0: its block (inputs 0–31, channel 0)
    w[40 * 2 + 1] = Infinity; // input 40 of channel 1: block 2 of channel 1
    const blockNaN = (q: Float32Array, i: number, j: number) => Number.isNaN(q[i * 2 + j]);
    const mx = quantizeWeights(w, [64, 2], formatSpec('mxfp4')).values;
    for (let i = 0; i < 64; i++) {
      expect(blockNaN(mx, i, 0)).toBe(i < 32);
      expect(blockNaN(mx, i, 1)).toBe(i >= 32);
    }
    const fp8 = quantizeWeights(w, [64, 2], formatSpec('fp8-e4m3', 'row')).values;
    expect(fp8.every(Number.isNaN)).toBe(true); // both channels hold a non-finite value
    w[40 * 2 + 1] = 0.1;
    const fp8b = quantizeWeights(w, [64, 2], formatSpec('fp8-e4m3', 'row')).values;
    for (let i = 0; i < 64; i++) expect([blockNaN(fp8b, i, 0), blockNaN(fp8b, i, 1)]).toEqual([true, false]);
    expect(quantizeWeights(w, [64, 2], formatSpec('nvfp4')).values.every(Number.isNaN)).toBe(true);
    // The tfjs op agrees, fused kernel and tf-op chain.
    for (const fused of [true, false]) {
      setFusedKernels(fused);
      for (const s of [formatSpec('mxfp4'), formatSpec('fp8-e4m3', 'row'), formatSpec('nvfp4')]) {
        const host = quantizeWeights(w, [64, 2], s).values;
        const t = quantizeTensor(tf.tensor2d(w, [64, 2]), s);
        const dev = (await t.data()) as Float32Array;
        t.dispose();
        expect(Array.from(dev).map(String)).toEqual(Array.from(host).map(String));
      }
    }
    setFusedKernels(true);
  });
});

describe('validation, labels and config resolution', () => {
  it('messages name the bits, gran and group keys', () => {
    expect(validateSpec({ ...formatSpec('mxfp4'), bits: 3 })).toEqual(['mxfp4 is 4 bits (bits=4), got 3']);
    expect(specProblems({ ...formatSpec('fp8-e4m3'), granularity: 'group', groupSize: 32 })).toEqual([
      { field: 'granularity', message: 'fp8-e4m3 has one FP32 scale per tensor or per output channel (gran=tensor or gran=row), not per group' },
    ]);
    expect(specProblems({ ...formatSpec('mxfp4'), granularity: 'row' })[0]).toEqual({
      field: 'granularity',
      message: 'mxfp4 has one scale per block of 32 consecutive inputs (gran=group, group=32), got gran=row',
    });
    expect(specProblems({ ...formatSpec('nvfp4'), groupSize: 32 })[0]).toMatchObject({
      field: 'groupSize',
      message: expect.stringMatching(/group=16.*got group=32/),
    });
    expect(validateSpec({ ...formatSpec('mxfp4'), clip: 'mse' })[0]).toMatch(/clip 'mse'/);
    for (const s of FORMAT_SCHEMES) expect(validateSpec(formatSpec(s))).toEqual([]);
  });

  it('labels', () => {
    expect(specLabel(formatSpec('mxfp4'))).toBe('MXFP4 g32');
    expect(specLabel(formatSpec('nvfp4'))).toBe('NVFP4 g16');
    expect(specLabel(formatSpec('fp8-e4m3', 'row'))).toBe('FP8 E4M3 row');
    expect(specLabel(formatSpec('mxfp6-e2m3'))).toBe('MXFP6 E2M3 g32');
  });

  const poly = (edit: (c: ExperimentConfig) => void): ExperimentConfig => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model = { width: 32, depth: 3 };
    edit(c);
    return c;
  };

  it('the block formats fix their blocks whatever gran and group say; FP8 takes tensor or row', () => {
    const q = poly((c) => ((c.quant.granularity = 'row'), (c.quant.groupSize = 64))).quant;
    expect(resolveWeightQuant(q, 4, 'mxfp4')).toEqual({ kind: 'zoo', spec: { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' } });
    expect(resolveWeightQuant(q, 4, 'nvfp4')).toMatchObject({ spec: { granularity: 'group', groupSize: 16 } });
    expect(resolveWeightQuant(q, 8, 'fp8-e4m3')).toMatchObject({ spec: { granularity: 'row', groupSize: 64 } });
    // Every layer, the first (14 inputs: one partial block) included.
    expect(configProblems(poly((c) => ((c.quant.scheme = 'mxfp4'), (c.quant.bits = 4))))).toEqual([]);
    expect(configProblems(poly((c) => ((c.quant.scheme = 'nvfp4'), (c.quant.bits = 4))))).toEqual([]);
    expect(configProblems(poly((c) => ((c.quant.scheme = 'fp8-e5m2'), (c.quant.bits = 8), (c.quant.granularity = 'tensor'))))).toEqual([]);
    // Blame: bits that the scheme does not take → scheme (as nf4); FP8 per group → gran; an override → lq.
    expect(configProblems(poly((c) => ((c.quant.scheme = 'mxfp4'), (c.quant.bits = 3))))[0]).toMatchObject({
      key: 'scheme',
      message: 'mxfp4 is 4 bits (bits=4), got 3.',
    });
    const fp8g = configProblems(poly((c) => ((c.quant.scheme = 'fp8-e4m3'), (c.quant.bits = 8), (c.quant.granularity = 'group'))));
    expect(fp8g[0]).toMatchObject({ key: 'gran', message: expect.stringMatching(/gran=tensor or gran=row/) });
    expect(configProblems(poly((c) => (c.quant.overrides = [{ layer: 1, bits: 3, scheme: 'nvfp4' }])))[0]).toMatchObject({ key: 'lq' });
    // Mixed per layer: int4 per channel everywhere but layer 1 in MXFP4 and layer 3 in FP8 per channel.
    const mixed = poly((c) => {
      c.quant.bits = 4;
      c.quant.scheme = 'sym-narrow';
      c.quant.granularity = 'row';
      c.quant.overrides = [
        { layer: 1, bits: 4, scheme: 'mxfp4' },
        { layer: 3, bits: 8, scheme: 'fp8-e4m3' },
      ];
    });
    expect(configProblems(mixed)).toEqual([]);
  });

  it('the LM blames the component bits; links and the CLI accept the schemes', () => {
    const lm = cloneConfig(DEFAULT_CONFIG);
    lm.task = 'lm';
    lm.quant.scheme = 'mxfp4';
    // The default 3 bits: one message (the same text is not repeated for mlp).
    expect(configProblems(lm)).toEqual([expect.objectContaining({ key: 'bits_attn', message: 'attn: mxfp4 is 4 bits (bits=4), got 3.' })]);
    lm.lm.attnBits = 4;
    lm.lm.mlpBits = 4;
    expect(configProblems(lm)).toEqual([]);
    const link = parseParams('v=1&bits=4&scheme=nvfp4&lq=0:8:fp8-e4m3');
    expect(link.messages).toEqual([]);
    expect(link.config.quant.scheme).toBe('nvfp4');
    const bad = parseParams('v=1&bits=4&scheme=fp8-e4m3');
    expect(bad.messages.join(' ')).toMatch(/fp8-e4m3 is 8 bits \(bits=8\), got 4/);
  });
});

/** Random [in, out] weights with outliers, a channel of tiny weights (subnormal codes) and a zero block. */
function testWeights(seed: number, inDim: number, outDim: number): Float32Array {
  const w = gaussian(new Rng(seed), inDim * outDim, 0.3);
  for (let i = 0; i < inDim; i++) w[i * outDim + 1] *= 1e-3 * (1 + (i % 7));
  for (let i = 0; i < Math.min(16, inDim); i++) w[i * outDim + 2] = 0;
  w[5 * outDim] = 4.5;
  w[(inDim - 1) * outDim + 3] = -2.75;
  return w;
}

/**
 * One block per column (in = 32), each with one value at, just below or just above a power of two
 * from 2^-120 to 2^125 and a few smaller ones: every binade of the block scales and the element grids.
 */
function wideRangeWeights(): Float32Array {
  const heads: number[] = [];
  for (let k = -120; k <= 125; k += 5) heads.push(2 ** k, Math.fround(2 ** k * (1 - 2 ** -24)), Math.fround(2 ** k * (1 + 2 ** -23)), 1.5 * 2 ** k);
  const outDim = heads.length;
  const w = new Float32Array(32 * outDim);
  heads.forEach((h, j) => {
    for (let i = 0; i < 32; i++) w[i * outDim + j] = Math.fround(h * (i === 0 ? 1 : (i % 2 ? -1 : 1) * 0.77 ** i));
  });
  return w;
}

async function hostVsTf(): Promise<string[]> {
  const bad: string[] = [];
  const wide = wideRangeWeights();
  for (const [inDim, outDim] of [
    [45, 7],
    [64, 5],
    [14, 6],
    [32, wide.length / 32],
  ] as const) {
    const w = inDim === 32 ? wide : testWeights(inDim, inDim, outDim);
    const wt = tf.tensor2d(w, [inDim, outDim]);
    for (const s of allFormatSpecs()) {
      const host = quantizeWeights(w, [inDim, outDim], s).values;
      const t = quantizeTensor(wt, s);
      const dev = (await t.data()) as Float32Array;
      t.dispose();
      let n = 0;
      for (let k = 0; k < host.length; k++) if (!Object.is(host[k], dev[k])) n++;
      if (n) bad.push(`${specLabel(s)} [${inDim}, ${outDim}]: ${n} of ${host.length} differ`);
    }
    wt.dispose();
  }
  return bad;
}

/** hostVsTf with the fused format kernel (what training runs) and with the tf-op chain it replaces. */
async function hostVsTfBoth(): Promise<string[]> {
  const fused = await hostVsTf();
  setFusedKernels(false);
  try {
    return [...fused.map((m) => `fused kernel: ${m}`), ...(await hostVsTf()).map((m) => `tf-op chain: ${m}`)];
  } finally {
    setFusedKernels(true);
  }
}

describe('tfjs fake-quant = host, bit for bit', () => {
  it('cpu backend, every format, partial blocks, tiny and zero groups, fused kernel and tf-op chain; no leaked tensors', async () => {
    const before = tf.memory().numTensors;
    expect(await hostVsTfBoth()).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('wasm backend (what the CLI uses) agrees too, fused kernel and tf-op chain', async () => {
    setWasmPaths(wasmDir());
    const ok = await tf.setBackend('wasm');
    try {
      expect(ok && tf.getBackend()).toBe('wasm');
      expect(await hostVsTfBoth()).toEqual([]);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('F(x · (1/s)) in double = F(x / s) for float32 x and s (what the one-pass kernel divides with): 200k random pairs', () => {
    const rng = new Rng(21);
    const f = Math.fround;
    let checked = 0;
    for (let t = 0; t < 200_000; t++) {
      const x = f((rng.next() - 0.5) * 2 ** Math.floor(rng.next() * 60 - 30));
      // Scales as the formats make them (amax / 448, amax / 6 / s_t, …) and arbitrary ones.
      const s = f(t % 2 ? x / f(448 * (0.5 + rng.next())) : (0.5 + rng.next()) * 2 ** Math.floor(rng.next() * 40 - 30));
      if (s === 0 || !Number.isFinite(s)) continue;
      expect(f(x * (1 / s)), `${x} / ${s}`).toBe(f(x / s));
      checked++;
    }
    expect(checked).toBeGreaterThan(190_000);
  });

  it('the one-pass host kernel (formatfast.ts) = quantizeWeights on every format, with NaN and ±Infinity in some groups', () => {
    const [inDim, outDim] = [77, 9];
    const base = testWeights(11, inDim, outDim);
    const cases: [string, Float32Array][] = [['finite', base]];
    const nan = base.slice();
    nan[3 * outDim + 4] = NaN; // one MX block / channel of column 4
    nan[70 * outDim + 6] = -Infinity; // the partial last block of column 6
    cases.push(['NaN and -Infinity', nan]);
    const inf = base.slice();
    inf[20 * outDim + 0] = Infinity;
    cases.push(['+Infinity', inf]);
    const huge = base.map((v, k) => (k % 5 === 0 ? v * 1e37 : v));
    cases.push(['huge and tiny', huge]);
    for (const [name, w] of cases)
      for (const s of allFormatSpecs()) {
        const want = quantizeWeights(w, [inDim, outDim], s).values;
        const got = new Float32Array(w.length);
        formatQuantInto(w, got, inDim, outDim, s);
        const bad = [...want.keys()].filter((k) => !Object.is(want[k], got[k]));
        expect(bad.length, `${name}, ${specLabel(s)}: first at ${bad[0]}: ${want[bad[0]]} vs ${got[bad[0]]}`).toBe(0);
      }
  });

  it('fakeQuant: quantized forward, identity (straight-through) gradient', async () => {
    const [inDim, outDim] = [40, 3];
    const w = tf.tensor2d(testWeights(2, inDim, outDim), [inDim, outDim]);
    const c = tf.tensor2d(gaussian(new Rng(3), inDim * outDim), [inDim, outDim]);
    const before = tf.memory().numTensors;
    for (const s of [formatSpec('mxfp4'), formatSpec('nvfp4'), formatSpec('fp8-e4m3', 'row')]) {
      const d = tf.tidy(() => tf.sub(fakeQuant(w, s), quantizeTensor(w, s)));
      expect(Array.from(await d.data()).every((v) => v === 0)).toBe(true);
      d.dispose();
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuant(x, s), c)))(w);
      expect(Array.from(await g.data())).toEqual(Array.from(await c.data()));
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    c.dispose();
  });
});

/** A random layer: W [in, out] and H from n correlated inputs with unequal scales (as test/gptq.test.ts). */
function randomLayer(seed: number, inDim: number, outDim: number, n = 256) {
  const rng = new Rng(seed);
  const w = gaussian(rng, inDim * outDim);
  const Z = Float64Array.from(gaussian(rng, n * inDim));
  const A = Float64Array.from(gaussian(rng, inDim * inDim));
  const scale = Float64Array.from({ length: inDim }, () => 0.2 + 2 * rng.next());
  const X = new Float64Array(n * inDim);
  for (let t = 0; t < n; t++)
    for (let j = 0; j < inDim; j++) {
      let s = Z[t * inDim + j] * 2;
      for (let k = 0; k < inDim; k++) s += (Z[t * inDim + k] * A[k * inDim + j]) / Math.sqrt(inDim);
      X[t * inDim + j] = s * scale[j];
    }
  return { w, H: hessian(X, n, inDim) };
}

/** Whether every block of `q` ([in, out]) is E2M1 codes times one power of two (a valid MXFP4 tensor). */
function onMxGrid(q: Float32Array, inDim: number, outDim: number): boolean {
  for (let j = 0; j < outDim; j++)
    for (let i0 = 0; i0 < inDim; i0 += 32) {
      const vals = Array.from({ length: Math.min(32, inDim - i0) }, (_, t) => q[(i0 + t) * outDim + j]);
      const ok = Array.from({ length: 60 }, (_, k) => 2 ** (k - 40)).some((X) => vals.every((v) => roundToFormat(v / X, E2M1) === v / X));
      if (!ok) return false;
    }
  return true;
}

describe('GPTQ with block formats', () => {
  const cases: [string, GptqOptions][] = [
    ['gptq.py group parameters', {}],
    ['current group parameters', { groupParams: 'current' }],
    ['act-order (blocks stay runs of original inputs)', { actOrder: true }],
    ['static groups', { staticGroups: true, actOrder: true }],
  ];
  for (const scheme of ['mxfp4', 'nvfp4'] as const)
    for (const [name, opts] of cases)
      it(`${scheme}, ${name}: local error below RTN's on correlated inputs (in = 80: a partial MX block)`, () => {
        const s = formatSpec(scheme);
        for (const seed of [1, 2, 3]) {
          const { w, H } = randomLayer(seed, 80, 12);
          const g = gptqLayer(w, [80, 12], H, s, opts);
          const q = quantizeWeights(w, [80, 12], s).values;
          expect(g.fallback).toBe(false);
          expect(proxyError(w, g.q, [80, 12], H)).toBeLessThan(0.9 * proxyError(w, q, [80, 12], H));
          if (scheme === 'mxfp4') expect(onMxGrid(g.q, 80, 12)).toBe(true);
          if (opts.groupParams === 'current') {
            const b = gptqLayer(w, [80, 12], H, s, { ...opts, blocksize: 7 });
            expect(Array.from(b.q)).toEqual(Array.from(g.q));
          }
        }
      });

  it('FP8 per channel and MXFP6 / MXINT8 too', () => {
    for (const s of [formatSpec('fp8-e4m3', 'row'), formatSpec('mxfp6-e2m3'), formatSpec('mxint8'), formatSpec('mxfp8-e5m2')]) {
      const { w, H } = randomLayer(4, 64, 8);
      const g = gptqLayer(w, [64, 8], H, s);
      expect(proxyError(w, g.q, [64, 8], H)).toBeLessThan(proxyError(w, quantizeWeights(w, [64, 8], s).values, [64, 8], H));
    }
  });
});
