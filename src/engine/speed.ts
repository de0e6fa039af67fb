/**
 * The speed page's measurements on the active tfjs backend (run in a Web Worker): matmul GFLOP/s
 * at a few sizes, the benchmark's toy MLP training samples/s (FP, 1.58-bit, MXFP4, NVFP4;
 * poly/bench.ts) and the default GPT's training tokens/s (FP, int3 QAFT, MXFP4 QAFT; lm/bench.ts),
 * each step measured as the Node benchmark measures it (core/measure.ts: GPU programs per step
 * included).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BackendName } from './core/backend';
import { measureSteps, type StepMeasure, type StepPlan, type StepRun } from './core/measure';
import { unitsPerSecond } from './core/progress';
import { FORMAT_INFO } from './core/quantizers/formats';
import { lmVariantLabel, makeLmRun, type LmVariant } from './lm/bench';
import { BENCH_MODEL, disposeBenchData, makeRun, type BenchBits } from './poly/bench';

/** The toy MLP's measured points: FP, 1.58-bit ternary and two 4-bit formats, each on every layer. */
export const SPEED_TOY_BITS: readonly BenchBits[] = ['fp', 1.58, 'mxfp4', 'nvfp4'];
/** The GPT's measured variants: FP, int3 QAFT (the lab's default) and MXFP4 QAFT on attention and MLP. */
export const SPEED_GPT_VARIANTS: readonly LmVariant[] = ['fp', 'qaft', 'mxfp4'];

/** A short name for a toy point: FP, 1.58-bit, or the format's (MXFP4, NVFP4). */
export function toyBitsLabel(bits: BenchBits): string {
  return bits === 'fp' ? 'FP' : bits === 1.58 ? '1.58-bit' : FORMAT_INFO[bits].label;
}

export { lmVariantLabel };

export type SpeedMode = 'quick' | 'full';

export interface MatmulPoint {
  /** n × n times n × n, float32. */
  n: number;
  reps: number;
  ms: number;
  gflops: number;
}

/** One measured training workload. */
export interface StepPoint {
  batch: number;
  warmup_steps: number;
  timed_steps: number;
  /** Samples/s (toy) or tokens/s (GPT) over the timed steps. */
  per_s: number | null;
  ms_per_step: number | null;
  kernels_per_step: number;
  /** WebGPU programs dispatched in the counted step (null on other backends). */
  gpu_programs_per_step: number | null;
  counted_step: 'first' | 'steady';
  leaked_tensors_per_step: number | null;
}

export interface ToyPoint extends StepPoint {
  bits: BenchBits;
}

export interface GptPoint extends StepPoint {
  variant: LmVariant;
  params: number;
  quant: Record<string, string>;
}

export interface SpeedResult {
  matmul: MatmulPoint[];
  toy: ToyPoint[];
  gpt: GptPoint[];
}

/** What the suite runs: sizes, batches and step counts. */
export interface SpeedPlan {
  matmulSizes: number[];
  /** Milliseconds of matmuls to time per size (after one warm-up product). */
  matmulMs: number;
  toyBatches: number[];
  toyPlan: StepPlan;
  gptBatch: number;
  gptPlan: StepPlan;
}

/**
 * The plan for a backend: `slow` backends (plain-JS cpu, WebGL, a WebGPU adapter that emulates a
 * GPU on the CPU) get small sizes and batches and single timed steps; quick mode shortens the rest.
 */
export function speedPlan(mode: SpeedMode, slow: boolean): SpeedPlan {
  if (slow)
    return {
      matmulSizes: mode === 'quick' ? [64, 128, 256] : [128, 256, 512],
      matmulMs: mode === 'quick' ? 150 : 600,
      toyBatches: [64],
      toyPlan: mode === 'quick' ? { warmup: 0, timed: 1 } : { warmup: 1, timed: 2 },
      gptBatch: 1,
      gptPlan: mode === 'quick' ? { warmup: 0, timed: 1 } : { warmup: 1, timed: 2 },
    };
  return {
    matmulSizes: mode === 'quick' ? [128, 256, 512] : [256, 512, 1024, 2048],
    matmulMs: mode === 'quick' ? 300 : 1500,
    toyBatches: mode === 'quick' ? [256] : [256, 1024, 4096],
    toyPlan: mode === 'quick' ? { warmup: 1, timed: 3 } : { warmup: 2, timed: 10 },
    gptBatch: mode === 'quick' ? 4 : 16,
    gptPlan: mode === 'quick' ? { warmup: 1, timed: 2 } : { warmup: 1, timed: 5 },
  };
}

