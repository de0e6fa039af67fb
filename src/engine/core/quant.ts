/**
 * Weight and activation fake-quantizers, and the straight-through estimator (STE).
 * Weights are stored [in, out]: "per output row" means one scale per output channel,
 * i.e. a reduction over axis 0. tf.round rounds half to even, like torch.round.
 * On WebGPU the elementwise part (everything after the reduction) is one fused kernel
 * (kernels/webgpu.ts) with the same arithmetic; WGSL round() also rounds half to even.
 */
import * as tf from '@tensorflow/tfjs';
import { isFullPrecision } from './config';
import { fusedFakeQuant, fusedFakeQuantColAbsmax, useFused } from './kernels';
import { customOp } from './ops';

export interface WeightQuantSpec {
  bits: number;
  granularity: 'row' | 'tensor';
}

export const SCALE_EPS = 1e-5;

/** 1.58-bit ternary, absmean per tensor: γ = max(mean|W|, 1e-5); Wq = clamp(round(W/γ), −1, 1)·γ. */
export function ternaryAbsmean(w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const meanAbs = tf.mean(tf.abs(w));
    if (useFused()) return fusedFakeQuant(w, meanAbs, { mode: 'ternary', qn: -1, qp: 1, eps: SCALE_EPS });
    const gamma = tf.maximum(meanAbs, SCALE_EPS);
    return tf.mul(tf.clipByValue(tf.round(tf.div(w, gamma)), -1, 1), gamma);
  });
}

/**
 * Symmetric absmax int-B: s = (2^(B−1)−1)/max(max|W|, 1e-5); Wq = clamp(round(W·s), −2^(B−1), 2^(B−1)−1)/s.
 * `axis` null → one scale for the whole tensor; otherwise the max is taken over that axis.
 */
export function intAbsmax(w: tf.Tensor, bits: number, axis: number | null): tf.Tensor {
  return tf.tidy(() => {
    const qp = 2 ** (bits - 1) - 1;
    const qn = -(2 ** (bits - 1));
    // Per output column of a 2-D weight: the reduction and the rounding in one program.
    if (axis === 0 && w.rank === 2 && useFused()) return fusedFakeQuantColAbsmax(w, qn, qp, SCALE_EPS);
    const amax = axis === null ? tf.max(tf.abs(w)) : tf.max(tf.abs(w), axis, true);
    if (useFused()) return fusedFakeQuant(w, amax, { mode: 'int', qn, qp, eps: SCALE_EPS });
    const s = tf.div(qp, tf.maximum(amax, SCALE_EPS));
    return tf.div(tf.clipByValue(tf.round(tf.mul(w, s)), qn, qp), s);
  });
}

/** Quantize a weight matrix stored [in, out] (no gradient semantics: use fakeQuantWeight for training). */
export function quantizeWeight(w: tf.Tensor, spec: WeightQuantSpec): tf.Tensor {
  if (isFullPrecision(spec.bits)) return tf.clone(w);
  if (spec.bits === 1.58) return ternaryAbsmean(w);
  if (!Number.isInteger(spec.bits) || spec.bits < 2 || spec.bits > 8) throw new Error(`Unsupported bit-width ${spec.bits}`);
  return intAbsmax(w, spec.bits, spec.granularity === 'row' ? 0 : null);
}

/** Absmax per example (over the last axis): the activation quantizer of BitNet. */
export function quantizeActivation(x: tf.Tensor, bits: number): tf.Tensor {
  return intAbsmax(x, bits, x.rank - 1);
}

/** Wrap a quantizer with a straight-through gradient: value q(x), gradient dy unchanged. */
export function straightThrough(q: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return customOp((x: tf.Tensor, _save: tf.GradSaveFunc) => ({ value: q(x), gradFunc: (dy: tf.Tensor) => dy }));
}

const steCache = new Map<string, (x: tf.Tensor) => tf.Tensor>();
function cached(key: string, make: () => (x: tf.Tensor) => tf.Tensor) {
  let f = steCache.get(key);
  if (!f) steCache.set(key, (f = make()));
  return f;
}

/** Fake-quantized weight for training: quantized forward, full-precision (identity) backward. */
export function fakeQuantWeight(w: tf.Tensor, spec: WeightQuantSpec): tf.Tensor {
  if (isFullPrecision(spec.bits)) return w;
  const key = `w${spec.bits}:${spec.granularity}`;
  return cached(key, () => straightThrough((x) => quantizeWeight(x, spec)))(w);
}

export function fakeQuantActivation(x: tf.Tensor, bits: number): tf.Tensor {
  if (bits <= 0 || bits >= 16) return x;
  return cached(`a${bits}`, () => straightThrough((t) => quantizeActivation(t, bits)))(x);
}
