/**
 * Measures one (backend, bits, batch) point of the MLP with the engine's measurement
 * (src/engine/core/measure.ts: warm-up, one profiled step, timed steps, one readback).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { measureSteps, type StepPlan } from '../src/engine/core/measure';
import { unitsPerSecond } from '../src/engine/core/progress';
import { makeRun, type BenchBits } from '../src/engine/poly/bench';

export type { StepPlan };

export interface BenchResult {
  backend: string;
  adapter: string | null;
  bits: BenchBits;
  batch: number;
  /** Fused custom kernels enabled (src/engine/kernels). */
  fused: boolean;
  /** Untimed steps, the counted step included. */
  warmup_steps: number;
  timed_steps: number;
  /** Which step the counts come from: 'first' includes first-use uploads (parameters, optimizer state). */
  counted_step: 'first' | 'steady';
  /** null when no step was timed (counts only). */
  samples_per_s: number | null;
  ms_per_step: number | null;
  /** Registered kernels the engine ran in one step (tf.profile; customGrad wrappers not counted). */
  kernels_per_step: number;
  /** WebGPU only: programs dispatched (runWebGPUProgram calls) and CPU→GPU uploads in one step. */
  gpu_programs_per_step: number | null;
  gpu_uploads_per_step: number | null;
  /** Matmul kernels called with a transposed operand in one step (the slow path on wasm; expect 0). */
  transposed_matmuls_per_step: number;
  /** Tensors alive after the timed steps minus before, per step (must be 0). */
  leaked_tensors_per_step: number | null;
  /** Peak bytes of live tensors during one step (tf.profile), and live bytes between steps. */
  peak_step_bytes: number;
  live_bytes: number;
  /** Backend-level memory: GPU bytes allocated by the buffer pool (webgpu) or the wasm heap size. */
  backend_bytes: number | null;
  /** Kernels by name in the profiled step, most frequent first. */
  kernel_histogram: Record<string, number>;
  final_loss_sum: number;
  /** 1-minute load average when the point finished (other processes share the cores). */
  loadavg_1m: number;
  /**
   * A quantized point's median ms/step and FP's in interleaved rounds (pairedSteps: the two in
   * turn, so a drift in the machine's speed hits both alike); absent when not measured. When
   * present, ratio_to_fp is the ratio of these two.
   */
  interleaved_ms_per_step?: number;
  interleaved_fp_ms_per_step?: number;
}

function backendBytes(): number | null {
  const mem = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
  if (typeof mem.numBytesAllocatedInGPU === 'number') return mem.numBytesAllocatedInGPU;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8 ? b.wasm.HEAPU8.length : null;
}

export async function measure(bits: BenchBits, batch: number, plan: StepPlan, ctx: { adapter: string | null; fused: boolean }): Promise<BenchResult> {
  const run = makeRun(bits, batch, 1 + plan.warmup + plan.timed);
  try {
    const m = await measureSteps(run, plan);
    return {
      backend: tf.getBackend(),
      adapter: ctx.adapter,
      bits,
      batch,
      fused: ctx.fused,
      warmup_steps: 1 + plan.warmup,
      timed_steps: plan.timed,
      counted_step: m.countedStep,
      samples_per_s: m.stepsPerSec === null ? null : Math.round(unitsPerSecond(m.stepsPerSec, { unit: 'samples', perStep: batch })),
      ms_per_step: m.msPerStep === null ? null : Number(m.msPerStep.toFixed(2)),
      kernels_per_step: m.kernels,
      gpu_programs_per_step: m.counts.gpu ? m.counts.gpu.programs : null,
      gpu_uploads_per_step: m.counts.gpu ? m.counts.gpu.uploads : null,
      transposed_matmuls_per_step: m.counts.transposedMatMuls,
      leaked_tensors_per_step: m.leakedPerStep,
      peak_step_bytes: m.peakBytes,
      live_bytes: tf.memory().numBytes,
      backend_bytes: backendBytes(),
      kernel_histogram: m.histogram,
      final_loss_sum: m.loss,
      loadavg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
  } finally {
    run.dispose();
  }
}

/**
 * The step time of a quantized variant and of FP at one batch, measured in turn: both runs warm
 * up, then `rounds` times each does `steps` steps (ended by a readback); the medians of their
 * rounds' ms per step, [FP, variant]. On a shared machine whose speed drifts by 10–20 % over a
 * minute, ratios of these medians repeat; ratios of points timed one after another do not. (Two
 * models alive at a time: more would compete for the caches and slow each other.)
 */
export async function pairedSteps(bits: BenchBits, batch: number, rounds: number, steps: number): Promise<[number, number]> {
  const runs = (['fp', bits] as BenchBits[]).map((b) => makeRun(b, batch, 2 + rounds * steps));
  try {
    for (const r of runs) {
      r.step();
      r.step();
      await r.sync();
    }
    const times: number[][] = [[], []];
    for (let k = 0; k < rounds; k++)
      for (const [i, r] of runs.entries()) {
        const t0 = performance.now();
        for (let s = 0; s < steps; s++) r.step();
        await r.sync();
        times[i].push((performance.now() - t0) / steps);
      }
    const [fp, q] = times.map((t) => {
      const sorted = [...t].sort((a, b) => a - b);
      const m = sorted.length >> 1;
      return Number((sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2).toFixed(2));
    });
    return [fp, q];
  } finally {
    for (const r of runs) r.dispose();
  }
}

/** The bar: a quantized step within this factor of the FP step (same backend and batch). */
export const QUANT_STEP_BAR = 1.25;

/** What the ratio to FP reads of a result (the MLP's points and the GPT's variants). */
interface Timed {
  backend: string;
  batch: number;
  ms_per_step: number | null;
  interleaved_ms_per_step?: number;
  interleaved_fp_ms_per_step?: number;
}

/**
 * Each quantized result's step time over the FP result's of the same backend and batch (and for
 * which `same` holds), and whether it meets the bar; null for FP results and where no FP result or
 * no timing is there.
 */
export function withFpRatio<T extends Timed>(
  results: T[],
  isFp: (r: T) => boolean,
  same: (a: T, b: T) => boolean = () => true,
): (T & { ratio_to_fp: number | null; within_1_25x: boolean | null })[] {
  return results.map((r) => {
    const fp = results.find((f) => isFp(f) && f.backend === r.backend && f.batch === r.batch && same(f, r));
    // The interleaved medians when measured (pairedSteps), else the two points' own step times.
    const [a, b] =
      r.interleaved_ms_per_step && r.interleaved_fp_ms_per_step ? [r.interleaved_ms_per_step, r.interleaved_fp_ms_per_step] : [r.ms_per_step, fp?.ms_per_step];
    const ratio = !isFp(r) && a && b ? Number((a / b).toFixed(3)) : null;
    return { ...r, ratio_to_fp: ratio, within_1_25x: ratio === null ? null : ratio <= QUANT_STEP_BAR };
  });
}
