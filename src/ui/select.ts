/**
 * Which runs belong to the current settings: the sweep table, the Pareto plot and the
 * PTQ-vs-QAFT views match runs to the config by the settings each method depends on.
 */
import { fpKey } from '../engine/tasks';
import { isFullPrecision, type ExperimentConfig } from '../engine/core/config';
import { type Method } from '../engine/core/methods';
import { PTQ_PLAN_METHODS, seedless } from '../engine/core/plans';
import { type RunRecord } from '../engine/core/runs';
import { latestPerSeeds } from '../engine/core/stats';

export interface Ignore {
  /** Match any weight bit-width (quant.bits). */
  bits?: boolean;
  /** Match any QAFT / scratch learning rate. */
  lr?: boolean;
}

/** The part of a config a method's result depends on, minus the ignored fields. */
export function settingsKey(method: Method, c: ExperimentConfig, ignore: Ignore = {}): string {
  const quant = ignore.bits ? { ...c.quant, bits: 0 } : c.quant;
  const qaft = ignore.lr ? { ...c.qaft, lr: 0 } : c.qaft;
  switch (method) {
    case 'fp':
      return fpKey(c);
    case 'rtn':
      return JSON.stringify([fpKey(c), quant]);
    case 'gptq':
      return JSON.stringify([fpKey(c), quant, c.data.budget, c.gptq]);
    case 'qaft':
    case 'lsq':
    case 'scaleonly':
      return JSON.stringify([fpKey(c), quant, qaft, c.data.budget]);
    case 'scratch':
      return JSON.stringify([c.data, c.model, quant, qaft]);
    // The methods that read settings of c.lm on the MLP: only those (df_temp and df_loss do not apply to it).
    case 'qalora':
      return JSON.stringify([fpKey(c), quant, qaft, c.data.budget, c.lm.loraRank, c.lm.loraAlpha]);
    case 'datafree':
      return JSON.stringify([fpKey(c), quant, qaft, c.lm.dfSequences]);
    case 'tiled': {
      // Steps per tile and global steps replace the QAFT length (unit, steps, epochs).
      const { lr, batch, schedule, weightDecay, seed } = qaft;
      return JSON.stringify([fpKey(c), quant, { lr, batch, schedule, weightDecay, seed }, c.data.budget, c.lm.tileK, c.lm.tileSteps, c.lm.tileGlobal]);
    }
    default:
      // Any other method: everything a quantized method can read (a new method needs no case here).
      return JSON.stringify([fpKey(c), quant, qaft, c.data.budget, c.gptq, c.lm]);
  }
}

const finished = (r: RunRecord) => r.status === 'done' && r.loss !== null && Number.isFinite(r.loss);

/** Finished runs of `method` with the current settings (except what is ignored). */
export function matchingRuns(runs: RunRecord[], method: Method, c: ExperimentConfig, ignore: Ignore = {}): RunRecord[] {
  const key = settingsKey(method, c, ignore);
  return runs.filter((r) => r.method === method && finished(r) && settingsKey(method, r.config, ignore) === key);
}

/**
 * Finished runs of `method` with the current settings but the seeds (the repeats of repeats=N,
 * and runs with another seed) that pass `where`, the latest per seeds: what a mean ± interval is taken over.
 */
export function repeatRuns(
  runs: RunRecord[],
  method: Method,
  c: ExperimentConfig,
  ignore: Ignore = {},
  where: (r: RunRecord) => boolean = () => true,
): RunRecord[] {
  const key = settingsKey(method, seedless(c), ignore);
  // Pick the runs first (e.g. one bit-width of those ignored), then the latest per seeds among them.
  return latestPerSeeds(runs.filter((r) => r.method === method && finished(r) && where(r) && settingsKey(method, seedless(r.config), ignore) === key));
}

/**
 * Runs that repeat each other on the page: same task, method and name, and the same settings the
 * method depends on (settingsKey) but the seeds. An FP run of a sweep and one of a comparison
 * with the same seeds are then one model, where the engine's repeatKey compares whole configs.
 */
export const pageRepeatKey = (r: RunRecord): string => JSON.stringify([r.config.task, r.method, r.name, settingsKey(r.method, seedless(r.config))]);

export function latest(runs: RunRecord[]): RunRecord | null {
  return runs.length ? runs.reduce((a, b) => (b.createdAt > a.createdAt ? b : a)) : null;
}

/** The latest finished run of `method` for the current settings at `bits` (any bits for FP). */
export function latestRun(runs: RunRecord[], method: Method, c: ExperimentConfig, bits: number, only?: ReadonlySet<string>): RunRecord | null {
  const pool = matchingRuns(runs, method, c, { bits: true }).filter((r) => (method === 'fp' || r.config.quant.bits === bits) && (!only || only.has(r.id)));
  return latest(pool);
}

export const PTQ_METHODS = PTQ_PLAN_METHODS;

/** Quantized bit-widths with an RTN, GPTQ or QAFT run for the current settings, ascending. */
export function availableBits(runs: RunRecord[], c: ExperimentConfig): number[] {
  const s = new Set<number>();
  for (const m of PTQ_METHODS) for (const r of matchingRuns(runs, m, c, { bits: true })) if (!isFullPrecision(r.config.quant.bits)) s.add(r.config.quant.bits);
  return [...s].sort((a, b) => a - b);
}

/** The bit-width a view shows: the chosen one, else the config's, else the latest run's. */
export function pickBits(runs: RunRecord[], c: ExperimentConfig, chosen: number | null): number | null {
  const avail = availableBits(runs, c);
  if (avail.length === 0) return null;
  if (chosen !== null && avail.includes(chosen)) return chosen;
  if (avail.includes(c.quant.bits)) return c.quant.bits;
  const newest = latest(PTQ_METHODS.flatMap((m) => matchingRuns(runs, m, c, { bits: true })).filter((r) => !isFullPrecision(r.config.quant.bits)));
  return newest ? newest.config.quant.bits : avail[0];
}

/** Finished runs with the current data, model and FP settings (the Pareto plot). */
export function runsOfFp(runs: RunRecord[], c: ExperimentConfig): RunRecord[] {
  const key = fpKey(c);
  return runs.filter((r) => finished(r) && fpKey(r.config) === key);
}

/** Finished runs with the current data, model and FP settings but the seeds (the Pareto plot with repeats). */
export function runsOfFpAnySeed(runs: RunRecord[], c: ExperimentConfig): RunRecord[] {
  const key = fpKey(seedless(c));
  return runs.filter((r) => finished(r) && fpKey(seedless(r.config)) === key);
}

export { paretoFront } from '../engine/core/stats';
