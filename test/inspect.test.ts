/**
 * The block inspector's data (src/engine/core/inspect.ts): exact vectors for MXFP4, NVFP4, int4
 * g128 and FP8 (levels, codes, scales, rounding, errors), the dequantized values against the zoo's
 * RTN (quantizeWeights) for every scheme and granularity, units covering each element once, and
 * the default pick being the unit with the largest error.
 */
import { describe, expect, it } from 'vitest';
import { formatGrid, inspectLayer, SEGMENT, type NamedWeight } from '../src/engine/core/inspect';
import { E2M1, E4M3, E5M2, nvTensorScale, quantizeWeights, SCALE_MIN, type QuantizerSpec } from '../src/engine/core/quantizers';

const zoo = (spec: QuantizerSpec) => ({ kind: 'zoo' as const, spec });
const mat = (values: number[], shape: [number, number], spec: QuantizerSpec): NamedWeight => ({
  name: 'w',
  shape,
  values: Float32Array.from(values),
  quant: zoo(spec),
});

/** A deterministic pseudo-random [in, out] matrix (an LCG; values in about ±1 with a few outliers). */
function randomMatrix(inDim: number, outDim: number, seed = 7): Float32Array {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Float32Array.from({ length: inDim * outDim }, (_, k) => r() * (k % 97 === 0 ? 8 : 1));
}

describe('formatGrid', () => {
  it('lists every finite non-negative value of the element formats', () => {
    expect(formatGrid(E2M1)).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6]);
    // E4M3: 0, 7 subnormals, 15 binades × 8 minus 480 (NaN): 127 values, max 448, smallest 2^-9.
    const e4 = formatGrid(E4M3);
    expect(e4.length).toBe(127);
    expect(e4[1]).toBe(2 ** -9);
    expect(e4[e4.length - 1]).toBe(448);
    // E5M2: 0, 3 subnormals, 30 binades × 4 = 124 values, max 57344.
    expect(formatGrid(E5M2).length).toBe(124);
  });
});

