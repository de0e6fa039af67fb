/**
 * QA-LoRA on the GPT: the base model is frozen and its quantized block linears are rounded
 * once (RTN with the component's quantizer) into constant tensors that replace the weights in
 * every forward pass (LinearHooks.weight); each of those linears gets a rank-r adapter
 * (A [in, r] small random, B [r, out] zeros; output += x·A·B·alpha/r, LinearHooks.delta). Only
 * the adapters train (AdamW). Afterwards the model is scored two ways: unmerged (quantized base
 * + full-precision adapters) and merged (W_q + A·B·alpha/r, re-quantized by the same RTN
 * quantizer — the forward pass with the component quantizers, like every other method's model).
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import { quantizeWeight } from '../core/quant';
import { quantizeTensor, quantizeWeights } from '../core/quantizers';
import { Rng } from '../core/rng';
import { type LayerQuant } from '../core/layerquant';
import { rtnWeights } from '../core/fakequant';
import { adaptedWeight, disposeAdapter, initAdapter, loraScale, type Adapter } from '../core/lora';
import { cloneGpt, gptActivationOnly, gptLinears, linearQuant, type Gpt, type GptLayerQuant, type GptQuant, type LinearHooks } from './gpt';
import { evaluateLm, trainLm, type LmCurvePoint, type LmEvalSet, type LmTrainOptions, type LmTrainOutcome } from './train';

/** An adapter (core/lora.ts: A [in, r] U(−1/√in, 1/√in), B [r, out] zeros) of one block linear. */
export interface LoraAdapter extends Adapter {
  /** The linear's name ("h0.attn.qkv" …). */
  name: string;
  /** The base weight it adapts. */
  w: tf.Variable;
}

/** A frozen quantized base and its adapters, as forward-pass hooks. */
export interface QaLoraState {
  adapters: LoraAdapter[];
  /** The round-once quantized block weights, keyed by the base variable. */
  base: Map<tf.Variable, tf.Tensor>;
  /** alpha / r. */
  scale: number;
  hooks: LinearHooks;
  /** The forward-pass quantization with the block weights already rounded: activations, embed and head only. */
  quant: GptQuant;
}

export type QaLoraOptions = Omit<LmTrainOptions, 'quant' | 'params' | 'hooks' | 'afterStep'> & { rank: number; alpha: number };

export interface QaLoraOutcome extends LmTrainOutcome {
  /** Validation NLL of the quantized base + full-precision adapters (the curve's last value). */
  unmergedNll: number;
  /** Validation NLL after merging and re-quantizing (= valNll). */
  mergedNll: number;
  /** The merged model (latent weights W_q + A·B·alpha/r; evaluate with the quantizers). The caller disposes it. */
  merged: Gpt;
  /** Trainable adapter parameters. */
  adapterParams: number;
}

/** The weight quantizer of one linear applied once (no gradient): RTN of w. */
export async function quantizeOnce(w: tf.Tensor, l: LayerQuant): Promise<tf.Tensor> {
  const q = l.weight;
  if (!q) return tf.clone(w);
  // A rotated linear, and k-means: rounded on the host (rtnWeights: R·q(Rᵀ·W) when rotated).
  if (l.rotation)
    return tf.tensor2d(await rtnWeights((await w.data()) as Float32Array, w.shape as [number, number], q, l.rotation), w.shape as [number, number]);
  if (q.kind === 'lab') return tf.tidy(() => quantizeWeight(w, q));
  if (q.spec.scheme !== 'kmeans') return quantizeTensor(w, q.spec);
  // k-means: the codebook is fitted to this weight on the host.
  const [inDim, outDim] = w.shape as [number, number];
  const host = (await w.data()) as Float32Array;
  return tf.tensor2d(quantizeWeights(host, [inDim, outDim], q.spec).values, [inDim, outDim]);
}

/** Only the activation quantizer of a component (its weights are substituted already rounded). */
function actOnly(l: GptLayerQuant | undefined): GptLayerQuant | undefined {
  return l ? gptActivationOnly(l) : undefined;
}

/** Round the quantized block linears of `m` once and attach rank-r adapters to each. */
export async function makeQaLora(m: Gpt, quant: GptQuant, rank: number, alpha: number, seed: number): Promise<QaLoraState> {
  const scale = loraScale(rank, alpha);
  const linears = gptLinears(m).filter((l) => quant[l.component]?.weight);
  if (linears.length === 0) throw new Error('QA-LoRA needs a quantized base: attention or MLP weights must be quantized.');
  const rng = new Rng(seed);
  const base = new Map<tf.Variable, tf.Tensor>();
  const adapters: LoraAdapter[] = [];
  for (const l of linears) {
    base.set(l.w, await quantizeOnce(l.w, linearQuant(quant, l) as LayerQuant));
    const [inDim, outDim] = l.w.shape as [number, number];
    adapters.push({ name: l.name, w: l.w, ...initAdapter(inDim, outDim, rank, rng) });
  }
  const byWeight = new Map(adapters.map((a) => [a.w, a]));
  const hooks: LinearHooks = {
    weight: (w) => base.get(w) ?? null,
    delta: (w, x) => {
      const a = byWeight.get(w);
      return a ? tf.mul(tf.matMul(tf.matMul(x, a.a), a.b), scale) : null;
    },
  };
  return { adapters, base, scale, hooks, quant: { ...quant, attn: actOnly(quant.attn), mlp: actOnly(quant.mlp) } };
}

export function disposeQaLora(s: QaLoraState): void {
  for (const a of s.adapters) disposeAdapter(a);
  for (const t of s.base.values()) t.dispose();
  s.base.clear();
}

/** A copy of `m` whose adapted weights are W_q + A·B·scale (everything else copied). */
export function mergeQaLora(m: Gpt, s: QaLoraState): Gpt {
  const merged = cloneGpt(m);
  const byWeight = new Map(s.adapters.map((a) => [a.w, a]));
  const src = gptLinears(m);
  const dst = gptLinears(merged);
  for (const [i, l] of src.entries()) {
    const a = byWeight.get(l.w);
    const wq = s.base.get(l.w);
    if (!a || !wq) continue;
    tf.tidy(() => dst[i].w.assign(adaptedWeight(wq, a, s.scale)));
  }
  return merged;
}

/**
 * QA-LoRA of `fp` (left unchanged) under `quant`: adapters trained on `trainIds` windows with
 * the quantized base frozen, then evaluated unmerged and merged + re-quantized on `val`.
 * The curve is the unmerged model's; `valNll`/`perplexity` are the merged model's.
 */
export async function trainQaLora(
  fp: Gpt,
  quant: GptQuant,
  trainIds: Int32Array,
  val: LmEvalSet,
  o: QaLoraOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<QaLoraOutcome> {
  const state = await makeQaLora(fp, quant, o.rank, o.alpha, o.seed);
  try {
    const params = state.adapters.flatMap((a) => [a.a, a.b]);
    const out = await trainLm(fp, trainIds, val, { ...o, quant: state.quant, params, hooks: state.hooks }, onPoint, control);
    const unmergedNll = out.valNll;
    const merged = mergeQaLora(fp, state);
    const mergedNll = out.diverged ? NaN : await evaluateLm(merged, val, quant);
    return {
      ...out,
      unmergedNll,
      mergedNll,
      valNll: mergedNll,
      perplexity: Math.exp(mergedNll),
      merged,
      adapterParams: params.reduce((s, p) => s + p.size, 0),
    };
  } finally {
    disposeQaLora(state);
  }
}
