/** The test backend helper itself: real wasm (cpu only as a fallback or when asked for). */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { quantizeWeight } from '../src/engine/core/quant';
import { useBackend } from './helpers/backend';

describe('test backend', () => {
  it('selects wasm by default (QAFT_TEST_BACKEND=cpu selects cpu), once per file', async () => {
    const want = process.env.QAFT_TEST_BACKEND === 'cpu' ? 'cpu' : 'wasm';
    const name = await useBackend();
    expect(name).toBe(want);
    expect(tf.getBackend()).toBe(want);
    expect(await useBackend('cpu')).toBe(name);
  });

  it('wasm and cpu agree on a quantizer and a matMul', async () => {
    await useBackend();
    const w = Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 4)));
    const run = async () => {
      const t = tf.tensor2d(w, [6, 5]);
      const q = quantizeWeight(t, { bits: 4, granularity: 'row' });
      const p = tf.matMul(t, t, false, true);
      const out = [Array.from(await q.data()), Array.from(await p.data())];
      tf.dispose([t, q, p]);
      return out;
    };
    const first = await run();
    const other = tf.getBackend() === 'wasm' ? 'cpu' : 'wasm';
    const before = tf.getBackend();
    if (!(await tf.setBackend(other))) return; // only one backend available here
    const second = await run();
    await tf.setBackend(before);
    expect(second[0]).toEqual(first[0]);
    second[1].forEach((v, i) => expect(Math.abs(v - first[1][i])).toBeLessThan(1e-4));
  });
});
