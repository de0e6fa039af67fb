/**
 * The benchmarked GPT training step (the Node benchmark's and the speed page's): the lab's default
 * GPT (DEFAULT_CONFIG.lm) trained with the engine's own lmTrainStep (windows from the seeded
 * sampler, gradients of the mean NLL, AdamW as DEFAULT_CONFIG.lmFp, loss summed on the device),
 * full precision, with the default QAFT forward (DEFAULT_CONFIG's per-component weight
 * quantizers: int3 per-row absmax fake-quant on attention and MLP weights, STE), or with QAFT in a
 * format scheme (FP8, MX, NVFP4) on the attention and MLP weights.
 */
import { cloneConfig, DEFAULT_CONFIG, type Bits, type ExperimentConfig } from '../core/config';
import { weightQuantLabel } from '../core/layerquant';
import { lrAt } from '../core/loop';
import { lossSumRun, type StepRun } from '../core/measure';
import { AdamW } from '../core/optim';
import { FORMAT_INFO, isFormatScheme, type FormatScheme } from '../core/quantizers/formats';
import { disposeGpt, gptParamCount, gptParams, initGpt, type GptQuant } from './gpt';
import { lmComponentQuant, LM_COMPONENTS } from './spec';
import { charTokenizer } from './tokenizer';
import { lmTrainStep, WindowSampler } from './train';

/** 'fp', 'qaft' (the default int3 QAFT), or QAFT with a format scheme on the attention and MLP weights. */
export type LmVariant = 'fp' | 'qaft' | FormatScheme;

/** Whether `v` names a GPT variant the bench can measure. */
export function isLmVariant(v: unknown): v is LmVariant {
  return v === 'fp' || v === 'qaft' || isFormatScheme(v);
}

/** A short name for a variant: FP, int3 QAFT (DEFAULT_CONFIG's attention bits), or the format's (MXFP4, FP8 E4M3, …). */
export function lmVariantLabel(v: LmVariant): string {
  if (v === 'fp') return 'FP';
  if (v === 'qaft') return `int${DEFAULT_CONFIG.lm.attnBits} QAFT`;
  return `${FORMAT_INFO[v].label} QAFT`;
}

/**
 * The settings a quantized variant trains with: DEFAULT_CONFIG for 'qaft'; for a format, what the
 * lab resolves for `task=lm&scheme=<format>&bits_attn=<b>&bits_mlp=<b>` with b the format's bits
 * (the default granularity, per row, for FP8; MX and NVFP4 their own blocks).
 */
export function lmBenchConfig(variant: Exclude<LmVariant, 'fp'>): ExperimentConfig {
  const c = cloneConfig(DEFAULT_CONFIG);
  c.task = 'lm';
  if (variant === 'qaft') return c;
  const bits = FORMAT_INFO[variant].bits as Bits;
  c.quant = { ...c.quant, scheme: variant };
  c.lm = { ...c.lm, attnBits: bits, mlpBits: bits };
  return c;
}

/** The QAFT forward's quantizers for a variant (lmBenchConfig's per-component weight quantizers), and their labels. */
export function lmBenchQuant(variant: Exclude<LmVariant, 'fp'> = 'qaft'): { quant: GptQuant; labels: Record<string, string> } {
  const c = lmBenchConfig(variant);
  const quant: GptQuant = {};
  const labels: Record<string, string> = {};
  for (const k of LM_COMPONENTS) {
    const w = lmComponentQuant(c, k);
    labels[k] = weightQuantLabel(w);
    if (w) quant[k] = { weight: w, actBits: c.quant.actBits };
  }
  return { quant, labels };
}

/** Characters of the corpus the benchmark trains on (the torch reference reads the same first 200k). */
export const BENCH_CORPUS_CHARS = 200_000;

/**
 * Token ids and vocabulary the benchmark trains on: the char tokens of the corpus's first 200k
 * characters, or without a corpus a synthetic 72-symbol stream.
 */
export function benchTokens(corpus: string | null): { ids: Int32Array; vocab: number; source: 'corpus' | 'synthetic' } {
  if (corpus) {
    const text = corpus.slice(0, BENCH_CORPUS_CHARS);
    const tok = charTokenizer(text);
    return { ids: tok.encode(text), vocab: tok.vocab, source: 'corpus' };
  }
  return { ids: Int32Array.from({ length: BENCH_CORPUS_CHARS }, (_, i) => (i * 7919) % 72), vocab: 72, source: 'synthetic' };
}

export interface LmBenchRun extends StepRun {
  /** Trainable parameters of the model. */
  params: number;
  /** The quantizers by component ({} for FP). */
  quant: Record<string, string>;
  /** Tokens one step trains on (batch × context). */
  tokensPerStep: number;
}

/** A fresh default GPT (seed 0) over the token stream `ids` (vocabulary `vocab`), to train `totalSteps` steps at `batch`. */
export function makeLmRun(variant: LmVariant, batch: number, totalSteps: number, ids: Int32Array, vocab: number): LmBenchRun {
  const l = DEFAULT_CONFIG.lm;
  const m = initGpt({ vocab, context: l.context, layers: l.layers, heads: l.heads, dModel: l.dModel, norm: l.norm, bitnet: l.bitnet }, 0);
  const params = gptParams(m);
  const opt = new AdamW(params, { weightDecay: DEFAULT_CONFIG.lmFp.weightDecay });
  const sampler = new WindowSampler(ids, l.context, batch, 1);
  const q = variant === 'fp' ? null : lmBenchQuant(variant);
  const run = lossSumRun(
    (k, acc) => lmTrainStep(m, params, opt, sampler.next(), batch, lrAt(DEFAULT_CONFIG.lmFp, k, totalSteps), acc, q?.quant),
    () => {
      opt.dispose();
      disposeGpt(m);
    },
  );
  return { ...run, params: gptParamCount(m), quant: q ? q.labels : {}, tokensPerStep: batch * l.context };
}
