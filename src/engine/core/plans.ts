/**
 * Plans: the lists of (config, methods) that "Run comparison", a learning-rate × bit-width sweep
 * and "PTQ vs QAFT" expand to, each repeated over `repeats` seeds, and running one on a task's lab.
 */
import { cloneConfig, type Bits, type ExperimentConfig } from './config';
import type { RunControl } from './control';
import { comparisonOf, type Method } from './methods';
import type { LabEvent, RunRecord } from './runs';
import type { TaskLab } from './task';

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
  const once = (r: ExperimentConfig): PlanItem[] => {
    if (plan === 'methods') return [{ config: cloneConfig(r), methods: [...methods] }];
    if (plan === 'ptq') return r.sweep.bits.map((b) => ({ config: withBits(r, b), methods: [...PTQ_PLAN_METHODS] }));
    return r.sweep.bits.flatMap((b) =>
      r.sweep.lrs.map((lr, k) => ({ config: withBits(r, b, lr), methods: k === 0 ? (['rtn', 'qaft'] as Method[]) : (['qaft'] as Method[]) })),
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
  for (const item of planItems(c, plan, methods)) {
    if (control.stopped) break;
    out.push(...(await lab.run(item.config, item.methods, emit, control)));
  }
  return out;
}
