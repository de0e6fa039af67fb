/** Numeric comparisons with readable failure messages. */
import { expect } from 'vitest';
import type * as tf from '@tensorflow/tfjs';

/** Every element within `tol` of the expected value (and the same length); no NaN allowed. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, what = 'values'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= tol)) bad.push(`[${i}] got ${a}, want ${e}`);
  }
  expect(bad, `${what} differ by more than ${tol}: ${bad.slice(0, 8).join('; ')}`).toEqual([]);
}

/** Reads a tensor back (async, as the engine rules require) and disposes it. */
export async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
