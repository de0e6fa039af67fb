/**
 * Learned-scale quantization of one weight matrix [in, out], for every task (reference §7.2, §7.4):
 * - LSQ (Esser et al.): per output channel (or per tensor) step size s, a trainable variable
 *   initialised to 2·mean|W|/√Qp; ŵ = clamp(round(W/s), Qn, Qp)·s; ∂ŵ/∂W = 1 inside the range,
 *   0 outside; ∂ŵ/∂s = round(W/s) − W/s inside, Qn below, Qp above, times g = 1/√(N·Qp),
 *   N the number of weights the scale covers.
 * - Scale-only (PEQA-style): the integer codes of RTN of the weights are frozen; only the
 *   scales train (initialised to RTN's, so training starts at the RTN model); ŵ = codes·s.
 * Integer range: the lab's symmetric absmax convention, Qn = −2^(b−1), Qp = 2^(b−1) − 1.
 * The tasks (poly/lsq.ts, lm/lsq.ts) decide which matrices get a quantizer and how it enters their forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { hasLearnedScale, type WeightQuant } from './layerquant';
import { customOp } from './ops';
import { SCALE_EPS } from './quant';

/** Step sizes are kept at least this (s must stay > 0; clamped after every update). */
export const MIN_STEP = 1e-8;

export type LearnedKind = 'lsq' | 'scaleonly';

/** The learned-scale quantizer of one matrix. */
export interface ScaleLayer {
  bits: number;
  qn: number;
  qp: number;
  /** One scale per output channel (shape [1, out]); otherwise one per tensor ([1, 1]). */
  perChannel: boolean;
  /** LSQ gradient scale 1/√(N·Qp). */
  g: number;
}

export const intRange = (bits: number) => ({ qn: -(2 ** (bits - 1)), qp: 2 ** (bits - 1) - 1 });

const ops = new Map<string, (w: tf.Tensor, s: tf.Tensor) => tf.Tensor>();

/** The LSQ fake-quantizer of one layer as a differentiable op of (W, s). */
export function lsqQuantizer(qn: number, qp: number, g: number, perChannel: boolean): (w: tf.Tensor, s: tf.Tensor) => tf.Tensor {
  const key = `${qn}:${qp}:${g}:${perChannel}`;
  let op = ops.get(key);
  if (!op) {
    op = customOp((w: tf.Tensor, s: tf.Tensor, save: tf.GradSaveFunc) => {
      save([w, s]);
      return {
        value: tf.mul(tf.clipByValue(tf.round(tf.div(w, s)), qn, qp), s),
        gradFunc: (dy: tf.Tensor, [ws, ss]: tf.Tensor[]) => {
          const v = tf.div(ws, ss);
          const below = tf.less(v, qn);
          const above = tf.greater(v, qp);
          const inside = tf.logicalNot(tf.logicalOr(below, above));
          const zero = tf.zerosLike(dy);
          const dw = tf.where(inside, dy, zero);
          const dsElem = tf.where(below, tf.fill(v.shape, qn), tf.where(above, tf.fill(v.shape, qp), tf.sub(tf.round(v), v)));
          const prod = tf.mul(dy, dsElem);
          const ds = perChannel ? tf.sum(prod, 0, true) : tf.reshape(tf.sum(prod), [1, 1]);
          return [dw, tf.mul(ds, g)];
        },
      };
    });
    ops.set(key, op);
  }
  return op;
}

/** The learned-scale quantizer of a matrix of `shape` [in, out] under `q` (throws for a quantizer that cannot have one). */
export function scaleLayerOf(q: WeightQuant, shape: readonly number[]): ScaleLayer {
  if (q.kind !== 'lab' || !hasLearnedScale(q)) throw new Error('LSQ and scale-only need integer weight bits 2–8 (scheme auto, per-channel or per-tensor)');
  const { qn, qp } = intRange(q.bits);
  const perChannel = q.granularity === 'row';
  const [inDim, outDim] = shape;
  const n = perChannel ? inDim : inDim * outDim;
  return { bits: q.bits, qn, qp, perChannel, g: 1 / Math.sqrt(n * qp) };
}

/** A unique variable name (tf.variableGrads keys gradients by name). */
function scaleName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`;
}

/** LSQ's initial step size of `w`: s0 = 2·mean|W|/√Qp (per channel: mean over each output channel), a trainable variable. */
export function initLsqStep(w: tf.Tensor, l: ScaleLayer, name = 'lsq_s'): tf.Variable {
  return tf.tidy(() => {
    const meanAbs = l.perChannel ? tf.mean(tf.abs(w), 0, true) : tf.reshape(tf.mean(tf.abs(w)), [1, 1]);
    return tf.variable(tf.maximum(tf.div(tf.mul(meanAbs, 2), Math.sqrt(l.qp)), MIN_STEP), true, scaleName(name));
  });
}

/**
 * Scale-only's start: the RTN codes of `w` (absmax, max(max|W|, 1e-5)·s = Qp), frozen, and RTN's
 * step as a trainable variable, so that codes·s is RTN's weight.
 */
export function initRtnCodes(w: tf.Tensor, l: ScaleLayer, name = 'so_s'): { codes: tf.Tensor; scale: tf.Variable } {
  return tf.tidy(() => {
    const amax = tf.maximum(l.perChannel ? tf.max(tf.abs(w), 0, true) : tf.reshape(tf.max(tf.abs(w)), [1, 1]), SCALE_EPS);
    const codes = tf.clipByValue(tf.round(tf.mul(w, tf.div(l.qp, amax))), l.qn, l.qp);
    return { codes, scale: tf.variable(tf.div(amax, l.qp), true, scaleName(name)) };
  });
}

/** The quantized weight (differentiable in W and s for LSQ; codes·s, differentiable in s, for scale-only). */
export function learnedQuantize(kind: LearnedKind, l: ScaleLayer, w: tf.Tensor, s: tf.Tensor, codes: tf.Tensor | null): tf.Tensor {
  if (kind === 'scaleonly') {
    if (!codes) throw new Error('scale-only needs the frozen codes');
    return tf.mul(codes, s);
  }
  return lsqQuantizer(l.qn, l.qp, l.g, l.perChannel)(w, s);
}

/** Keep a step size ≥ MIN_STEP (after every optimizer step). */
export function clampStep(s: tf.Variable): void {
  tf.tidy(() => s.assign(tf.maximum(s, MIN_STEP)));
}
