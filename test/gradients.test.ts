/**
 * Gradients: the straight-through estimator of the fake-quantizers (src/engine/quant.ts) and
 * the hand-written backward passes of linear and GELU (src/engine/ops.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gelu, linear } from '../src/engine/core/ops';
import { fakeQuantActivation, fakeQuantWeight, quantizeActivation, quantizeWeight, type WeightQuantSpec } from '../src/engine/core/quant';
import { Rng } from '../src/engine/core/rng';
import { useBackend } from './helpers/backend';
import { expectClose, readAndDispose } from './helpers/expect';

beforeAll(async () => {
  await useBackend();
});

const rand = (rng: Rng, n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));

/** d/dw sum(f(w)·c) and f(w), read back; all tensors disposed. */
async function gradOfWeighted(f: (t: tf.Tensor) => tf.Tensor, w: tf.Tensor, c: tf.Tensor): Promise<{ grad: Float32Array; value: Float32Array }> {
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), c)));
  const grad = await readAndDispose(tf.tidy(() => g(w)));
  const value = await readAndDispose(tf.tidy(() => f(w)));
  return { grad, value };
}

describe('straight-through estimator', () => {
  // Two large outliers: with γ = mean|W| they land far outside the ternary clip range ±1.5γ.
  const wVals = [
    [0.5, -1.2, 0.05, 0],
    [2, -0.3, 0.6, -0.9],
    [25, -0.01, 0.2, -40],
  ];
  const cVals = [
    [0.3, -1.7, 2.2, 0.9],
    [-0.4, 1.1, -0.05, 3.0],
    [7, -2.5, 0.125, -6],
  ];

  const specs: WeightQuantSpec[] = [
    { bits: 1.58, granularity: 'row' },
    { bits: 4, granularity: 'row' },
    { bits: 4, granularity: 'tensor' },
  ];
  for (const spec of specs) {
    it(`fakeQuantWeight ${spec.bits} (${spec.granularity}): gradient of sum(q(w)·c) is exactly c, value is q(w)`, async () => {
      const w = tf.tensor2d(wVals);
      const c = tf.tensor2d(cVals);
      const { grad, value } = await gradOfWeighted((x) => fakeQuantWeight(x, spec), w, c);
      expectClose(grad, Float32Array.from(cVals.flat()), 0, 'gradient');
      const expected = await readAndDispose(quantizeWeight(w, spec));
      expectClose(value, expected, 0, 'forward value');
      if (spec.bits === 1.58) {
        // The outliers really were clipped: 25 and -40 become ±γ, yet their gradient passed.
        const gamma = wVals.flat().reduce((s, v) => s + Math.abs(v), 0) / 12;
        expect(value[8]).toBeCloseTo(gamma, 5);
        expect(value[11]).toBeCloseTo(-gamma, 5);
      }
      w.dispose();
      c.dispose();
    });
  }

  for (const bits of [8, 4, 2]) {
    it(`fakeQuantActivation ${bits} bit: gradient is exactly c, value is the quantizer's`, async () => {
      const x = tf.tensor2d(wVals);
      const c = tf.tensor2d(cVals);
      const { grad, value } = await gradOfWeighted((t) => fakeQuantActivation(t, bits), x, c);
      expectClose(grad, Float32Array.from(cVals.flat()), 0, 'gradient');
      expectClose(value, await readAndDispose(quantizeActivation(x, bits)), 0, 'forward value');
      x.dispose();
      c.dispose();
    });
  }
});

describe('linear', () => {
  it('value and gradients (x, w, b) equal autodiff of tf.matMul(x, w) + b', async () => {
    const rng = new Rng(7);
    const [n, k, m] = [5, 3, 4];
    const x = tf.tensor2d(rand(rng, n * k), [n, k]);
    const w = tf.tensor2d(rand(rng, k * m), [k, m]);
    const b = tf.tensor1d(rand(rng, m));
    const c = tf.tensor2d(rand(rng, n * m, -2, 2), [n, m]);
    const loss = (f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(f(xx, ww, bb), c));
    const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => linear(xx, ww, bb);
    const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb);

    expectClose(await readAndDispose(tf.tidy(() => ours(x, w, b))), await readAndDispose(tf.tidy(() => ref(x, w, b))), 1e-6, 'value');
    const g1 = tf.grads(loss(ours))([x, w, b]);
    const g2 = tf.grads(loss(ref))([x, w, b]);
    for (const [i, name] of ['dx', 'dw', 'db'].entries()) {
      expect(g1[i].shape, name).toEqual(g2[i].shape);
      expectClose(await readAndDispose(g1[i]), await readAndDispose(g2[i]), 1e-5, name);
    }
    for (const t of [x, w, b, c]) t.dispose();
  });
});

/** erf by its Maclaurin series in float64 (accurate to ~1e-12 for |x| ≤ 4). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const geluRef = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

describe('GELU', () => {
  const xs = [-4, -3, -2.2, -1.5, -1, -0.7, -0.25, -1e-3, 0, 1e-3, 0.3, 0.5, 1, 1.7, 2.5, 3.3, 4];

  it('erf reference sanity', () => {
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 12);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 12);
  });

  it('value matches 0.5·x·(1 + erf(x/√2))', async () => {
    const x = tf.tensor1d(xs);
    expectClose(await readAndDispose(gelu(x)), xs.map(geluRef), 1e-5, 'gelu');
    x.dispose();
  });

  it('hand-written gradient matches a central finite difference and autodiff of the erf formula', async () => {
    const x = tf.tensor1d(xs);
    const ours = await readAndDispose(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x)));
    const h = 1e-5;
    const fd = xs.map((v) => (geluRef(v + h) - geluRef(v - h)) / (2 * h));
    expectClose(ours, fd, 1e-5, 'vs finite difference');
    const auto = await readAndDispose(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1))))(x)));
    expectClose(ours, auto, 1e-5, 'vs autodiff');
    // And with an upstream gradient: d/dx sum(gelu(x)·c) = gelu'(x)·c.
    const c = tf.tensor1d(xs.map((_, i) => (i % 3) - 1.5));
    const withC = await readAndDispose(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), c)))(x)));
    expectClose(
      withC,
      fd.map((d, i) => d * ((i % 3) - 1.5)),
      2e-5,
      'chain rule',
    );
    x.dispose();
    c.dispose();
  });
});

describe('mseLoss', () => {
  it('value and gradient equal autodiff of mean((p − t)²), for both inputs', async () => {
    const { mseLoss } = await import('../src/engine/poly/model');
    const p = tf.tensor2d([
      [0.1, -0.4, 2],
      [1.5, 0, -3],
    ]);
    const t = tf.tensor2d([
      [0, 0.5, 1],
      [1, 1, -2],
    ]);
    const ref = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.squaredDifference(a, b));
    expect((await mseLoss(p, t).data())[0]).toBeCloseTo((await ref(p, t).data())[0], 6);
    const [gp, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => mseLoss(a, b))([p, t]);
    const [rp, rt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => ref(a, b))([p, t]);
    for (const [x, y] of [
      [gp, rp],
      [gt, rt],
    ]) {
      const xs = await x.data();
      const ys = await y.data();
      for (let i = 0; i < xs.length; i++) expect(xs[i]).toBeCloseTo(ys[i], 6);
    }
  });
});
