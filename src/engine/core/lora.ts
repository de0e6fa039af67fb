/**
 * QA-LoRA's adapters, for every task: a rank-r update A·B·alpha/r beside a frozen quantized
 * linear (A [in, r] initialised U(−1/√in, 1/√in), B [r, out] zeros, so training starts from the
 * quantized base), and the merge W_q + A·B·alpha/r that is re-quantized afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng';

export interface Adapter {
  /** [in, r]. */
  a: tf.Variable;
  /** [r, out], zeros at the start. */
  b: tf.Variable;
}

/** Throws a readable error for a rank or alpha QA-LoRA cannot use; returns the scale alpha / r. */
export function loraScale(rank: number, alpha: number): number {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`QA-LoRA rank must be a whole number ≥ 1, got ${rank}`);
  if (!(alpha > 0)) throw new Error(`QA-LoRA alpha must be > 0, got ${alpha}`);
  return alpha / rank;
}

/** A fresh adapter of a [inDim, outDim] linear (draws inDim·rank values from `rng`). */
export function initAdapter(inDim: number, outDim: number, rank: number, rng: Rng): Adapter {
  const bound = 1 / Math.sqrt(inDim);
  const init = Float32Array.from({ length: inDim * rank }, () => rng.uniform(-bound, bound));
  return {
    a: tf.tidy(() => tf.variable(tf.tensor2d(init, [inDim, rank]))),
    b: tf.tidy(() => tf.variable(tf.zeros([rank, outDim]))),
  };
}

/** The adapted weight W_q + A·B·scale (differentiable in A and B). */
export function adaptedWeight(wq: tf.Tensor, ad: Adapter, scale: number): tf.Tensor {
  return tf.tidy(() => tf.add(wq, tf.mul(tf.matMul(ad.a, ad.b), scale)));
}

export function disposeAdapter(ad: Adapter): void {
  ad.a.dispose();
  ad.b.dispose();
}
