/** The rotations of rotation.ts on the device: R as a cached matrix, the rotated weight and activation fake-quant. */
import * as tf from '@tensorflow/tfjs';
import { rotationMatrix, type Rotation } from './rotation';

const deviceCache = new Map<string, { R: tf.Tensor2D; Rt: tf.Tensor2D }>();

/** R [in, n] and Rᵀ [n, in] on the current backend (cached per backend, width and seed; kept for the session). */
export function rotationTensors(r: Rotation): { R: tf.Tensor2D; Rt: tf.Tensor2D } {
  const key = `${tf.getBackend()}:${r.inDim}:${r.n}:${r.seed}`;
  const hit = deviceCache.get(key);
  if (hit && !hit.R.isDisposed && !hit.Rt.isDisposed) return hit;
  const m = Float32Array.from(rotationMatrix(r));
  const made = tf.tidy(() => {
    const R = tf.tensor2d(m, [r.inDim, r.n]);
    return { R: tf.keep(R), Rt: tf.keep(tf.transpose(R) as tf.Tensor2D) };
  });
  deviceCache.set(key, made);
  return made;
}

/**
 * A weight [in, out] as the forward pass uses it when its layer is rotated: R·q(Rᵀ·W), with
 * `quantize` the layer's (straight-through) fake-quantizer applied to the rotated weight [n, out].
 * The gradient of R·(Rᵀ·W) is the identity (R·Rᵀ = I), so the STE passes through unchanged.
 */
export function rotatedFakeQuant(w: tf.Tensor, r: Rotation, quantize: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const { R, Rt } = rotationTensors(r);
  return tf.matMul(R, quantize(tf.matMul(Rt, w)));
}

/** An activation [rows, in] quantized in the rotated basis and rotated back: q(x·R)·Rᵀ. Exact in = n only (see activationRotationProblem). */
export function rotatedActivation(x: tf.Tensor, r: Rotation, quantize: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const { R, Rt } = rotationTensors(r);
  return tf.matMul(quantize(tf.matMul(x, R)), Rt);
}
