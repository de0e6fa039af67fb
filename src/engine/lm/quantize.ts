/**
 * Post-training quantization of the lab's GPT: the config's per-component quantizers, k-means
 * codebooks (one per weight matrix), round-to-nearest of the block linears, the quantizer to
 * evaluate a model whose block weights already lie on the grid, and per-linear local errors.
 *
 * Embedding and head share one matrix (tied), so PTQ never rewrites `wte` (nor an untied `head`):
 * their quantization stays a fake-quant in the forward pass (ptqEvalQuant keeps q.embed / q.head).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../core/config';
import { fakeQuantLayer, refreshCodebooks, disposeCodebooks, rtnWeights } from '../core/fakequant';
import { type LayerQuant } from '../core/layerquant';
import { LM_COMPONENTS, lmComponentQuant } from './spec';
import { actSpecOf } from '../core/act';
import {
  cloneGpt,
  disposeGpt,
  gptActivationOnly,
  linearQuant,
  gptBlock,
  gptEmbed,
  gptLinears,
  type Gpt,
  type GptLayerQuant,
  type GptLinear,
  type GptQuant,
} from './gpt';

/**
 * One LayerQuant per quantized component (full-precision components are left out). Activation
 * bits (c.quant.actBits) go on attn / mlp only, when that component's weights are quantized.
 */
export function gptQuantOf(c: ExperimentConfig): GptQuant {
  const out: GptQuant = {};
  for (const k of LM_COMPONENTS) {
    const weight = lmComponentQuant(c, k);
    if (!weight) continue;
    const l: GptLayerQuant = { weight, actBits: k === 'attn' || k === 'mlp' ? c.quant.actBits : 0 };
    const act = actSpecOf(c.act);
    if (act && l.actBits > 0) l.act = act;
    out[k] = l;
  }
  return out;
}

/** Whether a quantizer needs a fitted codebook (zoo k-means). */
export function isKmeans(l: LayerQuant | undefined): boolean {
  return l?.weight?.kind === 'zoo' && l.weight.spec.scheme === 'kmeans';
}

/** Whether any component of `q` uses k-means levels (its codebooks must be fitted to the model it runs on). */
export function hasKmeans(q: GptQuant): boolean {
  return [q.embed, q.attn, q.mlp, q.head].some(isKmeans);
}

function disposeMap(l: GptLayerQuant | undefined): void {
  if (!l?.codebooks) return;
  for (const t of l.codebooks.values()) t.dispose();
  l.codebooks.clear();
}

/**
 * Fit the k-means codebooks of `q` to `m`'s current weights (host Lloyd, as refreshCodebooks);
 * a no-op for other schemes. attn / mlp: one codebook per weight matrix, in the component's
 * `codebooks` map keyed by the variable (previous entries, e.g. of another model, are disposed:
 * a GptQuant serves one model at a time). embed / head: their own `codebook`, fit on `wte` (the
 * head on `head` when the model has an untied one).
 */
export async function refreshGptCodebooks(m: Gpt, q: GptQuant): Promise<void> {
  if (q.embed && isKmeans(q.embed)) await refreshCodebooks([q.embed], [m.wte]);
  if (q.head && isKmeans(q.head)) await refreshCodebooks([q.head], [m.head ?? m.wte]);
  for (const k of ['attn', 'mlp'] as const) {
    const l = q[k];
    if (!l || !isKmeans(l)) continue;
    disposeMap(l);
    const map = (l.codebooks ??= new Map());
    for (const lin of gptLinears(m)) {
      if (lin.component !== k) continue;
      const tmp: LayerQuant = { weight: l.weight, actBits: l.actBits, rotation: q.rotate?.[lin.role] };
      await refreshCodebooks([tmp], [lin.w]);
      if (tmp.codebook) map.set(lin.w, tmp.codebook);
    }
  }
}

/** Dispose every codebook held by `q` (the quantizer objects stay usable after a refresh). */
export function disposeGptQuant(q: GptQuant): void {
  for (const k of LM_COMPONENTS) {
    const l = q[k];
    if (!l) continue;
    disposeCodebooks([l]);
    if (k === 'attn' || k === 'mlp') disposeMap(q[k]);
  }
}

/**
 * The quantizer for evaluating a model whose block weights already lie on the grid (GPTQ, or
 * RTN materialized by rtnGpt): embed / head as in `q` (fake-quantized on the fly, tied), attn /
 * mlp with no weight quantizer but the same activation bits.
 */
export function ptqEvalQuant(q: GptQuant): GptQuant {
  const out: GptQuant = {};
  if (q.embed) out.embed = q.embed;
  if (q.head) out.head = q.head;
  if (q.attn) out.attn = gptActivationOnly(q.attn);
  if (q.mlp) out.mlp = gptActivationOnly(q.mlp);
  if (q.rotate) out.rotate = q.rotate;
  return out;
}

