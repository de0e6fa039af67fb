/**
 * Learned-scale quantized fine-tuning (reference §7.2, §7.4):
 * - LSQ (Esser et al.): per output channel (or per tensor) step size s, a trainable variable
 *   initialised to 2·mean|W|/√Qp; ŵ = clamp(round(W/s), Qn, Qp)·s; ∂ŵ/∂W = 1 inside the range,
 *   0 outside; ∂ŵ/∂s = round(W/s) − W/s inside, Qn below, Qp above, times g = 1/√(N·Qp),
 *   N the number of weights the scale covers. W, biases and s train with the same AdamW.
 * - Scale-only (PEQA-style): the integer codes of RTN of the FP weights are frozen; only the
 *   scales train (initialised to RTN's, so training starts at the RTN model); ŵ = codes·s.
 * Integer range: the lab's symmetric absmax convention, Qn = −2^(b−1), Qp = 2^(b−1) − 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp, MlpSnapshot } from './model';
import { forward } from './model';
import { customOp } from '../core/ops';
import { SCALE_EPS } from '../core/quant';
import { type LayerQuant } from '../core/layerquant';

/** Step sizes are kept at least this (s must stay > 0; clamped after every update). */
export const MIN_STEP = 1e-8;

export interface ScaleLayer {
  bits: number;
  qn: number;
  qp: number;
  /** One scale per output channel (shape [1, out]); otherwise one per tensor ([1, 1]). */
  perChannel: boolean;
  /** LSQ gradient scale 1/√(N·Qp). */
  g: number;
}

export interface LearnedScales {
  kind: 'lsq' | 'scaleonly';
  layers: (ScaleLayer | null)[];
  /** Trainable step sizes (null: an unquantized layer). */
  scales: (tf.Variable | null)[];
  /** Scale-only: the frozen integer codes. */
  codes: (tf.Tensor | null)[];
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

function scaleLayers(m: Mlp, layers: LayerQuant[]): (ScaleLayer | null)[] {
  return layers.map((l, i) => {
    const q = l.weight;
    if (!q) return null;
    if (q.kind !== 'lab' || !Number.isInteger(q.bits) || q.bits < 2 || q.bits > 8)
      throw new Error('LSQ and scale-only need integer weight bits 2–8 (scheme auto, per-channel or per-tensor)');
    const { qn, qp } = intRange(q.bits);
    const perChannel = q.granularity === 'row';
    const [inDim, outDim] = m.weights[i].shape as [number, number];
    const n = perChannel ? inDim : inDim * outDim;
    return { bits: q.bits, qn, qp, perChannel, g: 1 / Math.sqrt(n * qp) };
  });
}

/** LSQ step sizes for the model's current weights: s0 = 2·mean|W|/√Qp (per channel: mean over each output channel). */
export function initLsq(m: Mlp, layers: LayerQuant[]): LearnedScales {
  const ls = scaleLayers(m, layers);
  const scales = ls.map((l, i) =>
    l
      ? tf.tidy(() => {
          const w = m.weights[i];
          const meanAbs = l.perChannel ? tf.mean(tf.abs(w), 0, true) : tf.reshape(tf.mean(tf.abs(w)), [1, 1]);
          return tf.variable(
            tf.maximum(tf.div(tf.mul(meanAbs, 2), Math.sqrt(l.qp)), MIN_STEP),
            true,
            `lsq_s${i}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`,
          );
        })
      : null,
  );
  return { kind: 'lsq', layers: ls, scales, codes: ls.map(() => null) };
}

/** Scale-only: codes = RTN codes of the current weights (absmax, max(max|W|, 1e-5)·s = Qp), frozen; scales = RTN's step. */
export function initScaleOnly(m: Mlp, layers: LayerQuant[]): LearnedScales {
  const ls = scaleLayers(m, layers);
  const codes: (tf.Tensor | null)[] = [];
  const scales: (tf.Variable | null)[] = [];
  for (const [i, l] of ls.entries()) {
    if (!l) {
      codes.push(null);
      scales.push(null);
      continue;
    }
    const w = m.weights[i];
    const amax = tf.tidy(() => tf.maximum(l.perChannel ? tf.max(tf.abs(w), 0, true) : tf.reshape(tf.max(tf.abs(w)), [1, 1]), SCALE_EPS));
    codes.push(tf.tidy(() => tf.clipByValue(tf.round(tf.mul(w, tf.div(l.qp, amax))), l.qn, l.qp)));
    scales.push(tf.tidy(() => tf.variable(tf.div(amax, l.qp), true, `so_s${i}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`)));
    amax.dispose();
  }
  return { kind: 'scaleonly', layers: ls, scales, codes };
}

/** The quantized weight of layer `i` (differentiable in W and s for LSQ, in s for scale-only). */
export function learnedWeight(ls: LearnedScales, i: number, w: tf.Tensor): tf.Tensor {
  const l = ls.layers[i];
  const s = ls.scales[i];
  if (!l || !s) return w;
  if (ls.kind === 'scaleonly') return tf.mul(ls.codes[i] as tf.Tensor, s);
  return lsqQuantizer(l.qn, l.qp, l.g, l.perChannel)(w, s);
}

/** The forward pass with learned-scale weights; `quant` supplies activation bits only. */
export function learnedForward(ls: LearnedScales): (m: Mlp, x: tf.Tensor, quant?: LayerQuant[]) => tf.Tensor {
  return (m, x, quant) =>
    forward(
      m,
      x,
      quant?.map((q) => ({ weight: null, actBits: q.actBits })),
      (i, w) => learnedWeight(ls, i, w),
    );
}

/** Keep every step size ≥ MIN_STEP (call inside a tidy, after the optimizer step). */
export function clampScales(ls: LearnedScales): void {
  for (const s of ls.scales) if (s) s.assign(tf.maximum(s, MIN_STEP));
}

export function trainableScales(ls: LearnedScales): tf.Variable[] {
  return ls.scales.filter((s): s is tf.Variable => s !== null);
}

/** Host copy of the model with its quantized weights (what the run is evaluated and kept as). */
export async function learnedSnapshot(m: Mlp, ls: LearnedScales): Promise<MlpSnapshot> {
  const weights: Float32Array[] = [];
  for (const [i, w] of m.weights.entries()) {
    const t = tf.tidy(() => learnedWeight(ls, i, w));
    weights.push((await t.data()) as Float32Array);
    if (t !== w) t.dispose();
  }
  const biases = await Promise.all(m.biases.map((b) => b.data() as Promise<Float32Array>));
  return { dims: [...m.dims], weights, biases };
}

export function disposeLearned(ls: LearnedScales): void {
  for (const s of ls.scales) s?.dispose();
  for (const c of ls.codes) c?.dispose();
}
