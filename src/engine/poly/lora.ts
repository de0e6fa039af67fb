/**
 * QA-LoRA on the MLP: the FP weights of each quantized linear are rounded once (RTN with the
 * layer's quantizer, exactly the RTN run's weights) into constant tensors, frozen; each of those
 * layers gets a rank-r adapter (core/lora.ts), so the layer computes x·(W_q + A·B·alpha/r) + b.
 * Only the adapters train (AdamW, the MSE loss, the poly training loop); biases and unquantized
 * layers stay at their FP values. Afterwards the model is scored two ways: unmerged (quantized
 * base + full-precision adapters) and merged (W_q + A·B·alpha/r, re-quantized by the same RTN
 * quantizer: a model of the run's bits like every other method's).
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import { adaptedWeight, disposeAdapter, initAdapter, loraScale, type Adapter } from '../core/lora';
import type { CurvePoint } from '../core/loop';
import { Rng } from '../core/rng';
import { activationOnly } from '../core/layerquant';
import { disposeMlp, forward, mlpFromSnapshot, type LayerQuant, type Mlp, type MlpSnapshot } from './model';
import { evaluate, train, type DeviceData, type ForwardFn, type TrainOptions, type TrainOutcome } from './train';
import { rtnSnapshot } from './weightquant';

export type QaLoraOptions = Omit<TrainOptions, 'quant' | 'quantAt' | 'params' | 'forwardFn' | 'afterStep' | 'target' | 'testLoss'> & {
  rank: number;
  alpha: number;
};

/** The frozen quantized base and the adapters of one model. */
export interface MlpQaLora {
  /** The FP model's biases and unquantized weights (frozen; the quantized layers' weights are not used). */
  model: Mlp;
  /** RTN weights of the quantized layers (constants), null for an unquantized layer. */
  base: (tf.Tensor | null)[];
  /** The adapter of each quantized layer, null elsewhere. */
  adapters: (Adapter | null)[];
  /** alpha / r. */
  scale: number;
  /** The forward pass: quantized base + adapter in each quantized layer, activations quantized as configured. */
  forwardFn: ForwardFn;
  /** Activation quantizers only (the weights are substituted already rounded). */
  quant: LayerQuant[];
}

export interface QaLoraOutcome extends TrainOutcome {
  /** Test MSE of the quantized base + full-precision adapters after training (NaN when diverged). */
  unmergedMse: number;
  /** The merged model (W_q + A·B·alpha/r, not yet re-quantized; RTN of it is the run's model). */
  merged: MlpSnapshot;
  /** Trainable adapter parameters. */
  adapterParams: number;
}

const actOnly = (layers: LayerQuant[]): LayerQuant[] => layers.map(activationOnly);

/** Round the quantized layers of `fp` once and attach a rank-r adapter to each (seeded A). */
export async function makeQaLora(fp: MlpSnapshot, layers: LayerQuant[], rank: number, alpha: number, seed: number): Promise<MlpQaLora> {
  const scale = loraScale(rank, alpha);
  if (!layers.some((l) => l.weight)) throw new Error('QA-LoRA needs a quantized base: at least one layer must have quantized weights.');
  const rtn = await rtnSnapshot(fp, layers);
  const rng = new Rng(seed);
  const base = layers.map((l, i) => (l.weight ? tf.tensor2d(rtn.weights[i], [fp.dims[i], fp.dims[i + 1]]) : null));
  const adapters = layers.map((l, i) => (l.weight ? initAdapter(fp.dims[i], fp.dims[i + 1], rank, rng) : null));
  const model = mlpFromSnapshot(fp, false);
  const weightOf = (i: number, w: tf.Variable) => {
    const wq = base[i];
    const ad = adapters[i];
    return wq && ad ? adaptedWeight(wq, ad, scale) : w;
  };
  return { model, base, adapters, scale, forwardFn: (m, x, quant) => forward(m, x, quant, weightOf), quant: actOnly(layers) };
}

export function disposeQaLora(s: MlpQaLora): void {
  disposeMlp(s.model);
  for (const t of s.base) t?.dispose();
  for (const a of s.adapters) if (a) disposeAdapter(a);
}

/** The trainable variables: every adapter's A and B. */
export function adapterParams(s: MlpQaLora): tf.Variable[] {
  return s.adapters.flatMap((a) => (a ? [a.a, a.b] : []));
}

/** Host copy of the merged model: W_q + A·B·scale where adapted, the FP weights elsewhere; the FP biases. */
export async function mergeQaLora(s: MlpQaLora): Promise<MlpSnapshot> {
  const weights: Float32Array[] = [];
  for (const [i, w] of s.model.weights.entries()) {
    const wq = s.base[i];
    const ad = s.adapters[i];
    if (!wq || !ad) {
      weights.push((await w.data()) as Float32Array);
      continue;
    }
    const t = adaptedWeight(wq, ad, s.scale);
    weights.push((await t.data()) as Float32Array);
    t.dispose();
  }
  const biases = await Promise.all(s.model.biases.map((b) => b.data() as Promise<Float32Array>));
  return { dims: [...s.model.dims], weights, biases };
}

/**
 * QA-LoRA of `fp` under `layers`: adapters trained on `trainData` with the quantized base frozen,
 * scored on `test`. The curve is the unmerged model's; the merged model is returned for the
 * caller to re-quantize (rtnSnapshot with the same `layers`) and evaluate.
 */
export async function trainQaLora(
  fp: MlpSnapshot,
  layers: LayerQuant[],
  trainData: DeviceData,
  test: DeviceData,
  o: QaLoraOptions,
  onPoint: (p: CurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<QaLoraOutcome> {
  const s = await makeQaLora(fp, layers, o.rank, o.alpha, o.seed);
  try {
    const params = adapterParams(s);
    const out = await train(s.model, trainData, test, { ...o, quant: s.quant, params, forwardFn: s.forwardFn }, onPoint, control);
    const unmergedMse = out.diverged ? NaN : await evaluate(s.model, test, s.quant, s.forwardFn);
    const merged = await mergeQaLora(s);
    return { ...out, unmergedMse, merged, adapterParams: params.reduce((n, p) => n + p.size, 0) };
  } finally {
    disposeQaLora(s);
  }
}
