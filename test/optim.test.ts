/** AdamW (src/engine/optim.ts) against torch.optim.AdamW's update rule, computed by hand in float64. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../src/engine/core/optim';
import { lrAt } from '../src/engine/core/loop';
import { useBackend } from './helpers/backend';
import { expectClose } from './helpers/expect';

beforeAll(async () => {
  await useBackend();
});

/** torch.optim.AdamW, one parameter vector, float64. */
function torchAdamW(p0: number[], grads: number[][], lrs: number[], wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mhat = m[i] / (1 - b1 ** t);
      const vhat = v[i] / (1 - b2 ** t);
      p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  });
  return p;
}

describe('AdamW', () => {
  for (const wd of [0, 0.1]) {
    it(`three steps with changing gradients and lr match torch.optim.AdamW (weight decay ${wd})`, async () => {
      const p0 = [0.5, -1.5, 2, 0, 1e-3];
      const grads = [
        [0.1, -0.2, 0.3, 1e-4, -5],
        [0.05, 0.2, -0.1, 0, -4],
        [-0.3, 0.1, 0.2, 2, 1],
      ];
      const lrs = [1e-2, 5e-3, 2e-3];
      const param = tf.tidy(() => tf.variable(tf.tensor1d(p0)));
      const opt = new AdamW([param], { weightDecay: wd });
      for (let k = 0; k < 3; k++) tf.tidy(() => opt.step([tf.tensor1d(grads[k])], lrs[k]));
      expectClose(await param.data(), torchAdamW(p0, grads, lrs, wd), 1e-6, 'parameters');
      opt.dispose();
      param.dispose();
    });
  }

  it('dispose frees its moment buffers', () => {
    const base = tf.memory().numTensors;
    const param = tf.tidy(() => tf.variable(tf.zeros([3])));
    const opt = new AdamW([param], { weightDecay: 0 });
    expect(tf.memory().numTensors).toBe(base + 3);
    opt.dispose();
    param.dispose();
    expect(tf.memory().numTensors).toBe(base);
  });
});

describe('learning-rate schedule', () => {
  it('constant stays; linear decays by one order of magnitude over the run', () => {
    expect(lrAt({ lr: 1e-3, schedule: 'constant' }, 77, 100)).toBe(1e-3);
    expect(lrAt({ lr: 1e-3, schedule: 'linear' }, 0, 100)).toBe(1e-3);
    expect(lrAt({ lr: 1e-3, schedule: 'linear' }, 50, 100)).toBeCloseTo(5.5e-4, 12);
    expect(lrAt({ lr: 1e-3, schedule: 'linear' }, 100, 100)).toBeCloseTo(1e-4, 12);
  });
});
