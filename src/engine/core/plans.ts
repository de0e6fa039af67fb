/**
 * Plans: the lists of (config, methods) that "Run comparison", a learning-rate × bit-width sweep,
 * "PTQ vs QAFT" and the format comparison expand to, each repeated over `repeats` seeds, and
 * running one on a task's lab.
 */
import { cloneConfig, formatBits, type Bits, type ExperimentConfig, type QuantConfig } from './config';
import type { RunControl } from './control';
import { comparisonOf, type Method } from './methods';
import type { LabEvent, RunRecord } from './runs';
import type { TaskLab } from './task';
import { formatInfo } from './quantizers/formats';
import { GROUP_SIZES } from './quantizers/spec';

/** What "PTQ vs QAFT" runs at each bit-width: the PTQ methods, and the trained ones that start from the FP model or from GPTQ. */
export const PTQ_PLAN_METHODS: readonly Method[] = ['rtn', 'gptq', 'qaft', 'gptq-qaft'];

export const PLANS = ['methods', 'sweep', 'ptq', 'formats'] as const;
export type Plan = (typeof PLANS)[number];

/** What the format comparison runs for each format: the PTQ baselines and QAFT from the FP weights. */
export const FORMAT_PLAN_METHODS: readonly Method[] = ['rtn', 'gptq', 'qaft'];

/** One quantizer of the format comparison: its weight bits and the quantizer settings. */
export interface PlanFormat {
  label: string;
  bits: Bits;
  quant: Pick<QuantConfig, 'scheme' | 'granularity' | 'groupSize'>;
}

/**
 * The formats people ship, compared by 'formats': int4 with a scale and zero point per group of
 * 128 inputs (GPTQ / AWQ checkpoints' usual layout), MXFP4, NVFP4, and FP8 E4M3 with a scale per
 * output channel. The block formats fix their own block (32, 16).
 */
export const PLAN_FORMATS: readonly PlanFormat[] = [
  { label: 'int4 g128', bits: 4, quant: { scheme: 'asym', granularity: 'group', groupSize: 128 } },
  { label: 'MXFP4', bits: 4, quant: { scheme: 'mxfp4', granularity: 'group', groupSize: 32 } },
  { label: 'NVFP4', bits: 4, quant: { scheme: 'nvfp4', granularity: 'group', groupSize: 16 } },
  { label: 'FP8 E4M3', bits: 8, quant: { scheme: 'fp8-e4m3', granularity: 'row', groupSize: 128 } },
];

export interface PlanItem {
  config: ExperimentConfig;
  methods: Method[];
  /** What sets this item apart in messages ("at 3b", "with MXFP4"). */
  label?: string;
}

/** How a task sets the bits of its quantized weights (tasks.ts: the MLP's quant.bits, the LM's quantized components). */
export type WithBits = (c: ExperimentConfig, bits: Bits) => ExperimentConfig;

/** The MLP's rule: quant.bits. */
export const withQuantBits: WithBits = (c, bits) => {
  const out = cloneConfig(c);
  out.quant.bits = bits;
  return out;
};

function withLr(c: ExperimentConfig, lr: number): ExperimentConfig {
  c.qaft.lr = lr;
  return c;
}

function withFormat(c: ExperimentConfig, f: PlanFormat, withBits: WithBits): ExperimentConfig {
  const out = withBits(c, f.bits);
  out.quant = { ...out.quant, ...f.quant, clip: 'none' };
  return out;
}

/** Whether settings can run (the task has no problem with them). */
export type Valid = (c: ExperimentConfig) => boolean;

/**
 * A formats-plan item whose integer grid has groups (int4 g128, as GPTQ / AWQ checkpoints store it)
 * on a model whose quantized layers cannot all take the group (the MLP's first layer has 14 inputs,
 * and the lab refuses a group that does not divide a layer's input): the largest smaller group size
 * they all take, else one scale per output channel, named in the item's label. Unchanged when the
 * group fits, or when nothing does (the settings' problems are then reported as they are).
 */
function fittedGroups(item: PlanItem, valid: Valid): PlanItem {
  const q = item.config.quant;
  if (q.granularity !== 'group' || formatInfo(q.scheme) || valid(item.config)) return item;
  const sizes = GROUP_SIZES.filter((g) => g < (q.groupSize ?? Infinity)).sort((a, b) => b - a);
  for (const fit of [...sizes.map((groupSize) => ({ granularity: 'group' as const, groupSize })), { granularity: 'row' as const, groupSize: q.groupSize }]) {
    const config = cloneConfig(item.config);
    config.quant = { ...config.quant, ...fit };
    if (valid(config)) {
      const now = fit.granularity === 'row' ? 'one scale per output channel' : `groups of ${fit.groupSize}`;
      return { ...item, config, label: `${item.label ?? ''} (${now}: groups of ${q.groupSize} do not fit every quantized layer's inputs)`.trim() };
    }
  }
  return item;
}

