/**
 * Randomized Hadamard rotations (src/engine/core/rotation.ts, rotation-tf.ts) and the MLP's online
 * rotation: H orthogonal (padded: orthonormal rows), the host fast transforms equal the dense
 * products, the rotated FP layer equals the unrotated one to float tolerance, the straight-through
 * gradient passes unchanged, kurtosis by hand, GPTQ on a rotated outlier-heavy layer has no more
 * local error than without, and the MLP lab runs RTN / GPTQ / QAFT rotated with honest storage.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './helpers/backend';
import { tinyConfig } from './helpers/configs';
import { cloneConfig } from '../src/engine/core/config';
import { nextPow2, rotateRows, rotateSymmetric, rotationMatrix, rotationOf, rotationSigns, tailStats, unrotateRows } from '../src/engine/core/rotation';
import { rotatedActivation, rotatedFakeQuant, rotationTensors } from '../src/engine/core/rotation-tf';
import { fakeQuantLayer, fakeQuantLayerInput, rtnWeights } from '../src/engine/core/fakequant';
import { Rng } from '../src/engine/core/rng';
import { gptqMlp } from '../src/engine/poly/gptq';
import { weightHistograms } from '../src/engine/poly/histogram';
import { localErrors } from '../src/engine/poly/probes';
import { layerQuant, modelStorageBits, polyProblems, polyMethodProblems } from '../src/engine/poly/layerspec';
import { storageBits } from '../src/engine/core/quantizers/spec';
import { Lab } from '../src/engine/poly/lab';
import type { LayerQuant } from '../src/engine/core/layerquant';
import type { RunRecord } from '../src/engine/core/runs';

beforeAll(async () => {
  await useBackend();
});

/** A·B for row-major A [m, k], B [k, n] in Float64. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}
function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  return out;
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
function gaussians(n: number, seed: number, std = 1): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()) * std);
}
const eye = (n: number) => Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0));

describe('the randomized Hadamard matrix', () => {
  it('entries ±1/√n; H·Hᵀ = Hᵀ·H = I for n a power of two; the signs are seeded', () => {
    for (const n of [1, 2, 8, 32, 128]) {
      const r = rotationOf(n, 3);
      expect(r.n).toBe(n);
      const H = rotationMatrix(r);
      for (const v of H) expect(Math.abs(Math.abs(v) - 1 / Math.sqrt(n))).toBeLessThan(1e-15);
      expect(maxAbsDiff(matmul(H, transpose(H, n, n), n, n, n), eye(n))).toBeLessThan(1e-12);
      expect(maxAbsDiff(matmul(transpose(H, n, n), H, n, n, n), eye(n))).toBeLessThan(1e-12);
    }
    expect(Array.from(rotationSigns(64, 1))).toEqual(Array.from(rotationSigns(64, 1)));
    expect(Array.from(rotationSigns(64, 1))).not.toEqual(Array.from(rotationSigns(64, 2)));
    // Sylvester order with the signs on the columns: H[i][j] = (−1)^popcount(i&j)·s_j/√n.
    const H4 = rotationMatrix(rotationOf(4, 5));
    const s = rotationSigns(4, 5);
    const sign = [
      [1, 1, 1, 1],
      [1, -1, 1, -1],
      [1, 1, -1, -1],
      [1, -1, -1, 1],
    ];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(H4[i * 4 + j]).toBe((sign[i][j] * s[j]) / 2);
  });

  it('a width that is not a power of two is padded: 14 inputs → R of 14 × 16 with orthonormal rows (R·Rᵀ = I)', () => {
    expect(nextPow2(14)).toBe(16);
    expect(nextPow2(512)).toBe(512);
    const r = rotationOf(14, 0);
    expect(r.n).toBe(16);
    const R = rotationMatrix(r);
    expect(maxAbsDiff(matmul(R, transpose(R, 14, 16), 14, 16, 14), eye(14))).toBeLessThan(1e-12);
  });

  it('the host fast transforms equal the dense products: Rᵀ·W, R·Q and Rᵀ·A·R (padded and not)', () => {
    for (const [inDim, cols] of [
      [16, 5],
      [14, 7],
      [64, 3],
    ]) {
      const r = rotationOf(inDim, 9);
      const R = rotationMatrix(r);
      const Rt = transpose(R, inDim, r.n);
      const w = gaussians(inDim * cols, 1);
      expect(maxAbsDiff(rotateRows(w, cols, r), matmul(Rt, w, r.n, inDim, cols))).toBeLessThan(1e-12);
      const q = gaussians(r.n * cols, 2);
      expect(maxAbsDiff(unrotateRows(q, cols, r), matmul(R, q, inDim, r.n, cols))).toBeLessThan(1e-12);
      // Round trip: R·(Rᵀ·W) = W because R·Rᵀ = I.
      expect(maxAbsDiff(unrotateRows(rotateRows(w, cols, r), cols, r), w)).toBeLessThan(1e-12);
      const x = gaussians(10 * inDim, 3);
      const A = matmul(transpose(x, 10, inDim), x, inDim, 10, inDim);
      expect(maxAbsDiff(rotateSymmetric(A, r), matmul(matmul(Rt, A, r.n, inDim, inDim), R, r.n, inDim, r.n))).toBeLessThan(1e-9);
    }
  });
});

describe('rotation on the device', () => {
  it('the FP layer is unchanged: (x·R)·(Rᵀ·W) = x·W to float tolerance (512 wide, and 14 padded to 16)', () => {
    for (const [inDim, outDim] of [
      [512, 64],
      [14, 32],
    ]) {
      const r = rotationOf(inDim, 4);
      const w = tf.tensor2d(Float32Array.from(gaussians(inDim * outDim, 5, 0.05)), [inDim, outDim]);
      const x = tf.tensor2d(Float32Array.from(gaussians(8 * inDim, 6)), [8, inDim]);
      const { R, Rt } = rotationTensors(r);
      const online = tf.matMul(tf.matMul(x, R), tf.matMul(Rt, w));
      const plain = tf.matMul(x, w);
      const same = rotatedFakeQuant(w, r, (t) => t);
      const scale = tf.max(tf.abs(plain)).dataSync()[0];
      expect(maxAbsDiff(online.dataSync(), plain.dataSync()) / scale).toBeLessThan(1e-5);
      expect(maxAbsDiff(same.dataSync(), w.dataSync())).toBeLessThan(1e-6);
      tf.dispose([w, x, online, plain, same]);
    }
  });

  it('activations: q(x·R)·Rᵀ with an identity quantizer is x; fakeQuantLayerInput rotates only quantized activations', () => {
    const r = rotationOf(32, 1);
    const x = tf.tensor2d(Float32Array.from(gaussians(4 * 32, 7)), [4, 32]);
    const y = rotatedActivation(x, r, (t) => t);
    expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBeLessThan(1e-5);
    const off: LayerQuant = { weight: null, actBits: 0, rotation: r };
    expect(fakeQuantLayerInput(x, off)).toBe(x);
    // An outlier input channel: 4-bit per-example absmax is far better after the rotation.
    const outl = tf.tidy(() => tf.add(x, tf.mul(tf.oneHot(tf.tensor1d([5, 5, 5, 5], 'int32'), 32), 40)));
    const err = (l: LayerQuant) => tf.tidy(() => tf.sum(tf.square(tf.sub(fakeQuantLayerInput(outl, l), outl))).dataSync()[0]);
    expect(err({ weight: null, actBits: 4, rotation: r })).toBeLessThan(err({ weight: null, actBits: 4 }) / 2);
    tf.dispose([x, y, outl]);
  });

  it('the straight-through gradient of R·q(Rᵀ·W) is the identity', () => {
    const r = rotationOf(64, 2);
    const w = tf.tensor2d(Float32Array.from(gaussians(64 * 16, 8, 0.1)), [64, 16]);
    const c = tf.tensor2d(Float32Array.from(gaussians(64 * 16, 9)), [64, 16]);
    const l: LayerQuant = {
      weight: { kind: 'zoo', spec: { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' } },
      actBits: 0,
      rotation: r,
    };
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fakeQuantLayer(v, l), c)))(w);
    expect(maxAbsDiff(g.dataSync(), c.dataSync())).toBeLessThan(1e-5);
    // The forward value is quantized in the rotated basis: Rᵀ·(value) lies on MXFP4's grid, as RTN on the host gives.
    const v = fakeQuantLayer(w, l);
    expect(v.shape).toEqual([64, 16]);
    tf.dispose([w, c, g, v]);
  });

  it('RTN on the host and the device fake-quant agree on a rotated layer (int4 per row, and MXFP4)', async () => {
    const r = rotationOf(64, 3);
    const host = Float32Array.from(gaussians(64 * 16, 10, 0.1));
    const w = tf.tensor2d(host, [64, 16]);
    for (const weight of [
      { kind: 'lab', bits: 4, granularity: 'row' },
      { kind: 'zoo', spec: { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' } },
    ] as const) {
      const l: LayerQuant = { weight, actBits: 0, rotation: r };
      const dev = tf.tidy(() => fakeQuantLayer(w, l)).dataSync();
      const h = await rtnWeights(host, [64, 16], weight, r);
      expect(maxAbsDiff(dev, h)).toBeLessThan(1e-5);
      // And differs from RTN without the rotation (it quantizes other values).
      expect(maxAbsDiff(h, await rtnWeights(host, [64, 16], weight, null))).toBeGreaterThan(1e-3);
    }
    w.dispose();
  });
});

describe('kurtosis and the outlier ratio (tailStats)', () => {
  it('by hand', () => {
    // ±1: m2 = 1, m4 = 1 → 1 − 3 = −2; max|x|/σ = 1.
    expect(tailStats([1, -1, 1, -1])).toEqual({ kurtosis: -2, maxOverStd: 1 });
    // Nine zeros and a 10: mean 1, m2 = (9·1 + 81)/10 = 9, m4 = (9·1 + 6561)/10 = 657 → 657/81 − 3; max/σ = 10/3.
    const t = tailStats([0, 0, 0, 0, 0, 0, 0, 0, 0, 10]);
    expect(t.kurtosis).toBeCloseTo(657 / 81 - 3, 12);
    expect(t.maxOverStd).toBeCloseTo(10 / 3, 12);
    expect(tailStats([2, 2, 2])).toEqual({ kurtosis: 0, maxOverStd: 0 });
    expect(tailStats([])).toEqual({ kurtosis: 0, maxOverStd: 0 });
  });

  it('a Gaussian has kurtosis ≈ 0; planted outlier rows make it large, and the rotation brings it back near 0', () => {
    expect(Math.abs(tailStats(gaussians(200_000, 11)).kurtosis)).toBeLessThan(0.05);
    const [inDim, cols] = [128, 64];
    const w = gaussians(inDim * cols, 12, 0.02);
    for (const row of [3, 77]) for (let j = 0; j < cols; j++) w[row * cols + j] *= 30;
    const before = tailStats(w);
    const after = tailStats(rotateRows(w, cols, rotationOf(inDim, 0)));
    expect(before.kurtosis).toBeGreaterThan(20);
    expect(after.kurtosis).toBeLessThan(before.kurtosis / 5);
    expect(after.maxOverStd).toBeLessThan(before.maxOverStd / 2);
  });
});

describe('the weights view data (weightHistograms) with a rotation', () => {
  it('a rotated run is shown in its rotated basis, where its values lie on a grid; the tails are before → after the rotation', async () => {
    const [inDim, cols] = [32, 8];
    const w = Float32Array.from(gaussians(inDim * cols, 15, 0.05));
    for (let j = 0; j < cols; j++) w[7 * cols + j] *= 20; // an outlier input row
    const r = rotationOf(inDim, 2);
    const weight = { kind: 'zoo', spec: { scheme: 'sym-narrow', bits: 3, granularity: 'tensor', clip: 'none' } } as const;
    const q = await rtnWeights(w, [inDim, cols], weight, r);
    const fp = { dims: [inDim, cols], weights: [w], biases: [new Float32Array(cols)] };
    const qs = { dims: [inDim, cols], weights: [q], biases: [new Float32Array(cols)] };
    const [rot] = weightHistograms(fp, qs, 40, [r], () => r);
    expect(rot.rotated).toBe(true);
    // int3 narrow per tensor: at most 7 values in the rotated basis (as stored, R·q takes many more).
    expect(rot.levels?.length).toBeLessThanOrEqual(7);
    const [plain] = weightHistograms(fp, qs, 40, [null], () => r);
    expect(plain.levels === null || plain.levels.length > 7).toBe(true);
    expect(rot.tails).toEqual(plain.tails);
    expect(rot.tails.before.kurtosis).toBeGreaterThan(10);
    expect(rot.tails.after.kurtosis).toBeLessThan(rot.tails.before.kurtosis / 3);
    expect(rot.fp.reduce((a, b) => a + b, 0)).toBe(inDim * cols);
  });
});

describe('GPTQ in a rotated basis', () => {
  it('on a layer with outlier inputs, GPTQ of Rᵀ·W with Rᵀ·H·R has no more local error than GPTQ of W (int4 per row and MXFP4), and the error it reports is the original basis error', async () => {
    const [inDim, outDim, n] = [64, 32, 256];
    const w = Float32Array.from(gaussians(inDim * outDim, 13, 0.05));
    for (const row of [5, 40]) for (let j = 0; j < outDim; j++) w[row * outDim + j] *= 25; // outlier input channels of W
    const calib = Float32Array.from(gaussians(n * inDim, 14));
    const snap = { dims: [inDim, outDim], weights: [w], biases: [new Float32Array(outDim)] };
    const r = rotationOf(inDim, 0);
    for (const spec of [
      { scheme: 'sym-narrow', bits: 4, granularity: 'row', clip: 'none' },
      { scheme: 'mxfp4', bits: 4, granularity: 'group', groupSize: 32, clip: 'none' },
    ] as const) {
      const plain = await gptqMlp(snap, calib, [spec]);
      const rot = await gptqMlp(snap, calib, [spec], {}, undefined, [r]);
      const [p, q] = [plain.layers[0], rot.layers[0]];
      expect(q.localErrorGptq, spec.scheme).toBeLessThanOrEqual(p.localErrorGptq);
      expect(q.localErrorRtn, spec.scheme).toBeLessThan(p.localErrorRtn);
      // The returned weights are in the layer's own basis: their local error (mean ‖x·ΔW‖²) is the reported one.
      const le = localErrors(snap, rot.snapshot, calib, n)[0];
      expect(Math.abs(le - q.localErrorGptq) / q.localErrorGptq).toBeLessThan(1e-3);
    }
  });
});

describe('the MLP lab with rot=hadamard', () => {
  it('layer quantizers carry the rotation; storage counts the padded rows; problems with padded activations and LSQ', () => {
    const c = tinyConfig({ bits: 4 });
    c.quant.rotate = 'hadamard';
    const layers = layerQuant(c);
    expect(layers.map((l) => l.rotation?.n)).toEqual([16, 32, 32]);
    const plain = tinyConfig({ bits: 4 });
    // Layer 0 stores 16 rotated rows instead of 14: 2 × 32 more int4 codes (per-row scales unchanged).
    expect(modelStorageBits(c, true) - modelStorageBits(plain, true)).toBe(2 * 32 * 4);
    expect(storageBits({ scheme: 'sym-narrow', bits: 4, granularity: 'row', clip: 'none' }, [16, 32]).totalBits).toBeGreaterThan(0);
    expect(polyProblems(c)).toEqual([]);
    c.quant.actBits = 8;
    expect(polyProblems(c).map((p) => p.key)).toEqual(['rot']);
    c.quant.layers = 'nofirst';
    expect(polyProblems(c)).toEqual([]);
    expect(polyMethodProblems(c, 'lsq')[0]).toMatch(/rot/);
    expect(polyMethodProblems(c, 'gptq')).toEqual([]);
  });

  it('RTN, GPTQ and QAFT run rotated (all layers, int4); the FP run is the same model; tensors do not leak', async () => {
    const c = tinyConfig({ bits: 4, fpSteps: 150, qaftSteps: 30 });
    c.quant.rotate = 'hadamard';
    const lab = new Lab();
    const runs: RunRecord[] = await lab.run(c, ['fp', 'rtn', 'gptq', 'qaft'], () => {});
    const before = tf.memory().numTensors;
    const again = await lab.run(c, ['rtn', 'qaft'], () => {});
    expect(tf.memory().numTensors).toBe(before);
    for (const r of [...runs, ...again]) {
      expect(r.status, r.method).toBe('done');
      expect(Number.isFinite(r.loss), r.method).toBe(true);
    }
    const plain = tinyConfig({ bits: 4, fpSteps: 150, qaftSteps: 30 });
    const ref = await lab.run(plain, ['rtn'], () => {});
    // Same FP model (rotation is not a setting of the FP training), a different quantization.
    expect(runs.find((r) => r.method === 'rtn')?.loss).not.toBe(ref[0].loss);
    expect(runs.find((r) => r.method === 'rtn')?.storageBits).toBe(modelStorageBits(c, true));
    lab.dispose();
  });

  it('with a dynamic activation quantizer of the act settings (FP8 per tensor): RTN, GPTQ and QAFT run rotated, and the act format matters', async () => {
    const c = tinyConfig({ bits: 4, fpSteps: 150, qaftSteps: 20 });
    c.quant.rotate = 'hadamard';
    c.quant.layers = 'nofirst';
    c.quant.actBits = 8;
    c.act.format = 'fp8-e4m3';
    c.act.granularity = 'tensor';
    expect(polyProblems(c)).toEqual([]);
    expect(
      layerQuant(c)
        .slice(1)
        .map((l) => [l.rotation?.n, l.act?.format]),
    ).toEqual([
      [32, 'fp8-e4m3'],
      [32, 'fp8-e4m3'],
    ]);
    const lab = new Lab();
    const runs: RunRecord[] = await lab.run(c, ['fp', 'rtn', 'gptq', 'qaft'], () => {});
    for (const r of runs) {
      expect(r.status, r.method).toBe('done');
      expect(Number.isFinite(r.loss), r.method).toBe(true);
    }
    const intAct = cloneConfig(c);
    intAct.act.format = 'int';
    const ref = await lab.run(intAct, ['rtn'], () => {});
    expect(runs.find((r) => r.method === 'rtn')?.loss).not.toBe(ref[0].loss);
    lab.dispose();
  });
});