/** The weight a block linear actually uses under `q` (a new tensor; value only). */
export function effectiveWeight(lin: GptLinear, q: GptQuant | undefined): tf.Tensor2D {
  const l = linearQuant(q, lin, lin.w);
  if (!l?.weight) return tf.clone(lin.w) as tf.Tensor2D;
  return tf.tidy(() => fakeQuantLayer(lin.w, l)) as tf.Tensor2D;
}

/**
 * A clone of `m` whose quantized block linears (attn / mlp per `q`) hold their round-to-nearest
 * values; biases, norms and the (tied) embedding are copied as they are. Evaluate it with
 * ptqEvalQuant(q). k-means is fit per matrix on the host (as refreshGptCodebooks would).
 */
export async function rtnGpt(m: Gpt, q: GptQuant): Promise<Gpt> {
  const out = cloneGpt(m);
  try {
    for (const lin of gptLinears(out)) {
      const l = linearQuant(q, lin);
      if (!l?.weight) continue;
      let t: tf.Tensor;
      if (l.weight.kind === 'zoo' && isKmeans(l)) {
        const shape = lin.w.shape as [number, number];
        const host = (await lin.w.data()) as Float32Array;
        t = tf.tensor2d(await rtnWeights(host, shape, l.weight, l.rotation), shape);
      } else t = tf.tidy(() => fakeQuantLayer(lin.w, l));
      lin.w.assign(t);
      t.dispose();
    }
  } catch (e) {
    disposeGpt(out);
    throw e;
  }
  return out;
}

/** Calibration windows as fixed-shape int32 batches: ⌊n/B⌋ batches of B, then one remainder batch. */
export interface CalibBatch {
  tokens: tf.Tensor2D;
  rows: number;
}

export function calibBatches(calib: Int32Array, n: number, T: number, maxBatch = 8): CalibBatch[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`calibration: need at least one window, got n = ${n}`);
  if (calib.length !== n * T) throw new Error(`calibration: ${calib.length} tokens are not ${n} windows of ${T}`);
  const B = Math.min(maxBatch, n);
  const out: CalibBatch[] = [];
  for (let s = 0; s < n; s += B) {
    const rows = Math.min(B, n - s);
    out.push({ tokens: tf.tensor2d(calib.subarray(s * T, (s + rows) * T), [rows, T], 'int32'), rows });
  }
  return out;
}

export function disposeCalibBatches(b: CalibBatch[]): void {
  for (const x of b) x.tokens.dispose();
}

/**
 * Per block linear (gptLinears order): the mean over calibration tokens of ‖x·(W_eff − W_fp)‖²,
 * x = the linear's input on `model`'s own (quantized) path under `evalQuant`, W_eff = the weight
 * `model` uses there (fake-quantized when evalQuant quantizes the component; k-means needs its
 * codebooks fitted to `model`), W_fp = `fp`'s. 0 for a linear whose weights equal fp's.
 */
export async function lmLayerErrors(
  fp: Gpt,
  model: Gpt,
  evalQuant: GptQuant | undefined,
  calib: Int32Array,
  n: number,
  T: number,
): Promise<{ names: string[]; errors: number[] }> {
  if (T > model.config.context) throw new Error(`lmLayerErrors: windows of ${T} tokens exceed the context ${model.config.context}`);
  const lins = gptLinears(model);
  const fpLins = gptLinears(fp);
  if (fpLins.length !== lins.length) throw new Error('lmLayerErrors: the two models have different numbers of linears');
  const index = new Map(lins.map((l, i) => [l.w as tf.Variable, i]));
  const deltas = lins.map((l, i) => {
    const eff = effectiveWeight(l, evalQuant);
    const d = tf.sub(eff, fpLins[i].w) as tf.Tensor2D;
    eff.dispose();
    return d;
  });
  const batches = calibBatches(calib, n, T);
  let acc: tf.Tensor = tf.zeros([lins.length]);
  try {
    for (const { tokens, rows } of batches) {
      const next = tf.tidy(() => {
        const sums: tf.Tensor[] = lins.map(() => tf.scalar(0));
        const hooks = {
          input: (w: tf.Variable, x: tf.Tensor) => {
            const i = index.get(w);
            if (i !== undefined) sums[i] = tf.sum(tf.square(tf.matMul(x, deltas[i])));
          },
        };
        let x: tf.Tensor = gptEmbed(model, tokens, evalQuant);
        for (let b = 0; b < model.blocks.length; b++) x = gptBlock(model, b, x, rows, T, evalQuant, hooks);
        return tf.add(acc, tf.stack(sums));
      });
      acc.dispose();
      acc = next;
    }
    const total = (await acc.data()) as Float32Array;
    return { names: lins.map((l) => l.name), errors: Array.from(total, (s) => s / (n * T)) };
  } finally {
    acc.dispose();
    for (const d of deltas) d.dispose();
    disposeCalibBatches(batches);
  }
}
