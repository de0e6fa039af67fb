/** Differentiable ops with hand-written gradients: linear, GELU, and the customGrad helper. */
import * as tf from '@tensorflow/tfjs';

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

/** y = x·W + b with a backward pass that never uses a transposed matMul. */
const linearOp = customOp((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
    },
  };
});

export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return linearOp(x, w, b);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU, x·Φ(x), with a hand-written gradient Φ(x) + x·φ(x) (fewer ops than autodiff of erf). */
const geluOp = customOp((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1)),
    gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(xs, SQRT1_2)), 1), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)))];
    },
  };
});

export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

