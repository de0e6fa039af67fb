/** One backend's share of the benchmark, run in its own process (see bench.ts). */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/cli/node-env';
import { setFusedKernels } from '../src/engine/core/kernels';
import { lmPlan, measureLm, type LmBenchResult, type LmVariant } from './lm';
import { pairedSteps, measure, type BenchResult, type StepPlan } from './measure';
import { disposeBenchData, type BenchBits } from '../src/engine/poly/bench';
import type { FormatScheme } from '../src/engine/core/quantizers/formats';

export interface ChildOptions {
  backend: 'wasm' | 'cpu' | 'webgpu';
  batches?: number[];
  bits?: BenchBits[];
  /** Timed steps for every point (overrides the plan). */
  steps?: number;
  quick: boolean;
  fused: boolean;
  /** The default GPT's training throughput too ('on', the default), not at all, or only it. */
  lm?: 'on' | 'off' | 'only';
  /** GPT batch (overrides the per-backend plan). */
  lmBatch?: number;
  /** Rounds of the interleaved FP-vs-quantized timing (0: off; default 5 when FP and another variant run on wasm or cpu). */
  interleave?: number;
  /** Format schemes to run the GPT's QAFT with too (after FP and int3 QAFT), on attention and MLP. */
  lmFormats?: FormatScheme[];
}

/**
 * Default step counts per backend: `warmup` steps, one counted step (also a warm-up step),
 * `timed` steps. Enough timed steps for a stable mean, few enough that the default run stays
 * within minutes on 2 cores. cpu (plain JS) and webgpu on SwiftShader (a CPU emulation of a
 * GPU: ~1 s per 512×512×256 matmul) are slow, so they get batch 256 only and very few steps;
 * with --quick, webgpu is counts-only (from the first step).
 */
export function defaultPlan(backend: ChildOptions['backend'], batch: number, quick: boolean): StepPlan {
  const big = batch >= 4096 ? 2 : batch >= 1024 ? 1 : 0;
  if (backend === 'wasm') return quick ? { warmup: 1, timed: [4, 2, 1][big] } : { warmup: 1, timed: [16, 6, 3][big] };
  if (backend === 'webgpu') return quick ? { warmup: 0, timed: 0 } : { warmup: 1, timed: 2 };
  return quick ? { warmup: 0, timed: 1 } : { warmup: 0, timed: 2 };
}

export function defaultBatches(backend: ChildOptions['backend'], quick: boolean): number[] {
  if (backend === 'wasm') return quick ? [256, 1024] : [256, 1024, 4096];
  return [256];
}

function log(msg: string): void {
  process.stderr.write(`bench[${process.pid}]: ${msg}\n`);
}

export async function runChild(o: ChildOptions): Promise<{ backend: string; results: BenchResult[]; lm_results: LmBenchResult[]; notes: string[] }> {
  const notes: string[] = [];
  const info = await initNodeBackend(o.backend);
  if (info.name !== o.backend) throw new Error(`backend ${o.backend} unavailable (got ${info.name}): ${info.notes.join(' ')}`);
  setFusedKernels(o.fused);
  const adapter = o.backend === 'webgpu' ? info.adapter : null;
  if (o.backend === 'webgpu') {
    notes.push(`adapter: ${info.adapter}${info.adapterIsSoftware ? ' (CPU emulation: these figures are NOT GPU speed)' : ''}`);
  }
  if (o.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    notes.push(`wasm threads: ${wasm.getThreadsCount()} (tfjs disables wasm multithreading in Node), SIMD: ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}`);
  }
  const batches = o.batches ?? defaultBatches(o.backend, o.quick);
  if (!o.batches && o.backend !== 'wasm') notes.push(`batch 256 only by default (slow backend); pass --batches to measure more`);
  const bits = o.bits ?? (['fp', 1.58] as BenchBits[]);
  const results: BenchResult[] = [];
  for (const b of o.lm === 'only' ? [] : bits) {
    for (const batch of batches) {
      const plan = defaultPlan(o.backend, batch, o.quick);
      if (o.steps) plan.timed = o.steps;
      log(`${o.backend} bits=${b} batch=${batch}: ${plan.warmup} warm-up + 1 counted + ${plan.timed} timed steps…`);
      const r = await measure(b, batch, plan, { adapter, fused: o.fused });
      log(
        `${o.backend} bits=${b} batch=${batch}: ${r.samples_per_s ?? '-'} samples/s, ${r.ms_per_step ?? '-'} ms/step, ` +
          `${r.kernels_per_step} kernels${r.gpu_programs_per_step !== null ? `, ${r.gpu_programs_per_step} GPU programs, ${r.gpu_uploads_per_step} uploads` : ''}/step, leaked ${r.leaked_tensors_per_step ?? '-'}/step, transposed matmuls ${r.transposed_matmuls_per_step}`,
      );
      results.push(r);
    }
  }
  // Ratios to FP that survive a drifting machine: each quantized variant timed in turn with FP.
  if (o.backend !== 'webgpu' && o.lm !== 'only' && bits.includes('fp') && o.interleave !== 0) {
    const rounds = o.interleave ?? 5;
    for (const batch of batches) {
      const steps = Math.max(1, Math.round((o.steps ?? defaultPlan(o.backend, batch, o.quick).timed) / 4));
      for (const b of bits.filter((x) => x !== 'fp')) {
        const r = results.find((x) => x.bits === b && x.batch === batch);
        if (!r) continue;
        [r.interleaved_fp_ms_per_step, r.interleaved_ms_per_step] = await pairedSteps(b, batch, rounds, steps);
        log(
          `${o.backend} bits=${b} batch=${batch}: in turn with FP (${rounds} rounds of ${steps} steps), ${r.interleaved_ms_per_step} vs ${r.interleaved_fp_ms_per_step} ms/step`,
        );
      }
    }
  }
  disposeBenchData();
  const lmResults: LmBenchResult[] = [];
  if (o.lm !== 'off') {
    const plan = lmPlan(o.backend, o.quick);
    if (o.lmBatch) plan.batch = o.lmBatch;
    if (o.steps) plan.timed = o.steps;
    for (const variant of ['fp', 'qaft', ...(o.lmFormats ?? [])] as LmVariant[]) {
      log(`${o.backend} GPT ${variant} batch=${plan.batch}: ${plan.warmup} warm-up + 1 counted + ${plan.timed} timed steps…`);
      const r = await measureLm(variant, plan, { adapter });
      log(
        `${o.backend} GPT ${variant} batch=${plan.batch}: ${r.tokens_per_s ?? '-'} tokens/s, ${r.ms_per_step ?? '-'} ms/step, ${r.kernels_per_step} kernels${r.gpu_programs_per_step !== null ? `, ${r.gpu_programs_per_step} GPU programs${r.gpu_programs_target !== null ? ` (target ≤ ${r.gpu_programs_target})` : ''}` : ''}/step, leaked ${r.leaked_tensors_per_step ?? '-'}/step`,
      );
      lmResults.push(r);
    }
  }
  const left = tf.memory().numTensors;
  if (left !== 0) notes.push(`${left} tensors still alive after all runs`);
  return { backend: o.backend, results, lm_results: lmResults, notes };
}
