/**
 * Pretrains the lab's default character-level GPT on the shipped corpus and writes the
 * checkpoint the page loads at once (`npm run pretrain-lm`):
 *
 *   public/lm/corpus.txt  →  public/lm/tiny-gpt.safetensors
 *
 * Exactly what the lab does when it pretrains the default model itself: the char tokenizer of
 * the corpus, the last `lm.valFraction` held out, `initGpt(…, lmFp.seed)` and `trainLm` with
 * DEFAULT_CONFIG.lmFp (same init, same window stream), on the tfjs wasm backend in Node. The
 * metadata records the lm/lmFp settings, the corpus SHA-256 and the validation NLL, so the lab
 * can tell whether the checkpoint matches its current settings.
 *
 * Usage: npx tsx scripts/pretrain-lm.ts [--steps N] [--batch N] [--lr X] [--log N]
 *          [--backend wasm|cpu|webgpu] [--corpus path] [--out path]
 * (--steps/--batch/--lr override DEFAULT_CONFIG.lmFp; the overrides are recorded in the metadata.)
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/cli/node-env';
import { DEFAULT_CONFIG, type BackendPref, type TrainConfig } from '../src/engine/core/config';
import { saveGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt, gptParamCount, initGpt, type GptConfig } from '../src/engine/lm/gpt';
import { charTokenizer, unigramEntropy } from '../src/engine/lm/tokenizer';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm } from '../src/engine/lm/train';

/** The lab's validation set: the first 128 windows of the held-out text, in batches of 16 (lab.ts). */
const VAL_WINDOWS = 128;
const EVAL_BATCH = 16;

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, def: number): number => {
  const v = arg(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
};

const corpusPath = arg('corpus') ?? 'public/lm/corpus.txt';
const outPath = arg('out') ?? 'public/lm/tiny-gpt.safetensors';
const backendPref = (arg('backend') ?? 'wasm') as BackendPref;
const lm = DEFAULT_CONFIG.lm;
// Same key order as DEFAULT_CONFIG.lmFp, so the lab can compare JSON strings.
const lmFp: TrainConfig = {
  ...DEFAULT_CONFIG.lmFp,
  steps: num('steps', DEFAULT_CONFIG.lmFp.steps),
  batch: num('batch', DEFAULT_CONFIG.lmFp.batch),
  lr: num('lr', DEFAULT_CONFIG.lmFp.lr),
};
if (lmFp.unit !== 'steps') throw new Error(`pretrain-lm: lmFp.unit is "${lmFp.unit}"; the LM trains in steps`);
const logEvery = num('log', 100);

const info = await initNodeBackend(backendPref);
if (info.name !== backendPref && backendPref !== 'auto')
  throw new Error(`pretrain-lm: the ${backendPref} backend did not start (got ${info.name}): ${info.notes.join(' ')}`);

const text = readFileSync(corpusPath, 'utf8');
const sha = createHash('sha256').update(text).digest('hex');
const tok = charTokenizer(text);
const ids = tok.encode(text);
const split = Math.floor(ids.length * (1 - lm.valFraction));
const trainIds = ids.subarray(0, split);
const valIds = ids.subarray(split);
const T = lm.context;
const windows = Math.min(VAL_WINDOWS, Math.floor((valIds.length - 1) / T));
const evalBatch = Math.min(EVAL_BATCH, windows);
const val = makeEvalSet(valIds.subarray(0, Math.floor(windows / evalBatch) * evalBatch * T + 1), T, evalBatch);
const unigram = unigramEntropy(ids, tok.vocab);

const config: GptConfig = { vocab: tok.vocab, context: T, layers: lm.layers, heads: lm.heads, dModel: lm.dModel, norm: lm.norm, bitnet: lm.bitnet };
const model = initGpt(config, lmFp.seed);
const tokensPerStep = lmFp.batch * T;
console.log(
  `pretrain-lm: ${corpusPath} (${text.length.toLocaleString('en-US')} chars, vocab ${tok.vocab}, sha256 ${sha.slice(0, 16)}…), unigram entropy ${unigram.toFixed(4)} nats`,
);
console.log(
  `pretrain-lm: GPT ${lm.layers}×${lm.dModel} (${lm.heads} heads, context ${T}, ${lm.norm}${lm.bitnet ? ', bitnet' : ''}), ${gptParamCount(model).toLocaleString('en-US')} parameters, backend ${info.name}`,
);
console.log(
  `pretrain-lm: ${lmFp.steps} steps × batch ${lmFp.batch} × ${T} tokens, lr ${lmFp.lr} ${lmFp.schedule}, weight decay ${lmFp.weightDecay}, seed ${lmFp.seed}; validation: ${windows} windows`,
);

const t0 = performance.now();
const outcome = await trainLm(
  model,
  trainIds,
  val,
  { steps: lmFp.steps, batch: lmFp.batch, lr: lmFp.lr, schedule: lmFp.schedule, weightDecay: lmFp.weightDecay, seed: lmFp.seed, logEvery },
  (p) => {
    const s = (performance.now() - t0) / 1000;
    const rate = p.step > 0 ? (p.step * tokensPerStep) / s : 0;
    const eta = p.step > 0 ? ((lmFp.steps - p.step) * s) / p.step : NaN;
    console.log(
      `step ${String(p.step).padStart(5)}  train ${p.train.toFixed(4)}  val ${p.val.toFixed(4)}  ${s.toFixed(0)} s  ${rate.toFixed(0)} tok/s${p.step > 0 ? `  eta ${eta.toFixed(0)} s` : ''}`,
    );
  },
);
const seconds = (performance.now() - t0) / 1000;
if (outcome.diverged) throw new Error(`pretrain-lm: training diverged at step ${outcome.stepsDone}; no checkpoint written`);

// The whole held-out text as well (the lab's figure uses the first windows only).
const full = makeEvalSet(valIds, T, 32);
const valNllFull = await evaluateLm(model, full, undefined);
disposeEvalSet(full);

const bytes = await saveGpt(model, {
  chars: tok.chars,
  lm: { source: 'tiny', layers: lm.layers, heads: lm.heads, dModel: lm.dModel, context: lm.context, norm: lm.norm, bitnet: lm.bitnet, corpus: 'builtin' },
  lmFp,
  valFraction: lm.valFraction,
  corpusSha256: sha,
  corpusChars: text.length,
  valNll: outcome.valNll,
  valWindows: windows,
  valNllFull,
  unigramEntropy: unigram,
  curve: outcome.curve.map((p) => ({ step: p.step, train: +p.train.toFixed(5), val: +p.val.toFixed(5) })),
  backend: info.name,
  tfjs: tf.version.tfjs,
  seconds: Math.round(seconds),
  createdBy: 'scripts/pretrain-lm.ts',
});
writeFileSync(outPath, bytes);
console.log(`pretrain-lm: ${outcome.stepsDone} steps in ${seconds.toFixed(0)} s (${((outcome.stepsDone * tokensPerStep) / seconds).toFixed(0)} tok/s)`);
console.log(
  `pretrain-lm: val NLL ${outcome.valNll.toFixed(4)} nats (${windows} windows; whole held-out text ${valNllFull.toFixed(4)}), perplexity ${outcome.perplexity.toFixed(3)}; unigram entropy ${unigram.toFixed(4)} nats`,
);
console.log(`pretrain-lm: wrote ${outPath} (${(bytes.length / 2 ** 20).toFixed(2)} MiB)`);
disposeEvalSet(val);
disposeGpt(model);
