/**
 * Differentiable pieces of the GPT for pretrained GPT-2 / GPT-NeoX checkpoints: the tanh GELU,
 * a gather lookup of the token embedding with a scatter-add gradient, and rotary positions.
 * And the fused WebGPU versions of RMSNorm, causal attention and the cross-entropy (each a
 * customGrad over the kernels of core/kernels/transformer.ts; call them only when useFused()).
 */
import * as tf from '@tensorflow/tfjs';
import {
  fusedAttentionGrad,
  fusedAttentionOut,
  fusedAttentionProbs,
  fusedCrossEntropy,
  fusedCrossEntropyGrad,
  fusedRmsNorm,
  fusedRmsNormGainGrad,
  fusedRmsNormGrad,
} from '../core/kernels';
import { customOp } from '../core/ops';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** GELU's tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) with a hand-written gradient. */
const geluTanhOp = customOp((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const t = tf.tanh(tf.mul(tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_A), 1)), GELU_C));
  save([x, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    gradFunc: (dy: tf.Tensor, [xs, ts]: tf.Tensor[]) => {
      const du = tf.mul(tf.add(tf.mul(tf.square(xs), 3 * GELU_A), 1), GELU_C);
      const g = tf.mul(tf.add(tf.add(ts, 1), tf.mul(tf.mul(xs, tf.sub(1, tf.square(ts))), du)), 0.5);
      return [tf.mul(dy, g)];
    },
  };
});

export function geluTanh(x: tf.Tensor): tf.Tensor {
  return geluTanhOp(x);
}

/**
 * Columns `ids` of E [d, vocab] as rows: [n, d] (= one-hot(ids) · Eᵀ). The gradient scatter-adds
 * dy into [vocab, d] (ScatterNd sums repeated ids on cpu, wasm and WebGPU; Gather's own gradient
 * would need UnsortedSegmentSum, which wasm lacks) instead of materialising a one-hot [n, vocab].
 */
export function embedGather(e: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  const [d, vocab] = e.shape as [number, number];
  const op = customOp((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.transpose(tf.gather(w, ids, 1)),
      gradFunc: (dy: tf.Tensor) => [tf.transpose(tf.scatterND(tf.reshape(ids, [-1, 1]), dy, [vocab, d]))],
    };
  });
  return op(e) as tf.Tensor2D;
}

/**
 * Rotary tables for `context` positions and `rd` rotated dims (GPT-NeoX: inv_freq = 1/base^(2j/rd),
 * float32 angles t·inv_freq, duplicated halves): cos [context, rd], and sin with its first half
 * negated, so that rotate_half(x)·sin = swap_halves(x)·sin'.
 */
export function ropeTables(context: number, rd: number, base: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = rd / 2;
  const invFreq = Float32Array.from({ length: half }, (_, j) => 1 / Math.fround(base ** Math.fround((2 * j) / rd)));
  const cos = new Float32Array(context * rd);
  const sin = new Float32Array(context * rd);
  for (let t = 0; t < context; t++) {
    for (let j = 0; j < half; j++) {
      const a = Math.fround(t * invFreq[j]);
      const [co, si] = [Math.cos(a), Math.sin(a)];
      cos[t * rd + j] = co;
      cos[t * rd + half + j] = co;
      sin[t * rd + j] = -si;
      sin[t * rd + half + j] = si;
    }
  }
  return { cos: tf.tensor2d(cos, [context, rd]), sin: tf.tensor2d(sin, [context, rd]) };
}

/**
 * Rotary positions on q or k [B, H, T, hd] with tables from ropeTables (at least T rows): the
 * first rd dims of each head become x·cos + rotate_half(x)·sin, the rest pass through.
 */
export function rotary(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D, T: number): tf.Tensor {
  const [rd, hd] = [cos.shape[1], x.shape[3] as number];
  const [c, s] = T === cos.shape[0] ? [cos, sin] : [tf.slice(cos, [0, 0], [T, rd]), tf.slice(sin, [0, 0], [T, rd])];
  const xr = rd === hd ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, rd]);
  const h = rd / 2;
  const swapped = tf.concat([tf.slice(xr, [0, 0, 0, h], [-1, -1, -1, h]), tf.slice(xr, [0, 0, 0, 0], [-1, -1, -1, h])], 3);
  const y = tf.add(tf.mul(xr, c), tf.mul(swapped, s));
  return rd === hd ? y : tf.concat([y, tf.slice(x, [0, 0, 0, rd], [-1, -1, -1, hd - rd])], 3);
}

/** RMSNorm over the last axis of x [rows, d] with gain g [d] (fused WebGPU kernels: 1 program forward, 2 backward). */
export function rmsNormFused(x: tf.Tensor, g: tf.Tensor, eps: number): tf.Tensor {
  const op = customOp((xi: tf.Tensor, gi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, gi]);
    return {
      value: fusedRmsNorm(xi, gi, eps),
      gradFunc: (dy: tf.Tensor, [xs, gs]: tf.Tensor[]) => [fusedRmsNormGrad(dy, xs, gs, eps), fusedRmsNormGainGrad(dy, xs, eps)],
    };
  });
  return op(x, g);
}

/**
 * Causal multi-head self-attention core on packed qkv [B·T, 3D] (q, k, v the thirds of the
 * columns, heads contiguous): softmax(q·kᵀ/√hd + causal mask)·v with the heads merged, [B·T, D]
 * (fused WebGPU kernels: 2 programs forward, 2 backward).
 */
export function causalAttentionFused(qkv: tf.Tensor, T: number, heads: number): tf.Tensor {
  const op = customOp((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = fusedAttentionProbs(x, T, heads);
    save([x, p]);
    return {
      value: fusedAttentionOut(x, p, T, heads),
      gradFunc: (dy: tf.Tensor, [xs, ps]: tf.Tensor[]) => [fusedAttentionGrad(xs, ps, dy, T, heads)],
    };
  });
  return op(qkv);
}

/** Σ over rows of −log softmax(logits)[target], logits [N, V], targets int32 [N] (fused WebGPU kernels). */
export function crossEntropySumFused(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  const op = customOp((l: tf.Tensor, save: tf.GradSaveFunc) => {
    save([l]);
    return {
      value: tf.sum(fusedCrossEntropy(l, targets)),
      gradFunc: (dy: tf.Tensor, [ls]: tf.Tensor[]) => [fusedCrossEntropyGrad(dy, ls, targets)],
    };
  });
  return op(logits) as tf.Scalar;
}
