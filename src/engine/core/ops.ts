/** Differentiable ops with hand-written gradients: linear, GELU, and the customGrad helper. */
import * as tf from '@tensorflow/tfjs';
import { fusedColumnSum, fusedGelu, fusedGeluGrad, transpose2d, useFused } from './kernels';

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/**
 * tf.customGrad with honest types: `fn` gets its tensor inputs and a save function last,
 * and returns the value and the gradient function.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function customOp<A extends any[]>(fn: (...args: [...A, tf.GradSaveFunc]) => { value: tf.Tensor; gradFunc: GradFn }): (...args: A) => tf.Tensor {
  const op = tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...args: A) => op(...(args as tf.Tensor[]));
}

/**
 * The bias gradient, Σ over the batch of dy. On wasm and cpu an axis-0 Sum transposes dy first
 * (on wasm ~30× slower than this [1, B]·[B, out] matmul); on WebGPU the reduction is the cheaper op,
 * and with the fused kernels one column-sum program.
 */
function sumOverBatch(dy: tf.Tensor2D): tf.Tensor {
  if (useFused()) return fusedColumnSum(dy);
  if (tf.getBackend() === 'webgpu') return tf.sum(dy, 0);
  const [batch, out] = dy.shape;
  return tf.reshape(tf.matMul(tf.ones([1, batch]) as tf.Tensor2D, dy), [out]);
}

/**
 * y = x·W + b. The backward pass never uses a transposed matMul (the slow path on wasm), except
 * with the fused WebGPU kernels: there a transposed operand is read in place by the matmul
 * program, which saves the two transpose programs per linear.
 */
const linearOp = customOp((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      if (useFused()) return [tf.matMul(dy2, ws, false, true), tf.matMul(xs, dy2, true, false), sumOverBatch(dy2)];
      return [tf.matMul(dy2, transpose2d(ws)), tf.matMul(transpose2d(xs), dy2), sumOverBatch(dy2)];
    },
  };
});

export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return linearOp(x, w, b);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * e^z for z ≤ 0. The wasm backend's Exp is a scalar loop, ~8× slower than its (XNNPACK) Sigmoid,
 * so there e^z = σ(z) / (1 − σ(z)) (σ(z) ≤ ½: no cancellation; same few-ulp accuracy as Exp).
 */
function expNonPositive(z: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.exp(z);
  const s = tf.sigmoid(z);
  return tf.div(s, tf.sub(1, s));
}

/**
 * Exact GELU, x·Φ(x), with a hand-written gradient Φ(x) + x·φ(x) (fewer ops than autodiff of erf).
 * On WebGPU both directions are single fused kernels; elsewhere Φ(x) is saved from the forward
 * pass so the backward pass does not recompute erf.
 */
const geluOp = customOp((x: tf.Tensor, save: tf.GradSaveFunc) => {
  if (useFused()) {
    save([x]);
    return { value: fusedGelu(x), gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => [fusedGeluGrad(dy, xs)] };
  }
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, [xs, cdfs]: tf.Tensor[]) => {
      const pdf = tf.mul(expNonPositive(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(cdfs, tf.mul(xs, pdf)))];
    },
  };
});

export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}