/**
 * - methods: the given methods on the config as it is.
 * - sweep: for each bit-width in `sweep.bits`, RTN once and QAFT at every learning rate in `sweep.lrs`.
 * - ptq: for each bit-width in `sweep.bits`, RTN, GPTQ, QAFT and GPTQ-initialized QAFT under the same data budget.
 * - formats: for each of PLAN_FORMATS, RTN, GPTQ and QAFT under the same data budget.
 * The FP model is shared by all items (it depends on neither bits, quantizer nor the QAFT learning rate).
 * `withBits` is the task's rule for its weight bits (tasks.ts taskPlanItems; the MLP's by default);
 * with `valid`, the task's settings check, the formats plan fits its grouped int entry to the model (fittedGroups).
 */
export function planItems(
  c: ExperimentConfig,
  plan: Plan,
  methods: readonly Method[] = comparisonOf(c.task),
  withBits: WithBits = withQuantBits,
  valid?: Valid,
): PlanItem[] {
  const once = (r: ExperimentConfig): PlanItem[] => {
    if (plan === 'methods') return [{ config: cloneConfig(r), methods: [...methods] }];
    if (plan === 'formats')
      return PLAN_FORMATS.map((f) => {
        const item = { config: withFormat(r, f, withBits), methods: [...FORMAT_PLAN_METHODS], label: `with ${f.label}` };
        return valid ? fittedGroups(item, valid) : item;
      });
    if (plan === 'ptq') return r.sweep.bits.map((b) => ({ config: withBits(r, b), methods: [...PTQ_PLAN_METHODS], label: `at ${formatBits(b)}` }));
    return r.sweep.bits.flatMap((b) =>
      r.sweep.lrs.map((lr, k) => ({
        config: withLr(withBits(r, b), lr),
        methods: k === 0 ? (['rtn', 'qaft'] as Method[]) : (['qaft'] as Method[]),
        label: `at ${formatBits(b)}`,
      })),
    );
  };
  // Repeats: the whole plan again for each seed, repeat after repeat.
  return Array.from({ length: c.repeats }, (_, k) => once(repeatConfig(c, k))).flat();
}

/**
 * Repeat `k` of a config: the seeds of the training data, the inits and the batch order moved
 * by k (the test set stays, so every repeat is scored on the same examples). The language
 * model's FP model stays (pretraining or a checkpoint is expensive: lmFp.seed is not moved), so
 * there its fine-tuning's and its text sample's seeds move. Each task reads only its own seeds.
 */
export function repeatConfig(c: ExperimentConfig, k: number): ExperimentConfig {
  return withSeeds(c, (seed) => (seed + k) % 2 ** 31);
}

/** The seeds a repeat moves, each task reading its own. */
function withSeeds(c: ExperimentConfig, move: (seed: number) => number): ExperimentConfig {
  const out = cloneConfig(c);
  out.data.trainSeed = move(out.data.trainSeed);
  out.fp.seed = move(out.fp.seed);
  out.qaft.seed = move(out.qaft.seed);
  out.lmQaft.seed = move(out.lmQaft.seed);
  out.lm.sampleSeed = move(out.lm.sampleSeed);
  return out;
}

/**
 * A config with the seeds that repeats move set to 0 and `repeats` to 1: two runs whose configs
 * are equal here are the same experiment over other seeds (repeats of each other).
 */
export function seedless(c: ExperimentConfig): ExperimentConfig {
  return { ...withSeeds(c, () => 0), repeats: 1 };
}

/** The seeds a repeat moves, as one string: runs of one setting with equal seeds are re-runs, not repeats. */
export function seedsOf(c: ExperimentConfig): string {
  const seeds: number[] = [];
  withSeeds(c, (seed) => (seeds.push(seed), seed));
  return seeds.join(',');
}

/** The items of a plan on a task lab: its rule for the weight bits, its settings check. */
export function labPlanItems(lab: Pick<TaskLab, 'withBits' | 'problems'>, c: ExperimentConfig, plan: Plan, methods: readonly Method[]): PlanItem[] {
  return planItems(c, plan, methods, lab.withBits, (x) => lab.problems(x).length === 0);
}

/** Run every item of a plan in order (its repeats, a sweep, PTQ vs QAFT) on a task's lab; stops early when stopped. */

export async function runPlan(
  lab: TaskLab,
  c: ExperimentConfig,
  plan: Plan,
  methods: readonly Method[],
  emit: (e: LabEvent) => void,
  control: RunControl,
): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for (const item of labPlanItems(lab, c, plan, methods)) {
    if (control.stopped) break;
    out.push(...(await lab.run(item.config, item.methods, emit, control)));
  }
  return out;
}
