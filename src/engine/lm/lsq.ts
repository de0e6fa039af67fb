/**
 * LSQ and scale-only fine-tuning of the GPT (the quantizer math in core/lsq.ts). Every weight
 * matrix the config quantizes gets its own learned step sizes (per output channel or per
 * tensor, as its component's quantizer): the block linears of attn / mlp, and the token table
 * as the input embedding (embed) and as the output head (head). A tied table quantized the same
 * way by embed and head is one matrix with one set of step sizes; quantized differently (or only
 * one of the two uses quantized), each use has its own, and the evaluated model unties the head.
 *
 * The quantized weights enter the forward pass through LinearHooks (weight, embed, head), so the
 * component quantizers keep only their activation bits. LSQ trains every parameter of a copy of
 * the FP model and the step sizes (AdamW, the QAFT settings); scale-only trains the step sizes
 * only, the RTN codes of the FP weights frozen. Afterwards the copy's matrices are overwritten
 * with their quantized values: the model is evaluated as it is, with activation quantizers only.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import type { WeightQuant } from '../core/layerquant';
import { clampStep, initLsqStep, initRtnCodes, learnedQuantize, scaleLayerOf, type LearnedKind, type ScaleLayer } from '../core/lsq';
import { cloneGpt, disposeGpt, gptActivationOnly, gptLinears, gptParams, type Gpt, type GptLayerQuant, type GptQuant, type LinearHooks } from './gpt';
import { trainLm, type LmCurvePoint, type LmEvalSet, type LmTrainOptions, type LmTrainOutcome } from './train';

/** Where a learned matrix is used: a block linear, the input embedding, the output head. */
export type LearnedUse = 'linear' | 'embed' | 'head';

/** One quantized weight matrix and its learned step sizes. */
export interface LearnedMatrix {
  /** "h0.attn.qkv" …, "embed", "head", or "embed+head" (the tied table under one quantizer). */
  name: string;
  uses: readonly LearnedUse[];
  /** The latent weight (trained by LSQ; frozen for scale-only). */
  w: tf.Variable;
  layer: ScaleLayer;
  /** The trainable step sizes, [1, out] per channel or [1, 1] per tensor. */
  scale: tf.Variable;
  /** Their initial values (for the figures). */
  scale0: tf.Tensor;
  /** Scale-only: the frozen integer codes (RTN's). */
  codes: tf.Tensor | null;
}

export interface GptLearnedScales {
  kind: LearnedKind;
  matrices: LearnedMatrix[];
  /** The forward pass's substitutes: each learned matrix's quantized weight. */
  hooks: LinearHooks;
  /** The component quantizers with the weights substituted: activation bits of attn / mlp only. */
  quant: GptQuant;
}

/** Only the activation quantizer of a component (its weights enter already quantized). */
function actOnly(l: GptLayerQuant | undefined): GptLayerQuant | undefined {
  return l ? gptActivationOnly(l) : undefined;
}

/**
 * The quantizer to evaluate a model whose quantized matrices (block linears, embedding, head)
 * already hold their quantized values: activation bits of attn / mlp only.
 */
export function learnedEvalQuant(q: GptQuant): GptQuant {
  const out: GptQuant = {};
  const attn = actOnly(q.attn);
  const mlp = actOnly(q.mlp);
  if (attn) out.attn = attn;
  if (mlp) out.mlp = mlp;
  return out;
}

const sameQuant = (a: WeightQuant, b: WeightQuant) => JSON.stringify(a) === JSON.stringify(b);

/** The quantized value of a learned matrix (differentiable in W and s for LSQ, in s for scale-only). */
export function learnedValue(ls: GptLearnedScales, x: LearnedMatrix): tf.Tensor {
  return learnedQuantize(ls.kind, x.layer, x.w, x.scale, x.codes);
}

/**
 * Step sizes for every matrix `q` quantizes in `m` (LSQ: 2·mean|W|/√Qp; scale-only: RTN's, with
 * RTN's codes frozen). Throws for a quantizer that cannot have learned scales (see lmLearnedScaleProblems).
 */