describe('inspectLayer', () => {
  it('MXFP4: E8M0 code of the floor rule, the scaled E2M1 grid, RNE ties, saturation', () => {
    // One channel of 32 inputs: amax 7.5 → floor(log2 7.5) − 2 = 0 → code 127, scale 1.
    const v = [7.5, 0.25, 0.75, -2.5, 5, -6, 1.25, 0, ...Array.from({ length: 24 }, () => 0.5)];
    const r = inspectLayer(mat(v, [32, 1], { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' }));
    expect(r.units.length).toBe(1);
    const b = r.block;
    expect(b.scale.find((s) => s.name === 'E8M0 scale code')?.value).toBe(127);
    expect(b.scale.find((s) => s.name === 'shared exponent')?.value).toBe(0);
    expect(b.levels).toEqual([-6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6]);
    // 7.5 saturates to 6; 0.25 ties to 0 (even), 0.75 to 1 (even mantissa), −2.5 to −2, 5 to 4, 1.25 to 1.
    expect(b.dequant.slice(0, 8)).toEqual([6, 0, 1, -2, 4, -6, 1, 0]);
    expect(b.codes.slice(0, 8)).toEqual([6, 0, 1, -2, 4, -6, 1, 0]);
    const se = 1.5 ** 2 + 0.25 ** 2 + 0.25 ** 2 + 0.5 ** 2 + 1 + 0 + 0.25 ** 2;
    expect(b.errors.mse).toBeCloseTo(se / 32, 12);
    expect(b.errors.maxAbs).toBe(1.5);
    const sig = v.reduce((a, x) => a + x * x, 0);
    expect(b.errors.sqnrDb).toBeCloseTo(10 * Math.log10(sig / se), 10);
  });

  it('MXFP4: a smaller block gets 2^(floor(log2 amax) − 2); a zero block code 0, exact', () => {
    const v = [...Array.from({ length: 32 }, (_, k) => (k === 0 ? 0.3 : 0.01)), ...Array.from({ length: 32 }, () => 0)];
    const r = inspectLayer(mat(v, [64, 1], { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' }), 0);
    // floor(log2 0.3) = −2 → exponent −4, code 123.
    expect(r.block.scale[0].value).toBe(123);
    expect(r.block.levels).toContain(6 * 2 ** -4);
    expect(r.block.dequant[0]).toBe(0.25); // 0.3 / 2^-4 = 4.8 → E2M1 4 → 0.25
  });

  it('NVFP4: FP32 tensor scale, E4M3 block scale, total = product', () => {
    const v = Array.from({ length: 32 }, (_, k) => (k < 16 ? (k + 1) * 0.5 : (k - 15) * 0.01));
    const r = inspectLayer(mat(v, [32, 1], { scheme: 'nvfp4', bits: 4, granularity: 'group', groupSize: 16, clip: 'none' }), 0);
    const st = nvTensorScale(8, Math.fround, SCALE_MIN);
    expect(r.block.scale[0].value).toBe(st);
    // Block 0: amax 8 → (8/6)/st = 448 exactly-ish → E4M3 448.
    expect(r.block.scale[1].value).toBe(448);
    expect(r.block.scale[2].value).toBe(Math.fround(st * 448));
    expect(r.units.length).toBe(2);
    expect(r.block.unit.label).toBe('out 0, in 0–15');
  });

  it('int4 g128: scale amax/7, codes −7…7, 15 levels', () => {
    const v = Array.from({ length: 128 }, (_, k) => (k - 64) / 64);
    const r = inspectLayer(mat(v, [128, 1], { scheme: 'sym-narrow', bits: 4, granularity: 'group', groupSize: 128, clip: 'none' }));
    const s = Math.fround(1 / 7);
    expect(r.block.scale[0].value).toBe(s);
    expect(r.block.levels.length).toBe(15);
    expect(r.block.codes[0]).toBe(-7);
    expect(r.block.codes[64]).toBe(0);
    expect(r.block.dequant[0]).toBe(Math.fround(-7 * s));
  });

  it('FP8 E4M3 per tensor: 253 levels, units are segments of each channel', () => {
    const w = randomMatrix(40, 3);
    const r = inspectLayer({ name: 'w', shape: [40, 3], values: w, quant: zoo({ scheme: 'fp8-e4m3', bits: 8, granularity: 'tensor', clip: 'none' }) });
    expect(r.block.levels.length).toBe(253);
    expect(r.units.length).toBe(3 * Math.ceil(40 / SEGMENT));
    expect(r.units.map((u) => u.len).reduce((a, b) => a + b, 0)).toBe(120);
  });

  const specs: QuantizerSpec[] = [
    { scheme: 'sym-narrow', bits: 4, granularity: 'group', groupSize: 24, clip: 'none' },
    { scheme: 'asym', bits: 3, granularity: 'row', clip: 'mse' },
    { scheme: 'nf4', bits: 4, granularity: 'block', groupSize: 48, clip: 'none' },
    { scheme: 'ternary', bits: 1.58, granularity: 'tensor', clip: 'none' },
    { scheme: 'binary', bits: 1, granularity: 'row', clip: 'none' },
    { scheme: 'kmeans', bits: 2, granularity: 'row', clip: 'none' },
    { scheme: 'fp8-e5m2', bits: 8, granularity: 'row', clip: 'none' },
    { scheme: 'mxfp6-e2m3', bits: 6, granularity: 'group', groupSize: 32, clip: 'none' },
    { scheme: 'mxint8', bits: 8, granularity: 'group', groupSize: 32, clip: 'none' },
    { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' },
    { scheme: 'nvfp4', bits: 4, granularity: 'group', groupSize: 16, clip: 'none' },
  ];
  for (const spec of specs) {
    it(`${spec.scheme} ${spec.granularity}: every unit's values are quantizeWeights's, on its levels, each element once`, () => {
      const shape: [number, number] = [72, 5];
      const w = randomMatrix(...shape, 11);
      const ref = quantizeWeights(w, shape, spec).values;
      const seen = new Int32Array(w.length);
      const first = inspectLayer({ name: 'w', shape, values: w, quant: zoo(spec) }, 0);
      let se = 0;
      for (let k = 0; k < first.units.length; k++) {
        const b = k === 0 ? first.block : inspectLayer({ name: 'w', shape, values: w, quant: zoo(spec) }, k).block;
        for (let t = 0; t < b.values.length; t++) {
          const at = w.indexOf(b.values[t]);
          expect(at).toBeGreaterThanOrEqual(0);
          expect(b.levels).toContain(b.dequant[t] === 0 ? 0 : b.dequant[t]);
          se += (b.dequant[t] - b.values[t]) ** 2;
        }
        // Element positions: recover them through the reference (values in randomMatrix are distinct).
        for (let t = 0; t < b.values.length; t++) {
          const at = w.indexOf(b.values[t]);
          seen[at] += 1;
          expect(b.dequant[t]).toBe(ref[at]);
        }
        expect(b.errors.mse).toBeCloseTo(first.unitMse[k], 12);
      }
      expect([...seen].every((c) => c === 1)).toBe(true);
      expect(first.errors.mse).toBeCloseTo(se / w.length, 10);
    });
  }

  it('picks the unit with the largest error by default, and a requested one when given', () => {
    const w = Array.from({ length: 64 }, (_, k) => (k < 32 ? 0.5 : k === 40 ? 7.5 : 0.9));
    const spec: QuantizerSpec = { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' };
    const r = inspectLayer(mat(w, [64, 1], spec));
    expect(r.picked).toBe(1);
    expect(r.unitMse[1]).toBeGreaterThan(r.unitMse[0]);
    expect(inspectLayer(mat(w, [64, 1], spec), 0).picked).toBe(0);
    expect(inspectLayer(mat(w, [64, 1], spec), 99).picked).toBe(1);
  });

  it('scheme auto (the lab quantizer) is shown as its zoo equivalent, with a note saying so', () => {
    const w = randomMatrix(32, 4, 5);
    const lab = inspectLayer({ name: 'w', shape: [32, 4], values: w, quant: { kind: 'lab', bits: 3, granularity: 'row' } });
    expect(lab.label).toBe('int3 sym-narrow row');
    expect(lab.note).toMatch(/zoo equivalent/);
    expect(inspectLayer(mat(Array.from(w), [32, 4], { scheme: 'sym-narrow', bits: 3, granularity: 'row', clip: 'none' })).note).toBeUndefined();
  });

  it('refuses a full-precision layer with a message', () => {
    expect(() => inspectLayer({ name: 'layer 0', shape: [2, 2], values: new Float32Array(4), quant: null })).toThrow(/full precision/);
  });
});

describe('inspectLayer zero block', () => {
  it('an all-zero MXFP4 block has E8M0 code 0 and no error', () => {
    const w = Array.from({ length: 64 }, (_, k) => (k < 32 ? 0 : 1));
    const r = inspectLayer(mat(w, [64, 1], { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' }), 0);
    expect(r.block.scale[0].value).toBe(0);
    expect(r.block.errors).toEqual({ mse: 0, maxAbs: 0, sqnrDb: null });
  });
});
