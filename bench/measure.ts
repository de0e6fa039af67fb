/**
 * Measures one (backend, bits, batch) point: `warmup` steps, one counted step (tf.profile:
 * kernels, GPU programs and uploads, peak bytes; it also warms up), then `timed` steps
 * enqueued back to back with a single readback at the end.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { makeRun, type BenchBits } from './step';

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
}

export interface StepPlan {
  /** Warm-up steps before the counted step. */
  warmup: number;
  /** Timed steps; 0 = counts only. */
  timed: number;
}

interface WebGpuLike {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  uploadToGPU: (dataId: object) => unknown;
  tensorMap: { get(id: object): { resource?: unknown; values?: unknown } | undefined };
}

function backendBytes(): number | null {
  const mem = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
  if (typeof mem.numBytesAllocatedInGPU === 'number') return mem.numBytesAllocatedInGPU;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8 ? b.wasm.HEAPU8.length : null;
}

export interface StepCounts {
  /** WebGPU only: program dispatches and host→GPU data uploads, and the dispatches by program (shaderKey up to its first '_'). */
  gpu: { programs: number; uploads: number; byProgram: Record<string, number> } | null;
  /** BatchMatMul / _FusedMatMul calls with transposeA or transposeB set. */
  transposedMatMuls: number;
}

/**
 * Run `f` with counters attached (instance- and registry-level wraps, removed afterwards):
 * WebGPU programs and real uploads (a tensor with CPU values and no GPU buffer yet), and
 * matmul kernels called with a transposed operand.
 */
export function withCounters(f: () => void): StepCounts {
  const counts: StepCounts = { gpu: null, transposedMatMuls: 0 };
  const restore: (() => void)[] = [];
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const k = tf.getKernel(name, tf.getBackend()) as unknown as { kernelFunc: (a: { attrs?: Record<string, unknown> }) => unknown } | undefined;
    if (!k) continue;
    const orig = k.kernelFunc;
    k.kernelFunc = (a) => {
      if (a.attrs?.transposeA || a.attrs?.transposeB) counts.transposedMatMuls += 1;
      return orig(a);
    };
    restore.push(() => (k.kernelFunc = orig));
  }
  if (tf.getBackend() === 'webgpu') {
    const b = tf.backend() as unknown as WebGpuLike;
    const gpu = (counts.gpu = { programs: 0, uploads: 0, byProgram: {} as Record<string, number> });
    const run = b.runWebGPUProgram;
    const up = b.uploadToGPU;
    b.runWebGPUProgram = function (this: unknown, ...a: unknown[]) {
      gpu.programs += 1;
      const key = String((a[0] as { shaderKey?: string }).shaderKey ?? '?').split('_')[0];
      gpu.byProgram[key] = (gpu.byProgram[key] ?? 0) + 1;
      return run.apply(this, a);
    };
    b.uploadToGPU = function (this: WebGpuLike, dataId: object) {
      const d = this.tensorMap.get(dataId);
      if (d && d.resource == null && d.values != null) gpu.uploads += 1;
      return up.call(this, dataId);
    };
    // Deleting the instance properties brings back the prototype methods.
    restore.push(() => {
      delete (b as Partial<WebGpuLike>).runWebGPUProgram;
      delete (b as Partial<WebGpuLike>).uploadToGPU;
    });
  }
  try {
    f();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}

/** Kernels by name, most frequent first. */
export function kernelHistogram(kernels: { name: string }[]): Record<string, number> {
  const hist: Record<string, number> = {};
  for (const k of kernels) hist[k.name] = (hist[k.name] ?? 0) + 1;
  return sortedCounts(hist);
}

/** Counts sorted most frequent first (ties by name). */
export function sortedCounts(hist: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(hist).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export async function measure(bits: BenchBits, batch: number, plan: StepPlan, ctx: { adapter: string | null; fused: boolean }): Promise<BenchResult> {
  const total = 1 + plan.warmup + plan.timed;
  const run = makeRun(bits, batch, total);
  try {
    for (let i = 0; i < plan.warmup; i++) run.step();
    if (plan.warmup > 0) await run.sync();
    // The counted step (with warmup 0 it is the first step: first-use uploads of the parameters
    // and optimizer state, and pipeline compiles, land in it). It also warms up the timed steps.
    let counts: StepCounts = { gpu: null, transposedMatMuls: 0 };
    const prof = await tf.profile(() => {
      counts = withCounters(() => run.step());
    });
    let loss = await run.sync();
    const backend = tf.getBackend();
    const real = prof.kernels.filter((k) => tf.getKernel(k.name, backend));
    const sorted = kernelHistogram(real);

    const before = tf.memory().numTensors;
    const t0 = performance.now();
    for (let i = 0; i < plan.timed; i++) run.step();
    if (plan.timed > 0) loss = await run.sync();
    const ms = plan.timed > 0 ? (performance.now() - t0) / plan.timed : null;
    const after = tf.memory().numTensors;
    return {
      backend,
      adapter: ctx.adapter,
      bits,
      batch,
      fused: ctx.fused,
      warmup_steps: 1 + plan.warmup,
      timed_steps: plan.timed,
      counted_step: plan.warmup > 0 ? 'steady' : 'first',
      samples_per_s: ms === null ? null : Math.round((batch * 1000) / ms),
      ms_per_step: ms === null ? null : Number(ms.toFixed(2)),
      kernels_per_step: real.length,
      gpu_programs_per_step: counts.gpu ? counts.gpu.programs : null,
      gpu_uploads_per_step: counts.gpu ? counts.gpu.uploads : null,
      transposed_matmuls_per_step: counts.transposedMatMuls,
      leaked_tensors_per_step: plan.timed > 0 ? (after - before) / plan.timed : null,
      peak_step_bytes: prof.peakBytes,
      live_bytes: tf.memory().numBytes,
      backend_bytes: backendBytes(),
      kernel_histogram: sorted,
      final_loss_sum: loss,
      loadavg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
  } finally {
    run.dispose();
  }
}
