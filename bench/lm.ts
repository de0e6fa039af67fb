/**
 * Training throughput of the lab's default GPT (DEFAULT_CONFIG.lm: 4 layers, dModel 128,
 * context 64, char vocabulary of the shipped corpus), full precision and QAFT with the default
 * int3 fake-quant forward (attention + MLP weights, per-row absmax, STE). The step is the
 * engine's own lmTrainStep (src/engine/lm/train.ts): windows from the seeded sampler, gradients
 * of the mean NLL, AdamW, loss summed on the device.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { weightQuantLabel } from '../src/engine/core/layerquant';
import { disposeGpt, gptParamCount, gptParams, initGpt, type GptQuant } from '../src/engine/lm/gpt';
import { lmComponentQuant, LM_COMPONENTS } from '../src/engine/lm/spec';
import { charTokenizer } from '../src/engine/lm/tokenizer';
import { lmTrainStep, WindowSampler } from '../src/engine/lm/train';
import { AdamW } from '../src/engine/core/optim';
import { lrAt } from '../src/engine/core/loop';
import { kernelHistogram, sortedCounts, withCounters, type StepCounts } from './measure';

export type LmVariant = 'fp' | 'qaft';

/** WebGPU programs per FP step of the default GPT that issue 13 asks for (QAFT: at most 10 % more). */
export const LM_PROGRAM_TARGET = 250;

export interface LmBenchResult {
  backend: string;
  adapter: string | null;
  /** 'fp', or 'qaft' with DEFAULT_CONFIG's per-component weight quantizers in the forward. */
  variant: LmVariant;
  quant: Record<string, string>;
  batch: number;
  context: number;
  vocab: number;
  params: number;
  warmup_steps: number;
  timed_steps: number;
  /** Training tokens (batch × context) per second over the timed steps. */
  tokens_per_s: number | null;
  ms_per_step: number | null;
  /** Registered kernels run in one step (tf.profile). */
  kernels_per_step: number;
  /** WebGPU only: programs dispatched (runWebGPUProgram calls) and CPU→GPU uploads in one step. */
  gpu_programs_per_step: number | null;
  gpu_uploads_per_step: number | null;
  /** The target for gpu_programs_per_step (issue 13): 250 for FP, 10 % more (275) for QAFT; null off WebGPU. */
  gpu_programs_target: number | null;
  /** gpu_programs_per_step ≤ gpu_programs_target (null off WebGPU). */
  meets_target: boolean | null;
  /** Kernels by name in the profiled step (tf.profile), most frequent first. */
  kernel_histogram: Record<string, number>;
  /** WebGPU only: dispatches by program (its shaderKey up to the first '_'), most frequent first. */
  gpu_program_histogram: Record<string, number> | null;
  /** Tensor-count change over the timed steps, per step (must be 0). */
  leaked_tensors_per_step: number | null;
  /** Live tensors after each timed step (flat = no growth across steps). */
  tensors_after_step: number[];
  peak_step_bytes: number;
  final_loss_mean: number;
  loadavg_1m: number;
}

export interface LmPlan {
  batch: number;
  warmup: number;
  timed: number;
}

/**
 * Default plans: wasm at the lab's FP batch (DEFAULT_CONFIG.lmFp.batch); the cpu backend (plain
 * JS) and webgpu on SwiftShader (a CPU emulation here) are far slower, so they get smaller batches.
 */
export function lmPlan(backend: string, quick: boolean): LmPlan {
  const batch = DEFAULT_CONFIG.lmFp.batch;
  if (backend === 'wasm') return quick ? { batch, warmup: 1, timed: 2 } : { batch, warmup: 1, timed: 4 };
  if (backend === 'webgpu') return { batch: 1, warmup: 0, timed: quick ? 0 : 1 };
  return { batch: 4, warmup: 0, timed: quick ? 1 : 2 };
}

const CORPUS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'public', 'lm', 'corpus.txt');

