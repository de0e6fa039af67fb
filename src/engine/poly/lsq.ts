/**
 * Learned-scale quantized fine-tuning of the MLP (reference §7.2, §7.4), with the quantizer
 * math of core/lsq.ts:
 * - LSQ (Esser et al.): one trainable step size per output channel (or per tensor) of each
 *   quantized layer; W, biases and s train with the same AdamW.
 * - Scale-only (PEQA-style): the integer codes of RTN of the FP weights are frozen; only the
 *   scales train (initialised to RTN's, so training starts at the RTN model); ŵ = codes·s.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mlp, MlpSnapshot } from './model';
import { forward } from './model';
import { activationOnly, type LayerQuant } from '../core/layerquant';
import { clampStep, initLsqStep, initRtnCodes, learnedQuantize, scaleLayerOf, type ScaleLayer } from '../core/lsq';

export interface LearnedScales {
  kind: 'lsq' | 'scaleonly';
  layers: (ScaleLayer | null)[];
  /** Trainable step sizes (null: an unquantized layer). */
  scales: (tf.Variable | null)[];
  /** Scale-only: the frozen integer codes. */
  codes: (tf.Tensor | null)[];
}

function scaleLayers(m: Mlp, layers: LayerQuant[]): (ScaleLayer | null)[] {
  return layers.map((l, i) => (l.weight ? scaleLayerOf(l.weight, m.weights[i].shape) : null));
}

/** LSQ step sizes for the model's current weights: s0 = 2·mean|W|/√Qp (per channel: mean over each output channel). */
export function initLsq(m: Mlp, layers: LayerQuant[]): LearnedScales {
  const ls = scaleLayers(m, layers);
  const scales = ls.map((l, i) => (l ? initLsqStep(m.weights[i], l, `lsq_s${i}`) : null));
  return { kind: 'lsq', layers: ls, scales, codes: ls.map(() => null) };
}

/** Scale-only: codes = RTN codes of the current weights (absmax, max(max|W|, 1e-5)·s = Qp), frozen; scales = RTN's step. */
export function initScaleOnly(m: Mlp, layers: LayerQuant[]): LearnedScales {
  const ls = scaleLayers(m, layers);
  const codes: (tf.Tensor | null)[] = [];
  const scales: (tf.Variable | null)[] = [];
  for (const [i, l] of ls.entries()) {
    const init = l ? initRtnCodes(m.weights[i], l, `so_s${i}`) : null;
    codes.push(init?.codes ?? null);
    scales.push(init?.scale ?? null);
  }
  return { kind: 'scaleonly', layers: ls, scales, codes };
}

/** The quantized weight of layer `i` (differentiable in W and s for LSQ, in s for scale-only). */
export function learnedWeight(ls: LearnedScales, i: number, w: tf.Tensor): tf.Tensor {
  const l = ls.layers[i];
  const s = ls.scales[i];
  if (!l || !s) return w;
  return learnedQuantize(ls.kind, l, w, s, ls.codes[i]);
}

/** The forward pass with learned-scale weights; `quant` supplies activation bits only. */
export function learnedForward(ls: LearnedScales): (m: Mlp, x: tf.Tensor, quant?: LayerQuant[]) => tf.Tensor {
  return (m, x, quant) => forward(m, x, quant?.map(activationOnly), (i, w) => learnedWeight(ls, i, w));
}

/** Keep every step size ≥ MIN_STEP (after the optimizer step). */
export function clampScales(ls: LearnedScales): void {
  for (const s of ls.scales) if (s) clampStep(s);
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
