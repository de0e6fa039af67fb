/**
 * The tasks of the lab and what the shared layers (settings, the page) ask of each without
 * knowing it: the settings that cannot work together, and those LSQ and scale-only cannot use.
 */
import type { ExperimentConfig } from './core/config';
import type { ConfigProblem } from './core/layerquant';
import { lmLearnedScaleProblems, lmProblems } from './lm/spec';
import { learnedScaleProblems as polyLearnedScaleProblems, polyProblems } from './poly/layerspec';

/** Settings of the config's task that cannot work together, each with the URL key to blame. */
export function configProblems(c: ExperimentConfig): ConfigProblem[] {
  return c.task === 'lm' ? lmProblems(c) : polyProblems(c);
}

/** Why LSQ or scale-only cannot run on the config's task with these settings (empty = they can). */
export function learnedScaleProblems(c: ExperimentConfig, method: 'lsq' | 'scaleonly'): string[] {
  return c.task === 'lm' ? lmLearnedScaleProblems(c, method) : polyLearnedScaleProblems(c, method);
}
