/**
 * What a run is (RunRecord), how it is named, and plans: the lists of (config, methods)
 * that "Run comparison", a learning-rate × bit-width sweep and "PTQ vs QAFT" expand to.
 */
import type { ExperimentConfig } from './config';
import type { Method } from './methods';
import type { CurvePoint, Divergence } from './loop';
import type { Throughput } from './progress';

/** What a lab reports while it runs: a run starts, a curve point, progress of other work, a finished run, a notice. */
export type LabEvent =
  /** `throughput`: what one optimizer step processes (samples or tokens), for the runs that train. */
  | { type: 'runStart'; runId: string; name: string; method: Method; total: number; throughput?: Throughput }
  | { type: 'point'; runId: string; point: CurvePoint; total: number }
  /** Progress of work that is not training (GPTQ layers). */
  | { type: 'stage'; runId: string; done: number; total: number; label: string }
  | { type: 'result'; run: RunRecord }
  | { type: 'notice'; message: string };

/** A task's metric, e.g. { name: 'test MSE', unit: '' } or { name: 'val NLL', unit: 'nats/token' }. */
export interface RunMetric {
  name: string;
  unit: string;
}

export type RunStatus = 'done' | 'diverged' | 'stopped';

export interface RunRecord {
  id: string;
  name: string;
  method: Method;
  /** Weight bits of the evaluated model (32 for FP). */
  bits: number;
  /** Learning rate (null for RTN and GPTQ, which do not train). */
  lr: number | null;
  /** Planned optimizer steps; 0 for RTN and GPTQ. */
  steps: number;
  stepsDone: number;
  /** The final loss in the task's metric (`metric`): MSE on the test set (poly), validation NLL in nats/token (lm). */
  loss: number | null;
  /** The task's metric: what `loss` and the curves' test points measure. */
  metric: RunMetric;
  curve: CurvePoint[];
  /** Model outputs (6 × 200) on the first test examples. */
  predictions: number[][] | null;
  wallMs: number;
  status: RunStatus;
  diverged: Divergence | null;
  backend: string;
  createdAt: number;
  /** The whole config the run came from: a run can be reopened exactly. */
  config: ExperimentConfig;
  /** The quantizer of each linear layer, e.g. "ternary absmean", "int4 asym g64", "FP32". */
  layerQuant?: string[];
  /** Weight storage of the evaluated model in bits (codes + scales + zero points + FP32 biases). */
  storageBits?: number;
  /** Training examples seen after FP pretraining (GPTQ calibration / QAFT data); null = n/a. */
  examples?: number | null;
  /**
   * Local error per linear layer: mean over calibration examples of ‖x·(Wq − W)‖², with x the
   * layer's input on this model's own (quantized) path and W the FP weights. null for FP.
   */
  layerErrors?: number[] | null;
  /** Notes such as a GPTQ layer that fell back to RTN. */
  notes?: string[];
  /** LM: text this run's model generated from lm.prompt with lm.sampleSeed (the prompt included). */
  sample?: string | null;
  /** Further named figures, e.g. QA-LoRA's NLL before merging, or data-free's generated tokens. */
  extra?: { label: string; value: number }[];
  /** LM: names of the linear layers that `layerErrors` (and layerQuant) refer to, e.g. "h0.attn.qkv". */
  layerNames?: string[];
  /**
   * LM: per linear (layerNames order), the FP weights' excess kurtosis and max|w|/σ as stored and
   * as the quantizer sees them under rot=hadamard (folded and/or online-rotated; lm/rotate.ts).
   */
  layerTails?: { before: TailStats; after: TailStats }[];
}

/** Tails of a set of weights: excess kurtosis and the largest |w| in standard deviations (core/rotation.ts tailStats). */
export interface TailStats {
  kurtosis: number;
  maxOverStd: number;
}

/**
 * The last word on a finished run, whatever its method: a run whose final test loss (test MSE,
 * validation NLL) is NaN or infinite has no usable model, so it ends 'diverged' (with a
 * divergence at its last step and a note), never 'done' or 'stopped'. Training already flags a
 * loss that goes bad on the way; this catches the rest (FP checkpoints, RTN, GPTQ, an evaluation
 * that overflows). Returns the run, changed in place.
 */
export function finishRun(r: RunRecord): RunRecord {
  if (r.status === 'diverged' || r.loss === null || Number.isFinite(r.loss)) return r;
  r.status = 'diverged';
  r.diverged ??= { step: r.stepsDone, lr: r.lr ?? 0, reason: 'non-finite' };
  r.notes = [
    ...(r.notes ?? []),
    `The final ${r.metric.name} is ${Number.isNaN(r.loss) ? 'NaN' : r.loss > 0 ? 'Infinity' : '-Infinity'}: the run counts as diverged.`,
  ];
  return r;
}

/**
 * `emit` with every run it reports passed through `finishRun` first: each lab wraps its emitter
 * once, so every method's result is checked in this one place.
 */
export function finishingRuns<E extends { type: string }>(emit: (e: E) => void): (e: E) => void {
  return (e) => {
    if (e.type === 'result') finishRun((e as E & { run: RunRecord }).run);
    emit(e);
  };
}
