/**
 * Activation quantization (observers, static and dynamic, int and FP8), AWQ and SmoothQuant:
 * observers against hand-computed values, the tfjs quantizer by hand (values and the clipped STE),
 * the default bit for bit as before, SmoothQuant's exact rescaling, AWQ's search, and both on an
 * MLP with planted activation outliers.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './helpers/backend';
import { DEFAULT_CONFIG, cloneConfig, type ActConfig } from '../src/engine/core/config';
import { actMethodProblems, actProblems } from '../src/engine/core/act';
import { fakeQuantAct } from '../src/engine/core/actquant';
import { fakeQuantActivation } from '../src/engine/core/quant';
import { actQuantValue, emaAmax, maxAbs, mseAmax, observeAmax, percentileAbs } from '../src/engine/core/observers';
import { awqScales, awqSearch, inputStats, quantizeScaled, scaleRows, smoothQuantScales } from '../src/engine/core/smooth';
import { quantizeWeights } from '../src/engine/core/quantizers/host';
import type { LayerQuant } from '../src/engine/core/layerquant';
import type { QuantizerSpec } from '../src/engine/core/quantizers/spec';
import { Rng } from '../src/engine/core/rng';
import { layerQuant } from '../src/engine/poly/layerspec';
import { calibrateMlpActs, smoothMlp } from '../src/engine/poly/actcalib';
import { hostForward } from '../src/engine/poly/gptq';
import { forward, mlpFromSnapshot, disposeMlp, type MlpSnapshot } from '../src/engine/poly/model';
import { rtnSnapshot } from '../src/engine/poly/weightquant';
import { configProblems } from '../src/engine/tasks';
import { fakeQuantLayerInput } from '../src/engine/core/fakequant';
import { rotationOf } from '../src/engine/core/rotation';
import { rotationTensors } from '../src/engine/core/rotation-tf';

beforeAll(async () => {
  await useBackend();
});

const act = (over: Partial<ActConfig> = {}): ActConfig => ({ ...DEFAULT_CONFIG.act, ...over });

describe('observers (hand-computed)', () => {
  it('min-max is max |x|; percentile interpolates linearly between order statistics of |x|', () => {
    expect(maxAbs([-3, 1, 2])).toBe(3);
    // |x| sorted: 1 2 3 4 5; p50 → rank 2 → 3; p90 → rank 3.6 → 4 + 0.6·(5 − 4)
    expect(percentileAbs([-5, 1, -2, 4, 3], 50)).toBe(3);
    expect(percentileAbs([-5, 1, -2, 4, 3], 90)).toBeCloseTo(4.6, 12);
    expect(percentileAbs([-5, 1, -2, 4, 3], 100)).toBe(5);
    expect(percentileAbs([2], 99.9)).toBe(2);
  });

  it('EMA: m1 = batch 1 max, then m = d·m + (1 − d)·batch max', () => {
    expect(emaAmax([1, 3, 2], 0.5)).toBe(2); // 1 → 0.5 + 1.5 = 2 → 1 + 1 = 2
    expect(emaAmax([4, 0], 0.9)).toBeCloseTo(3.6, 12);
    expect(observeAmax([[1, -1], [3], [-2, 0.5]], act({ observer: 'ema', emaDecay: 0.5 }), 8)).toBe(2);
    expect(observeAmax([[1, -1], [3], [-2, 0.5]], act({ observer: 'minmax' }), 8)).toBe(3);
  });

  it('MSE: the clipping value on the shrink grid minimizing the squared error (int2: 8 × 0.3 and one outlier 1)', () => {
    // c ≥ 0.6: 0.3/c ≤ 0.5 rounds to 0, error 8·0.09 + (1 − c)² ≥ 0.72; c < 0.6: 0.3 → c, error 8(0.3 − c)² + (1 − c)²,
    // least at c = 3.4/9 ≈ 0.378; on the grid 1 − i/100: 0.38 (0.4356) beats 0.37 (0.4361) and 0.39 (0.4361).
    const xs = [...Array<number>(8).fill(0.3), 1];
    expect(mseAmax(xs, 2, 'int')).toBeCloseTo(0.38, 12);
    expect(observeAmax([xs], act({ observer: 'mse' }), 2)).toBeCloseTo(0.38, 12);
    expect(mseAmax([0, 0], 8, 'int')).toBe(0);
  });

  it('the quantizer the observers score: int (s = qp/amax, clamp to −2^(B−1)…2^(B−1)−1) and FP8 (scale amax/448, RNE, saturating)', () => {
    expect(actQuantValue(0.5, 1, 4, 'int')).toBe(4 / 7); // 3.5 → 4 (half to even)
    expect(actQuantValue(-2, 1, 4, 'int')).toBe(-8 / 7);
    expect(actQuantValue(17, 448, 8, 'fp8-e4m3')).toBe(16); // 16 and 18 tie: even mantissa
    expect(actQuantValue(1000, 448, 8, 'fp8-e4m3')).toBe(448);
    expect(actQuantValue(1000, 57344, 8, 'fp8-e5m2')).toBe(1024);
  });
});

describe('the activation fake-quantizer (tfjs)', () => {
  const l = (over: Partial<LayerQuant>): LayerQuant => ({ weight: null, actBits: 4, ...over });

  it('default settings: exactly issue 2’s dynamic absmax per example, and no act field on the layers', async () => {
    const x = tf.tensor2d([0.3, -1.7, 0.05, 2.2, -0.4, 0.9, 1.1, -3], [2, 4]);
    const a = await fakeQuantAct(x, { weight: null, actBits: 8 }).data();
    const b = await fakeQuantActivation(x, 8).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.actBits = 8;
    expect(layerQuant(c).every((q) => q.act === undefined && q.actBits === 8)).toBe(true);
    c.act.granularity = 'tensor';
    expect(layerQuant(c)[0].act).toEqual({ format: 'int', granularity: 'tensor', observer: 'dynamic' });
    x.dispose();
  });

  it('static int4 with amax 1: clips, and the gradient passes only where nothing clipped', async () => {
    const x = tf.tensor2d([[0.5, -2, 1, 0.2]]);
    const q = l({ act: { format: 'int', granularity: 'tensor', observer: 'minmax' }, actAmax: 1 });
    expect(Array.from(await fakeQuantAct(x, q).data())).toEqual(Array.from(new Float32Array([4 / 7, -8 / 7, 1, 1 / 7])));
    const g = tf.grad((t: tf.Tensor) => tf.sum(fakeQuantAct(t, q)))(x);
    expect(Array.from(await g.data())).toEqual([1, 0, 1, 1]);
    expect(() => fakeQuantAct(x, l({ act: { format: 'int', granularity: 'tensor', observer: 'mse' } }))).toThrow(/not been calibrated/);
    tf.dispose([x, g]);
  });

  it('static FP8 E4M3 with amax 896 (scale 2): 34 → 32, 2000 saturates at 896 with zero gradient', async () => {
    const x = tf.tensor2d([[34, 2000, -3]]);
    const q = l({ actBits: 8, act: { format: 'fp8-e4m3', granularity: 'tensor', observer: 'minmax' }, actAmax: 896 });
    expect(Array.from(await fakeQuantAct(x, q).data())).toEqual([32, 896, -3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(fakeQuantAct(t, q)))(x);
    expect(Array.from(await g.data())).toEqual([1, 0, 1]);
    tf.dispose([x, g]);
  });

  it('dynamic per tensor and FP8 per token; smoothing scales quantize x/s and return s·Qa(x/s)', async () => {
    const x = tf.tensor2d([
      [1, -0.5],
      [4, 0.3],
    ]);
    // int4 per tensor: s = 7/4; 1·1.75 = 1.75 → 2; −0.875 → −1; 7 → 7; 0.525 → 1
    const t = fakeQuantAct(x, l({ act: { format: 'int', granularity: 'tensor', observer: 'dynamic' } }));
    expect(Array.from(await t.data())).toEqual(Array.from(new Float32Array([2 / 1.75, -1 / 1.75, 4, 1 / 1.75])));
    // FP8 per token: row amax 1 and 4 → scales 1/448 and 4/448; every value here is exact in E4M3 after scaling but 0.3
    const f = await fakeQuantAct(x, l({ actBits: 8, act: { format: 'fp8-e4m3', granularity: 'token', observer: 'dynamic' } })).data();
    expect(f[0]).toBe(1);
    expect(f[1]).toBe(-0.5);
    expect(f[3]).toBeCloseTo(32 / 112, 6); // 0.3·112 = 33.6 → 32 (E4M3 step 4 in [32, 64))
    // smoothing s = (4, 1): x/s = [[0.25, −0.5], [1, 0.3]], static int4 amax 1: [[2/7, −4/7], [1, 2/7]] times s
    const sm = fakeQuantAct(x, l({ act: { format: 'int', granularity: 'tensor', observer: 'minmax' }, actAmax: 1, smooth: Float32Array.of(4, 1) }));
    expect(Array.from(await sm.data())).toEqual(Array.from(new Float32Array([(2 / 7) * 4, -4 / 7, 4, 2 / 7])));
    tf.dispose([x, t, sm]);
  });
});

describe('settings', () => {
  it('FP8 needs abits 8; static observers need agran=tensor; SmoothQuant needs quantized activations; some methods are refused', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.actBits = 4;
    c.act.format = 'fp8-e4m3';
    expect(actProblems(c).map((p) => p.key)).toEqual(['afmt']);
    c.act.format = 'int';
    c.act.observer = 'mse';
    expect(actProblems(c).map((p) => p.key)).toEqual(['agran']);
    c.act.granularity = 'tensor';
    c.act.smooth = 'smoothquant';
    expect(actProblems(c)).toEqual([]);
    c.quant.actBits = 0;
    expect(actProblems(c).map((p) => p.key)).toEqual(['smooth']);
    c.quant.actBits = 8;
    expect(actMethodProblems(c, 'qalora').length).toBe(2);
    expect(actMethodProblems(c, 'gptq')).toEqual([]);
    expect(actMethodProblems(c, 'scratch')).toEqual([]); // runs without the scales, with a note (scratchSmoothNote)
    expect(actMethodProblems(c, 'lsq').length).toBe(1);
  });
});

describe('Hadamard rotation with the act settings', () => {
  it('refuses rot with AWQ / SmoothQuant and with a static observer (both tasks, key rot); a dynamic quantizer is accepted', () => {
    for (const task of ['poly', 'lm'] as const) {
      const c = cloneConfig(DEFAULT_CONFIG);
      c.task = task;
      c.quant.rotate = 'hadamard';
      c.quant.actBits = 8;
      c.quant.layers = 'nofirst'; // the MLP's first layer (14 inputs) cannot rotate quantized activations
      c.act.format = 'fp8-e4m3';
      c.act.granularity = 'tensor';
      expect(configProblems(c), task).toEqual([]);
      c.act.smooth = 'awq';
      expect(configProblems(c).filter((p) => p.key === 'rot' && p.also?.includes('smooth')).length, task).toBe(1);
      c.act.smooth = 'none';
      c.act.observer = 'mse';
      const refused = configProblems(c).filter((p) => p.key === 'rot');
      expect(
        refused.map((p) => p.also),
        task,
      ).toEqual([['aobs']]);
      expect(refused[0].message).toContain('aobs=mse');
      c.quant.rotate = 'none';
      expect(configProblems(c), task).toEqual([]);
      // Without activation bits a static observer calibrates nothing: the rotation is fine.
      c.quant.rotate = 'hadamard';
      c.quant.actBits = 0;
      expect(
        configProblems(c).filter((p) => p.key === 'rot'),
        task,
      ).toEqual([]);
    }
  });

  it('a rotated layer’s input is the act quantizer applied in the rotated basis, rotated back; the default path is issue 2’s quantizer', async () => {
    const rng = new Rng(3);
    const x = tf.tensor2d(randn(rng, 4 * 16, 2), [4, 16]);
    const r = rotationOf(16, 1);
    const spec = { format: 'fp8-e4m3', granularity: 'tensor', observer: 'dynamic' } as const;
    const plain: LayerQuant = { weight: null, actBits: 8, act: spec };
    const rotated: LayerQuant = { ...plain, rotation: r };
    const { R, Rt } = rotationTensors(r);
    const got = fakeQuantLayerInput(x, rotated);
    const want = tf.tidy(() => tf.matMul(fakeQuantAct(tf.matMul(x, R), plain), Rt));
    expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
    // It is not the unrotated quantizer's output (the rotation changes what the grid sees).
    const unrot = fakeQuantLayerInput(x, plain);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, unrot))));
    expect((await diff.data())[0]).toBeGreaterThan(1e-4);
    // Defaults (no act spec, no rotation): exactly issue 2's dynamic absmax per example.
    const d = fakeQuantLayerInput(x, { weight: null, actBits: 4, rotation: null });
    const e = fakeQuantActivation(x, 4);
    expect(Array.from(await d.data())).toEqual(Array.from(await e.data()));
    tf.dispose([x, got, want, unrot, diff, d, e]);
  });
});

const int = (bits: number, granularity: QuantizerSpec['granularity'] = 'row'): QuantizerSpec => ({ scheme: 'sym-narrow', bits, granularity, clip: 'none' });

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

describe('SmoothQuant and AWQ scales', () => {
  it('SmoothQuant: s = max|x|^α / max|W|^(1−α) by hand, and (x/s)·(diag(s)·W) = x·W to float tolerance', () => {
    // actMax (4, 1), row maxima of W (1, 4), α ½: s = (2/1, 1/2)
    const s0 = smoothQuantScales([4, 1], [1, -0.5, 4, 2], [2, 2], 0.5);
    expect(Array.from(s0)).toEqual([2, 0.5]);
    const rng = new Rng(3);
    const [n, inDim, outDim] = [10, 8, 5];
    const X = randn(rng, n * inDim, 3);
    const W = randn(rng, inDim * outDim);
    const stats = inputStats(X, n, inDim, false);
    const s = smoothQuantScales(stats.maxAbs, W, [inDim, outDim], 0.5);
    const Ws = scaleRows(W, [inDim, outDim], s);
    for (let t = 0; t < n; t++)
      for (let j = 0; j < outDim; j++) {
        let a = 0;
        let b = 0;
        for (let i = 0; i < inDim; i++) {
          a += (X[t * inDim + i] / s[i]) * Ws[i * outDim + j];
          b += X[t * inDim + i] * W[i * outDim + j];
        }
        expect(a).toBeCloseTo(b, 5);
      }
  });

  it('AWQ: scales mean|x|^α normalized by √(max·min) by hand; the search matches the output error computed directly, and never loses to α = 0', () => {
    const s = awqScales([4, 1], 0.5); // (2, 1) / √2
    expect(s[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(s[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Array.from(awqScales([4, 1], 0))).toEqual([1, 1]);
    const rng = new Rng(7);
    const [n, inDim, outDim] = [16, 6, 4];
    const X = randn(rng, n * inDim);
    for (let t = 0; t < n; t++) X[t * inDim + 2] *= 30; // an outlier channel
    const W = randn(rng, inDim * outDim);
    const shape: [number, number] = [inDim, outDim];
    const q = (v: Float32Array) => quantizeWeights(v, shape, int(3)).values;
    const r = awqSearch(inputStats(X, n, inDim), W, shape, q);
    // The output error ‖X·Wq − X·W‖² directly, at every α of the grid.
    const direct = Array.from({ length: 20 }, (_, k) => {
      const Wq = quantizeScaled(W, shape, awqScales(inputStats(X, n, inDim, false).meanAbs, k / 20), q);
      let e = 0;
      for (let t = 0; t < n; t++)
        for (let j = 0; j < outDim; j++) {
          let d = 0;
          for (let i = 0; i < inDim; i++) d += X[t * inDim + i] * (Wq[i * outDim + j] - W[i * outDim + j]);
          e += d * d;
        }
      return e;
    });
    r.errors.forEach((e, k) => expect(e).toBeCloseTo(direct[k], 6));
    const kBest = direct.indexOf(Math.min(...direct));
    expect(r.alpha).toBe(kBest / 20);
    expect(r.errors[kBest]).toBeLessThanOrEqual(r.errors[0]);
    expect(r.alpha).toBeGreaterThan(0); // the outlier channel makes scaling pay
  });
});

/** A 2-layer MLP snapshot (16 → 64 → 8) whose inputs carry planted outlier channels. */
function outlierModel(seed: number): { fp: MlpSnapshot; x: (n: number, seed: number) => Float32Array } {
  const rng = new Rng(seed);
  const dims = [16, 64, 8];
  const fp: MlpSnapshot = {
    dims,
    weights: [randn(rng, 16 * 64, 0.25), randn(rng, 64 * 8, 0.125)],
    biases: [randn(rng, 64, 0.1), randn(rng, 8, 0.1)],
  };
  const x = (n: number, s: number) => {
    const r = new Rng(s);
    const out = randn(r, n * 16);
    for (let t = 0; t < n; t++) {
      out[t * 16 + 3] *= 40;
      out[t * 16 + 11] *= 25;
    }
    return out;
  };
  return { fp, x };
}