/** GFLOP/s of an n×n by n×n float32 product: one warm-up, then products enqueued back to back for about `targetMs`. */
export async function matmulGflops(n: number, targetMs: number): Promise<MatmulPoint> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  try {
    const once = async (reps: number) => {
      const t0 = performance.now();
      let last: tf.Tensor | null = null;
      for (let i = 0; i < reps; i++) {
        last?.dispose();
        last = tf.matMul(a, b);
      }
      await last!.data();
      last!.dispose();
      return performance.now() - t0;
    };
    const first = await once(1); // warm-up (shader compile, first upload)
    const probe = await once(1);
    const reps = Math.max(1, Math.min(200, Math.round(targetMs / Math.max(probe, first / 10, 0.05))));
    const ms = await once(reps);
    return { n, reps, ms: Number(ms.toFixed(2)), gflops: Number(((2 * n ** 3 * reps) / (ms * 1e6)).toPrecision(4)) };
  } finally {
    a.dispose();
    b.dispose();
  }
}

function point(m: StepMeasure, batch: number, perStep: number, unit: 'samples' | 'tokens', plan: StepPlan): StepPoint {
  return {
    batch,
    warmup_steps: plan.warmup + 1,
    timed_steps: plan.timed,
    per_s: m.stepsPerSec === null ? null : Math.round(unitsPerSecond(m.stepsPerSec, { unit, perStep })),
    ms_per_step: m.msPerStep === null ? null : Number(m.msPerStep.toFixed(2)),
    kernels_per_step: m.kernels,
    gpu_programs_per_step: m.counts.gpu ? m.counts.gpu.programs : null,
    counted_step: m.countedStep,
    leaked_tensors_per_step: m.leakedPerStep,
  };
}

async function measured<R extends StepRun, T>(run: R, plan: StepPlan, f: (m: StepMeasure, run: R) => T): Promise<T> {
  try {
    return f(await measureSteps(run, plan), run);
  } finally {
    run.dispose();
  }
}

/**
 * Run the suite on the active backend. `tokens` is the GPT's token stream (lm/bench.ts benchTokens);
 * `progress` is told what runs next. Each workload runs on a fresh model; nothing stays allocated.
 */
export async function runSpeedSuite(
  plan: SpeedPlan,
  tokens: { ids: Int32Array; vocab: number },
  progress: (label: string) => void = () => {},
): Promise<SpeedResult> {
  const out: SpeedResult = { matmul: [], toy: [], gpt: [] };
  for (const n of plan.matmulSizes) {
    progress(`matmul ${n}×${n}`);
    out.matmul.push(await matmulGflops(n, plan.matmulMs));
  }
  const total = (p: StepPlan) => p.warmup + 1 + p.timed;
  try {
    for (const bits of SPEED_TOY_BITS) {
      for (const batch of plan.toyBatches) {
        progress(`MLP ${BENCH_MODEL.width}×${BENCH_MODEL.depth} ${toyBitsLabel(bits)} batch ${batch}`);
        out.toy.push(
          await measured(makeRun(bits, batch, total(plan.toyPlan)), plan.toyPlan, (m) => ({ bits, ...point(m, batch, batch, 'samples', plan.toyPlan) })),
        );
      }
    }
  } finally {
    disposeBenchData();
  }
  for (const variant of SPEED_GPT_VARIANTS) {
    progress(`GPT ${lmVariantLabel(variant)} batch ${plan.gptBatch}`);
    const run = makeLmRun(variant, plan.gptBatch, total(plan.gptPlan), tokens.ids, tokens.vocab);
    out.gpt.push(
      await measured(run, plan.gptPlan, (m, r) => ({
        variant,
        params: r.params,
        quant: r.quant,
        ...point(m, plan.gptBatch, r.tokensPerStep, 'tokens', plan.gptPlan),
      })),
    );
  }
  return out;
}

/** The speed worker's protocol: one run per worker (a fresh worker per backend and thread setting). */
export interface SpeedRequest {
  type: 'run';
  backend: BackendName;
  /** wasm: the threaded build ('auto', when the page is cross-origin isolated) or one thread ('off'). */
  wasmThreads: 'auto' | 'off';
  mode: SpeedMode;
}

export type SpeedResponse =
  | { type: 'ready'; info: BackendInfo }
  | { type: 'progress'; label: string }
  | { type: 'result'; info: BackendInfo; plan: SpeedPlan; slow: boolean; corpus: 'corpus' | 'synthetic'; result: SpeedResult }
  | { type: 'error'; message: string; info?: BackendInfo };

/** Slow backends get the small plan: plain-JS cpu, and WebGPU/WebGL when the only GPU is a CPU emulation. */
export function isSlowBackend(info: BackendInfo): boolean {
  return info.name === 'cpu' || ((info.name === 'webgpu' || info.name === 'webgl') && info.adapterIsSoftware);
}
