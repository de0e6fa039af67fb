/**
 * Measures a training step the same way wherever it runs (the Node benchmark, the speed page):
 * `warmup` steps, one counted step (tf.profile: registered kernels, WebGPU programs and uploads,
 * matmuls with a transposed operand, peak bytes; it also warms up), then `timed` steps enqueued
 * back to back with one readback at the end.
 */
import * as tf from '@tensorflow/tfjs';
import { stepsPerSecond } from './progress';

/** A prepared training run to measure. */
export interface StepRun {
  /** One training step (synchronous: work is enqueued; nothing is read back). */
  step(): void;
  /** Wait until every enqueued step has finished (one readback of the running loss sum). */
  sync(): Promise<number>;
  dispose(): void;
}

/**
 * A StepRun over a training step that adds its loss to a running sum on the device: `step(k, acc)`
 * runs step k and returns the new sum (the old one is disposed here); `free` releases the model and
 * optimizer.
 */
export function lossSumRun(step: (k: number, acc: tf.Scalar) => tf.Scalar, free: () => void): StepRun {
  let acc: tf.Scalar = tf.scalar(0);
  let k = 0;
  return {
    step() {
      const next = step(k, acc);
      acc.dispose();
      acc = next;
      k += 1;
    },
    async sync() {
      return (await acc.data())[0];
    },
    dispose() {
      acc.dispose();
      free();
    },
  };
}

export interface StepPlan {
  /** Warm-up steps before the counted step. */
  warmup: number;
  /** Timed steps; 0 = counts only. */
  timed: number;
}

export interface StepCounts {
  /** WebGPU only: program dispatches and host→GPU data uploads, and the dispatches by program (shaderKey up to its first '_'). */
  gpu: { programs: number; uploads: number; byProgram: Record<string, number> } | null;
  /** BatchMatMul / _FusedMatMul calls with transposeA or transposeB set. */
  transposedMatMuls: number;
}

export interface StepMeasure {
  /** Which step the counts come from: 'first' includes first-use uploads (parameters, optimizer state). */
  countedStep: 'first' | 'steady';
  /** Registered kernels the step ran (tf.profile; customGrad wrappers not counted). */
  kernels: number;
  /** Kernels by name, most frequent first. */
  histogram: Record<string, number>;
  counts: StepCounts;
  /** Peak bytes of live tensors during the counted step. */
  peakBytes: number;
  /** Steps run in all (warm-up, counted and timed). */
  steps: number;
  timedSteps: number;
  /** Over the timed steps; null when none was timed. */
  msPerStep: number | null;
  stepsPerSec: number | null;
  /** Tensor-count change over the timed steps, per step (must be 0). */
  leakedPerStep: number | null;
  /** Live tensors after each timed step (flat = no growth). */
  tensorsAfterStep: number[];
  /** The run's loss sum after the last step. */
  loss: number;
}

interface WebGpuLike {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  uploadToGPU: (dataId: object) => unknown;
  tensorMap: { get(id: object): { resource?: unknown; values?: unknown } | undefined };
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

/** Counts sorted most frequent first (ties by name). */
export function sortedCounts(hist: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(hist).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** Measure `run` by `plan` (see the file comment). The caller disposes the run. */
export async function measureSteps(run: StepRun, plan: StepPlan): Promise<StepMeasure> {
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
  const hist: Record<string, number> = {};
  for (const k of real) hist[k.name] = (hist[k.name] ?? 0) + 1;
  const histogram = sortedCounts(hist);

  const before = tf.memory().numTensors;
  const tensorsAfterStep: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < plan.timed; i++) {
    run.step();
    tensorsAfterStep.push(tf.memory().numTensors);
  }
  if (plan.timed > 0) loss = await run.sync();
  const ms = plan.timed > 0 ? performance.now() - t0 : 0;
  const after = tf.memory().numTensors;
  return {
    countedStep: plan.warmup > 0 ? 'steady' : 'first',
    kernels: real.length,
    histogram,
    counts,
    peakBytes: prof.peakBytes,
    steps: plan.warmup + 1 + plan.timed,
    timedSteps: plan.timed,
    msPerStep: plan.timed > 0 ? ms / plan.timed : null,
    stepsPerSec: stepsPerSecond(plan.timed, ms),
    leakedPerStep: plan.timed > 0 ? (after - before) / plan.timed : null,
    tensorsAfterStep,
    loss,
  };
}