/** Mean squared difference between the quantized model's outputs and the FP model's on held-out inputs. */
async function outputError(fp: MlpSnapshot, c: ReturnType<typeof cloneConfig>, calib: Float32Array, test: Float32Array): Promise<number> {
  const layers = layerQuant(c);
  smoothMlp(fp, calib, calib.length / 16, layers, c.act);
  const q = await rtnSnapshot(fp, layers);
  const actOnly = layers.map((l) => ({ ...l, weight: null }));
  await calibrateMlpActs(q, actOnly, calib, calib.length / 16, c.act);
  const m = mlpFromSnapshot(q, false);
  const n = test.length / 16;
  const xt = tf.tensor2d(test, [n, 16]);
  const y = forward(m, xt, actOnly);
  const got = (await y.data()) as Float32Array;
  tf.dispose([xt, y]);
  disposeMlp(m);
  const want = hostForward(fp, test, n);
  let e = 0;
  for (let i = 0; i < got.length; i++) e += (got[i] - want[i]) ** 2;
  return e / got.length;
}

describe('planted activation outliers: SmoothQuant and AWQ beat plain quantization (held-out inputs)', () => {
  const { fp, x } = outlierModel(11);
  const calib = x(128, 1);
  const test = x(256, 2);

  it('W8A8, static per-tensor min-max activations on the layer with the outliers: SmoothQuant (α ½) well below plain', async () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model = { width: 64, depth: 1 };
    c.quant.layers = 'nolast'; // (on the second layer, whose GELU inputs have no planted outliers, SmoothQuant raised the error here)
    c.quant.bits = 8;
    c.quant.actBits = 8;
    c.act = act({ observer: 'minmax', granularity: 'tensor' });
    const plain = await outputError(fp, c, calib, test);
    c.act.smooth = 'smoothquant';
    const sq = await outputError(fp, c, calib, test);

    expect(sq).toBeLessThan(plain / 2);
  });

  it('W3 (activations FP): AWQ below plain RTN', async () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model = { width: 64, depth: 1 };
    c.quant.bits = 3;
    const plain = await outputError(fp, c, calib, test);
    c.act.smooth = 'awq';
    const awq = await outputError(fp, c, calib, test);
    expect(awq).toBeLessThan(plain);
  });
});
