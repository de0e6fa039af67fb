/**
 * What a run is (RunRecord), how it is named, and plans: the lists of (config, methods)
 * that "Run comparison", a learning-rate × bit-width sweep and "PTQ vs QAFT" expand to.
 */
import { cloneConfig, formatBits, formatLr, isFullPrecision, type Bits, type ExperimentConfig } from './config';
import { comparisonOf, methodDef, methodLabel, type Method } from './methods';
import type { CurvePoint, Divergence } from './loop';

/** What a lab reports while it runs: a run starts, a curve point, progress of other work, a finished run, a notice. */
export type LabEvent =
  | { type: 'runStart'; runId: string; name: string; method: Method; total: number }
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

/** "8→4→2b" for a bit schedule (the run ends at its last bits), '' without one. */
function sched(c: ExperimentConfig, method: Method): string {
  const s = c.quant.bitSchedule;
  return methodDef(method).schedule && s.length ? `${s.map((e) => e.bits).join('→')}b` : '';
}
const delay = (c: ExperimentConfig) => (c.quant.delay > 0 ? ` delay ${c.quant.delay}` : '');

/** The quantized components of an LM config and their bits: "3b" when they agree, else "attn 3b mlp 4b …". */
export function lmBitsLabel(c: ExperimentConfig): string {
  const l = c.lm;
  const parts = (
    [
      ['embed', l.embedBits],
      ['attn', l.attnBits],
      ['mlp', l.mlpBits],
      ['head', l.headBits],
    ] as const
  ).filter(([, b]) => !isFullPrecision(b));
  if (parts.length === 0) return 'FP32';
  const bits = new Set(parts.map(([, b]) => b));
  return bits.size === 1 ? formatBits(parts[0][1]) : parts.map(([k, b]) => `${k} ${formatBits(b)}`).join(' ');
}

function lmRunName(method: Method, c: ExperimentConfig): string {
  const b = lmBitsLabel(c) + (c.quant.scheme === 'auto' ? '' : ` ${c.quant.scheme}`);
  const lr = formatLr(c.lmQaft.lr);
  const n = c.data.budget > 0 ? ` n${c.data.budget}` : '';
  switch (method) {
    case 'fp':
      return c.lm.source === 'hf' ? 'FP checkpoint' : `FP GPT lr ${formatLr(c.lmFp.lr)}`;
    case 'rtn':
      return `RTN ${b}`;
    case 'gptq':
      return `GPTQ ${b}${n}`;
    case 'qaft':
      return `QAFT ${b} lr ${lr}${n}`;
    case 'gptq-qaft':
      return `GPTQ→QAFT ${b} lr ${lr}${n}`;
    case 'scratch':
      return `Scratch ${b} lr ${lr}${n}`;
    case 'qalora':
      return `QA-LoRA ${b} r${c.lm.loraRank} lr ${lr}${n}`;
    case 'datafree':
      return `Data-free QAFT ${b} ${c.lm.dfLoss.toUpperCase()} lr ${lr}`;
    case 'tiled':
      return `Tiled QAT ${b} k${c.lm.tileK}${n}`;
    case 'lsq':
      return `LSQ ${b} lr ${lr}${n}`;
    case 'scaleonly':
      return `Scale-only ${b} lr ${lr}${n}`;
    default:
      return `${methodLabel(method)} ${b}`;
  }
}

export function runName(method: Method, c: ExperimentConfig): string {
  if (c.task === 'lm') return lmRunName(method, c);
  const b = formatBits(c.quant.bits);
  const scheme = (c.quant.scheme === 'auto' ? '' : ` ${c.quant.scheme}`) + (c.quant.overrides.length ? ' mixed' : '');
  switch (method) {
    case 'fp':
      return `FP lr ${formatLr(c.fp.lr)}`;
    case 'rtn':
      return `RTN ${b}${scheme}`;
    case 'gptq':
      return `GPTQ ${b}${scheme}`;
    case 'qaft':
      return `QAFT ${sched(c, method) || b}${scheme} lr ${formatLr(c.qaft.lr)}${delay(c)}`;
    case 'scratch':
      return `Scratch ${sched(c, method) || b}${scheme} lr ${formatLr(c.qaft.lr)}${delay(c)}`;
    case 'gptq-qaft':
      return `GPTQ→QAFT ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    case 'lsq':
      return `LSQ ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    case 'scaleonly':
      return `Scale-only ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    default:
      return `${methodLabel(method)} ${b}${scheme}`;
  }
}

/** What "PTQ vs QAFT" runs at each bit-width: the PTQ methods, and the trained ones that start from the FP model or from GPTQ. */
export const PTQ_PLAN_METHODS: readonly Method[] = ['rtn', 'gptq', 'qaft', 'gptq-qaft'];

export const PLANS = ['methods', 'sweep', 'ptq'] as const;
export type Plan = (typeof PLANS)[number];

export interface PlanItem {
  config: ExperimentConfig;
  methods: Method[];
}

function withBits(c: ExperimentConfig, bits: Bits, lr?: number): ExperimentConfig {
  const out = cloneConfig(c);
  out.quant.bits = bits;
  if (lr !== undefined) out.qaft.lr = lr;
  return out;
}

/**
 * - methods: the given methods on the config as it is.
 * - sweep: for each bit-width in `sweep.bits`, RTN once and QAFT at every learning rate in `sweep.lrs`.
 * - ptq: for each bit-width in `sweep.bits`, RTN, GPTQ, QAFT and GPTQ-initialized QAFT under the same data budget.
 * The FP model is shared by all items (it depends on neither bits nor the QAFT learning rate).
 */
export function planItems(c: ExperimentConfig, plan: Plan, methods: readonly Method[] = comparisonOf(c.task)): PlanItem[] {
  if (plan === 'methods') return [{ config: cloneConfig(c), methods: [...methods] }];
  if (plan === 'ptq') return c.sweep.bits.map((b) => ({ config: withBits(c, b), methods: [...PTQ_PLAN_METHODS] }));
  return c.sweep.bits.flatMap((b) =>
    c.sweep.lrs.map((lr, k) => ({ config: withBits(c, b, lr), methods: k === 0 ? (['rtn', 'qaft'] as Method[]) : (['qaft'] as Method[]) })),
  );
}
