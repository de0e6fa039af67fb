/**
 * The tasks of the lab and what the shared layers (settings, the page) ask of each without
 * knowing it: the settings that cannot work together.
 */
import type { ExperimentConfig } from './core/config';
import type { ConfigProblem } from './core/layerquant';
import { lmProblems } from './lm/spec';
import { polyProblems } from './poly/layerspec';

/** Settings of the config's task that cannot work together, each with the URL key to blame. */
export function configProblems(c: ExperimentConfig): ConfigProblem[] {
  return c.task === 'lm' ? lmProblems(c) : polyProblems(c);
}
