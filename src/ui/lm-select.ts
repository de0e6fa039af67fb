/**
 * Which language-model runs belong to the current settings: the text samples, the per-layer
 * error view and the table's Δ vs FP match LM runs to the config by what each method depends
 * on (the sampling settings excluded: samples are redrawn from the kept models on request).
 */
import { fpKey } from '../engine/tasks';
import { type ExperimentConfig } from '../engine/core/config';
import { methodsOf, type Method } from '../engine/core/methods';
import type { RunRecord } from '../engine/core/runs';
import { latest } from './select';

/** The LM methods, in the order of the page (buttons, samples, charts): the registry's. */
export const LM_ORDER: readonly Method[] = methodsOf('lm');

/** Runs of one task (runs of both tasks share the list; each page view shows its task's). */
export function runsOfTask(runs: RunRecord[], task: ExperimentConfig['task']): RunRecord[] {
  return runs.filter((r) => r.config.task === task);
}

/** The quantizer settings the LM uses: per-component bits and the shared scheme options. */
function lmQuant(c: ExperimentConfig): unknown[] {
  const { scheme, granularity, groupSize, clip, actBits } = c.quant;
  const l = c.lm;
  return [l.embedBits, l.attnBits, l.mlpBits, l.headBits, scheme, granularity, groupSize, clip, actBits];
}

/** The part of an LM config the result of `method` depends on. */
export function lmSettingsKey(method: Method, c: ExperimentConfig): string {
  const l = c.lm;
  const base = [fpKey(c), lmQuant(c)];
  switch (method) {
    case 'fp':
      return fpKey(c);
    case 'rtn':
      return JSON.stringify(base);
    case 'gptq':
      return JSON.stringify([...base, c.data.budget, c.gptq]);
    case 'qaft':
    case 'lsq':
    case 'scaleonly':
      return JSON.stringify([...base, c.data.budget, c.lmQaft]);
    case 'qalora':
      return JSON.stringify([...base, c.data.budget, c.lmQaft, l.loraRank, l.loraAlpha]);
    case 'datafree':
      return JSON.stringify([...base, c.lmQaft, l.dfSequences, l.dfTemperature, l.dfLoss]);
    case 'tiled':
      return JSON.stringify([...base, c.data.budget, c.lmQaft, l.tileK, l.tileSteps, l.tileGlobal]);
    default: {
      // Any other method: everything a quantized method can read but the sampling settings (a new method needs no case here).
      const { prompt: _p, sampleLength: _n, sampleTemp: _t, sampleSeed: _s, ...rest } = l;
      return JSON.stringify([...base, c.data.budget, c.lmQaft, c.gptq, rest]);
    }
  }
}

const finished = (r: RunRecord) => r.status === 'done' && r.loss !== null && Number.isFinite(r.loss);

/** The latest finished LM run of `method` with exactly the current settings. */
export function latestLmRun(runs: RunRecord[], method: Method, c: ExperimentConfig): RunRecord | null {
  const key = lmSettingsKey(method, c);
  return latest(runs.filter((r) => r.method === method && r.config.task === c.task && finished(r) && lmSettingsKey(method, r.config) === key));
}

/** The latest finished run of each LM method for the current settings (methods without one are absent). */
export function latestLmRuns(runs: RunRecord[], c: ExperimentConfig): { method: Method; run: RunRecord }[] {
  return LM_ORDER.flatMap((m) => {
    const run = latestLmRun(runs, m, c);
    return run ? [{ method: m, run }] : [];
  });
}

/** Finished LM runs of the same FP model but other quantizer / method settings (for hints). */
export function otherLmRuns(runs: RunRecord[], c: ExperimentConfig): RunRecord[] {
  const key = fpKey(c);
  const shown = new Set(latestLmRuns(runs, c).map((x) => x.run.id));
  return runs.filter((r) => r.config.task === c.task && r.method !== 'fp' && finished(r) && fpKey(r.config) === key && !shown.has(r.id));
}