export function initGptLearned(m: Gpt, q: GptQuant, kind: LearnedKind): GptLearnedScales {
  const matrices: LearnedMatrix[] = [];
  const add = (name: string, uses: LearnedUse[], w: tf.Variable, wq: WeightQuant) => {
    const layer = scaleLayerOf(wq, w.shape);
    const prefix = `${kind}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
    const { scale, codes } = kind === 'lsq' ? { scale: initLsqStep(w, layer, prefix), codes: null } : initRtnCodes(w, layer, prefix);
    matrices.push({ name, uses, w, layer, scale, scale0: tf.clone(scale), codes });
  };
  try {
    for (const lin of gptLinears(m)) {
      const wq = q[lin.component]?.weight;
      if (wq) add(lin.name, ['linear'], lin.w, wq);
    }
    const embedQ = q.embed?.weight ?? null;
    const headQ = q.head?.weight ?? null;
    if (!m.head && embedQ && headQ && sameQuant(embedQ, headQ)) add('embed+head', ['embed', 'head'], m.wte, embedQ);
    else {
      if (embedQ) add('embed', ['embed'], m.wte, embedQ);
      if (headQ) add('head', ['head'], m.head ?? m.wte, headQ);
    }
  } catch (e) {
    disposeGptLearned({ kind, matrices, hooks: {}, quant: {} });
    throw e;
  }
  const linear = new Map(matrices.filter((x) => x.uses.includes('linear')).map((x) => [x.w, x]));
  const embed = matrices.find((x) => x.uses.includes('embed'));
  const head = matrices.find((x) => x.uses.includes('head'));
  const ls: GptLearnedScales = { kind, matrices, hooks: {}, quant: learnedEvalQuant(q) };
  ls.hooks = {
    weight: (w) => {
      const x = linear.get(w);
      return x ? learnedValue(ls, x) : null;
    },
    embed: (w) => (embed && embed.w === w ? learnedValue(ls, embed) : null),
    head: (w) => (head && head.w === w ? learnedValue(ls, head) : null),
  };
  return ls;
}

export function learnedScaleParams(ls: GptLearnedScales): tf.Variable[] {
  return ls.matrices.map((x) => x.scale);
}

/** Keep every step size ≥ MIN_STEP (after each optimizer step). */
export function clampGptScales(ls: GptLearnedScales): void {
  for (const x of ls.matrices) clampStep(x.scale);
}

export function disposeGptLearned(ls: GptLearnedScales): void {
  for (const x of ls.matrices) {
    x.scale.dispose();
    x.scale0.dispose();
    x.codes?.dispose();
  }
}

/**
 * Overwrite `m`'s learned matrices (those `ls` was made on) with their quantized values, in
 * place. A tied table whose two uses differ (different quantizers, or one of them full
 * precision) is untied: `head` gets the head's value (quantized, or the latent table), `wte` the
 * embedding's. Evaluate the result with learnedEvalQuant.
 */
export function materializeLearned(m: Gpt, ls: GptLearnedScales): void {
  const embed = ls.matrices.find((x) => x.uses.includes('embed'));
  const head = ls.matrices.find((x) => x.uses.includes('head'));
  if (!m.head && embed !== head) {
    m.head = tf.tidy(() => tf.variable(head ? learnedValue(ls, head) : tf.clone(m.wte), true));
    m.config = { ...m.config, untiedHead: true };
  }
  for (const x of ls.matrices) {
    // The untied head was written above; a matrix of the table as embedding writes wte.
    if (x === head && !x.uses.includes('embed') && x.w === m.wte) continue;
    tf.tidy(() => x.w.assign(learnedValue(ls, x)));
  }
}

/** Mean over every step size of |s/s0 − 1| (how far training moved them). */
export async function meanScaleChange(ls: GptLearnedScales): Promise<number> {
  if (!ls.matrices.length) return 0;
  const t = tf.tidy(() => {
    const parts = ls.matrices.map((x) => tf.reshape(tf.abs(tf.sub(tf.div(x.scale, x.scale0), 1)), [-1]));
    return tf.mean(tf.concat(parts));
  });
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

export type LearnedScalesOptions = Omit<LmTrainOptions, 'quant' | 'params' | 'hooks' | 'afterStep'>;

export interface LearnedScalesOutcome extends LmTrainOutcome {
  /** The quantized model (matrices hold their quantized values; evaluate with `quant`); null when diverged. The caller disposes it. */
  model: Gpt | null;
  quant: GptQuant;
  /** Trained step sizes, and their mean relative change |s/s0 − 1|. */
  scales: number;
  scaleChange: number;
  /** Learned matrices. */
  matrices: number;
}

/**
 * LSQ or scale-only of `fp` (left unchanged) under `quant` on `trainIds` windows, validating on
 * `val` (the curve is the learned-scale model's). Returns the quantized model.
 */
export async function trainLearnedScales(
  fp: Gpt,
  quant: GptQuant,
  kind: LearnedKind,
  trainIds: Int32Array,
  val: LmEvalSet,
  o: LearnedScalesOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<LearnedScalesOutcome> {
  const model = cloneGpt(fp);
  let ls: GptLearnedScales;
  try {
    ls = initGptLearned(model, quant, kind);
  } catch (e) {
    disposeGpt(model);
    throw e;
  }
  try {
    if (!ls.matrices.length) throw new Error('LSQ and scale-only need a quantized component: set the bits of embed, attn, mlp or head below 16.');
    const scales = learnedScaleParams(ls);
    const params = kind === 'lsq' ? [...gptParams(model), ...scales] : scales;
    const out = await trainLm(model, trainIds, val, { ...o, quant: ls.quant, params, hooks: ls.hooks, afterStep: () => clampGptScales(ls) }, onPoint, control);
    const summary = { quant: ls.quant, scales: scales.reduce((s, p) => s + p.size, 0), scaleChange: await meanScaleChange(ls), matrices: ls.matrices.length };
    if (out.diverged) {
      disposeGpt(model);
      return { ...out, ...summary, model: null };
    }
    materializeLearned(model, ls);
    return { ...out, ...summary, model };
  } catch (e) {
    disposeGpt(model);
    throw e;
  } finally {
    disposeGptLearned(ls);
  }
}
