/**
 * The tasks of the lab and what the shared layers (settings, the page) ask of each without
 * knowing it: the settings that cannot work together, and those LSQ and scale-only cannot use.
 */
import type { ExperimentConfig } from './core/config';
import type { ConfigProblem } from './core/layerquant';
import type { Method } from './core/methods';
import type { Plan } from './core/plans';
import type { RunMetric } from './core/runs';
import { lmFpKey, lmRunName } from './lm/naming';
import { lmLearnedScaleProblems, LM_METRIC, lmProblems } from './lm/spec';
import { POLY_METRIC, polyMethodProblems, polyProblems } from './poly/layerspec';
import { polyFpKey, polyRunName } from './poly/naming';

/** What the shared layers (settings, the page, the CLI) ask of a task without knowing it. */
interface TaskInfo {
  /** Settings that cannot work together, each with the URL key to blame. */
  problems(c: ExperimentConfig): ConfigProblem[];
  /** The part of a config that determines the FP model (equal keys: the FP weights are reused). */
  fpKey(c: ExperimentConfig): string;
  /** A run's name. */
  runName(method: Method, c: ExperimentConfig): string;
  /** What it calls itself in messages. */
  name: string;
  /** What its runs' loss measures. */
  metric: RunMetric;
  /** Why a method cannot run with these settings on this task (empty = it can). */
  methodProblems(c: ExperimentConfig, method: Method): string[];
  /** The plans it runs ('methods': the given methods; 'sweep' and 'ptq' expand over bit-widths of quant.bits). */
  plans: readonly Plan[];
  /** The page's views a link can show alone (`embed=1&view=…`), the first the default, each with the plan its run button starts. */
  views: readonly { id: string; plan: Plan }[];
}

const TASK_INFO: Record<ExperimentConfig['task'], TaskInfo> = {
  poly: {
    problems: polyProblems,
    methodProblems: polyMethodProblems,
    fpKey: polyFpKey,
    runName: polyRunName,
    name: 'polynomial task',
    metric: POLY_METRIC,
    plans: ['methods', 'sweep', 'ptq'],
    views: [
      { id: 'loss', plan: 'methods' },
      { id: 'sweep', plan: 'sweep' },
      { id: 'pareto', plan: 'ptq' },
      { id: 'local-global', plan: 'ptq' },
      { id: 'landscape', plan: 'ptq' },
      { id: 'weights', plan: 'ptq' },
      { id: 'sensitivity', plan: 'ptq' },
      { id: 'plots', plan: 'methods' },
      { id: 'results', plan: 'methods' },
    ],
  },
  // The LM's bits are per component (bits_attn, …), not quant.bits that the sweep and PTQ plans vary.
  lm: {
    problems: lmProblems,
    methodProblems: (c, m) => (m === 'lsq' || m === 'scaleonly' ? lmLearnedScaleProblems(c, m) : []),
    fpKey: lmFpKey,
    runName: lmRunName,
    name: 'language model',
    metric: LM_METRIC,
    plans: ['methods'],
    views: [
      { id: 'loss', plan: 'methods' },
      { id: 'samples', plan: 'methods' },
      { id: 'layers', plan: 'methods' },
      { id: 'pareto', plan: 'methods' },
      { id: 'results', plan: 'methods' },
    ],
  },
};

/** Whether the config's task runs `plan`, and a message when it does not. */
export function planProblem(c: ExperimentConfig, plan: Plan): string | null {
  const t = TASK_INFO[c.task];
  return t.plans.includes(plan)
    ? null
    : `the ${t.name} runs ${t.plans.map((p) => (p === 'methods' ? 'its methods (run=1, --methods)' : p)).join(', ')}, not the plan "${plan}"`;
}

/** Settings of the config's task that cannot work together, each with the URL key to blame. */
export function configProblems(c: ExperimentConfig): ConfigProblem[] {
  return TASK_INFO[c.task].problems(c);
}

/** The part of a config that determines its task's FP model: equal keys → the FP weights can be reused. */
export function fpKey(c: ExperimentConfig): string {
  return TASK_INFO[c.task].fpKey(c);
}

/** The name of a run of `method` on these settings. */
export function runName(method: Method, c: ExperimentConfig): string {
  return TASK_INFO[c.task].runName(method, c);
}

/** Why a method cannot run with these settings on the config's task (empty = it can): the page's buttons say it. */
export function methodProblemsOf(c: ExperimentConfig, method: Method): string[] {
  return TASK_INFO[c.task].methodProblems(c, method);
}

/** The views of a task that a link can show alone (`embed=1&view=…`), the default first, each with the plan its run button starts. */
export function taskViews(task: ExperimentConfig['task']): readonly { id: string; plan: Plan }[] {
  return TASK_INFO[task].views;
}

/** The name a task calls itself in messages ("polynomial task", "language model"). */
export function taskName(task: ExperimentConfig['task']): string {
  return TASK_INFO[task].name;
}

/** What a task's runs' loss measures (name and unit). */
export function taskMetric(task: ExperimentConfig['task']): RunMetric {
  return TASK_INFO[task].metric;
}