/** Token ids of the shipped corpus (or, without it, a synthetic 72-symbol stream), and the vocabulary. */
function corpusIds(): { ids: Int32Array; vocab: number; source: string } {
  if (existsSync(CORPUS)) {
    const text = readFileSync(CORPUS, 'utf8').slice(0, 200_000);
    const tok = charTokenizer(text);
    return { ids: tok.encode(text), vocab: tok.vocab, source: 'public/lm/corpus.txt' };
  }
  return { ids: Int32Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 72), vocab: 72, source: 'synthetic' };
}

/** The QAFT forward's quantizers: DEFAULT_CONFIG's per-component weight bits (attn, mlp int3). */
export function lmBenchQuant(): { quant: GptQuant; labels: Record<string, string> } {
  const quant: GptQuant = {};
  const labels: Record<string, string> = {};
  for (const k of LM_COMPONENTS) {
    const w = lmComponentQuant(DEFAULT_CONFIG, k);
    labels[k] = weightQuantLabel(w);
    if (w) quant[k] = { weight: w, actBits: DEFAULT_CONFIG.quant.actBits };
  }
  return { quant, labels };
}

export async function measureLm(variant: LmVariant, plan: LmPlan, ctx: { adapter: string | null }): Promise<LmBenchResult> {
  const l = DEFAULT_CONFIG.lm;
  const { ids, vocab } = corpusIds();
  const m = initGpt({ vocab, context: l.context, layers: l.layers, heads: l.heads, dModel: l.dModel, norm: l.norm, bitnet: l.bitnet }, 0);
  const params = gptParams(m);
  const opt = new AdamW(params, { weightDecay: DEFAULT_CONFIG.lmFp.weightDecay });
  const sampler = new WindowSampler(ids, l.context, plan.batch, 1);
  const q = variant === 'qaft' ? lmBenchQuant() : null;
  const total = 1 + plan.warmup + plan.timed;
  let acc: tf.Scalar = tf.scalar(0);
  let k = 0;
  const step = () => {
    const next = lmTrainStep(m, params, opt, sampler.next(), plan.batch, lrAt(DEFAULT_CONFIG.lmFp, k, total), acc, q?.quant);
    acc.dispose();
    acc = next;
    k += 1;
  };
  try {
    for (let i = 0; i < plan.warmup; i++) step();
    if (plan.warmup > 0) await acc.data();
    let stepCounts: StepCounts = { gpu: null, transposedMatMuls: 0 };
    const prof = await tf.profile(() => {
      stepCounts = withCounters(step);
    });
    await acc.data();
    const backend = tf.getBackend();
    const real = prof.kernels.filter((x) => tf.getKernel(x.name, backend));
    const programs = stepCounts.gpu?.programs ?? null;
    const target = programs === null ? null : variant === 'qaft' ? Math.round(LM_PROGRAM_TARGET * 1.1) : LM_PROGRAM_TARGET;
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < plan.timed; i++) {
      step();
      counts.push(tf.memory().numTensors);
    }
    const lossSum = (await acc.data())[0];
    const ms = plan.timed > 0 ? (performance.now() - t0) / plan.timed : null;
    const after = tf.memory().numTensors;
    return {
      backend,
      adapter: ctx.adapter,
      variant,
      quant: q ? q.labels : {},
      batch: plan.batch,
      context: l.context,
      vocab,
      params: gptParamCount(m),
      warmup_steps: 1 + plan.warmup,
      timed_steps: plan.timed,
      tokens_per_s: ms === null ? null : Math.round((plan.batch * l.context * 1000) / ms),
      ms_per_step: ms === null ? null : Number(ms.toFixed(1)),
      kernels_per_step: real.length,
      gpu_programs_per_step: programs,
      gpu_uploads_per_step: stepCounts.gpu?.uploads ?? null,
      gpu_programs_target: target,
      meets_target: programs === null || target === null ? null : programs <= target,
      kernel_histogram: kernelHistogram(real),
      gpu_program_histogram: stepCounts.gpu ? sortedCounts(stepCounts.gpu.byProgram) : null,
      leaked_tensors_per_step: plan.timed > 0 ? (after - before) / plan.timed : null,
      tensors_after_step: counts,
      peak_step_bytes: prof.peakBytes,
      final_loss_mean: Number((lossSum / k).toFixed(4)),
      loadavg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
  } finally {
    acc.dispose();
    opt.dispose();
    disposeGpt(m);
  }
}
