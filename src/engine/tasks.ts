/**
 * The tasks of the lab and what the shared layers (settings, the page) ask of each without
 * knowing it: the settings that cannot work together, and those LSQ and scale-only cannot use.
 */
import type { ConfigProblem } from './core/layerquant';
import type { Method } from './core/methods';
import type { ExperimentConfig } from './core/config';
import { planItems, withQuantBits, type Plan, type PlanItem, type WithBits } from './core/plans';
import type { RunMetric } from './core/runs';
import { lmFpKey, lmFpSteps, lmRunName } from './lm/naming';
import { actMethodProblems } from './core/act';
import { lmLearnedScaleProblems, LM_METRIC, lmProblems, lmUrls, lmWithBits } from './lm/spec';
import { POLY_METRIC, polyMethodProblems, polyProblems } from './poly/layerspec';
import { polyFpKey, polyFpSteps, polyRunName } from './poly/naming';

/** A URL in a task's settings: its URL key, the value, and whether running the config fetches it. */
export interface SettingUrl {
  key: string;
  url: string;
  active: boolean;
}

/** What the shared layers (settings, the page, the CLI) ask of a task without knowing it. */
interface TaskInfo {
  /** Settings that cannot work together, each with the URL key to blame. */
  problems(c: ExperimentConfig): ConfigProblem[];
  /** The part of a config that determines the FP model (equal keys: the FP weights are reused). */
  fpKey(c: ExperimentConfig): string;
  /** Optimizer steps of the FP pretraining the config plans (0: the FP model is a loaded checkpoint). */
  fpSteps(c: ExperimentConfig): number;
  /** Every URL in its settings, active or not (a link may set one before switching to the task). */
  urls(c: ExperimentConfig): SettingUrl[];
  /** A run's name. */
  runName(method: Method, c: ExperimentConfig): string;
  /** What it calls itself in messages. */
  name: string;
  /** What its runs' loss measures. */
  metric: RunMetric;
  /** Why a method cannot run with these settings on this task (empty = it can). */
  methodProblems(c: ExperimentConfig, method: Method): string[];
  /** The plans it runs ('methods': the given methods; 'sweep' and 'ptq' expand over bit-widths of quant.bits; 'formats' over PLAN_FORMATS). */
  plans: readonly Plan[];
  /** The page's views a link can show alone (`embed=1&view=…`), the first the default, each with the plan its run button starts. */
  views: readonly { id: string; plan: Plan }[];
  /** How a plan sets the bits of its quantized weights. */
  withBits: WithBits;
}

const TASK_INFO: Record<ExperimentConfig['task'], TaskInfo> = {
  poly: {
    problems: polyProblems,
    methodProblems: polyMethodProblems,
    fpKey: polyFpKey,
    fpSteps: polyFpSteps,
    urls: () => [],
    runName: polyRunName,
    name: 'polynomial task',
    metric: POLY_METRIC,
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
    plans: ['methods', 'sweep', 'ptq', 'formats'],
    withBits: withQuantBits,
  },
  // The LM's bits are per component (bits_attn, …), not quant.bits that the sweep and PTQ plans vary; the format plan sets each quantized component's.
  lm: {
    problems: lmProblems,
    methodProblems: (c, m) => [...actMethodProblems(c, m), ...(m === 'lsq' || m === 'scaleonly' ? lmLearnedScaleProblems(c, m) : [])],
    fpKey: lmFpKey,
    fpSteps: lmFpSteps,
    urls: lmUrls,
    runName: lmRunName,
    name: 'language model',
    metric: LM_METRIC,
    views: [
      { id: 'loss', plan: 'methods' },
      { id: 'samples', plan: 'methods' },
      { id: 'layers', plan: 'methods' },
      { id: 'pareto', plan: 'methods' },
      { id: 'results', plan: 'methods' },
    ],
    plans: ['methods', 'formats'],
    withBits: lmWithBits,
  },
};

/** Whether the config's task runs `plan`, and a message when it does not. */
export function planProblem(c: ExperimentConfig, plan: Plan): string | null {
  const t = TASK_INFO[c.task];
  return t.plans.includes(plan)
    ? null
    : `the ${t.name} runs ${t.plans.map((p) => (p === 'methods' ? 'its methods (run=1, --methods)' : p)).join(', ')}, not the plan "${plan}"`;
}

/** The items a plan expands to on the config's task (planItems with the task's rule for its weight bits). */
export function taskPlanItems(c: ExperimentConfig, plan: Plan, methods?: readonly Method[]): PlanItem[] {
  return planItems(c, plan, methods, TASK_INFO[c.task].withBits, (x) => configProblems(x).length === 0);
}

/** Settings of the config's task that cannot work together, each with the URL key to blame. */
export function configProblems(c: ExperimentConfig): ConfigProblem[] {
  return TASK_INFO[c.task].problems(c);
}

/** The part of a config that determines its task's FP model: equal keys → the FP weights can be reused. */
export function fpKey(c: ExperimentConfig): string {
  return TASK_INFO[c.task].fpKey(c);
}

/** Optimizer steps of the FP pretraining the config plans on its task (0: the FP model is a loaded checkpoint). */
export function fpSteps(c: ExperimentConfig): number {
  return TASK_INFO[c.task].fpSteps(c);
}

/** The URLs in the settings of `task` (by default the config's), active or not, with their URL keys. */
export function settingUrls(c: ExperimentConfig, task: ExperimentConfig['task'] = c.task): SettingUrl[] {
  return TASK_INFO[task].urls(c);
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
