/**
 * What the CLI does differently per task: how its messages name the task, the flags for files on
 * this machine (--hf-dir, --text) and --export-weights, the lab that runs its plans (the
 * polynomial task's plans on several processes with --jobs), and how a run's loss is printed and
 * summarized. lab.ts looks the task up here instead of comparing its name.
 */
import type { ExperimentConfig, Task } from '../engine/core/config';
import { RunControl } from '../engine/core/control';
import type { Method } from '../engine/core/methods';
import { runPlan, type Plan } from '../engine/core/plans';
import type { LabEvent, RunRecord } from '../engine/core/runs';
import { LmLab } from '../engine/lm/lab';
import { Lab } from '../engine/poly/lab';
import { runPlanParallel } from './jobs';
import { localLmAssets, nodeLmEnv, writeLmWeights } from './lm-env';

/** The flags that name files on this machine. */
export interface LocalFlags {
  hfDir?: string;
  text?: string;
}

/** What --export-weights reports in the JSON summary. */
export interface WeightsExport {
  run: string;
  layout: string;
  files: string[];
  quantized: string[];
}

/** One task's lab for one CLI run (opened once the backend is up). */
export interface CliLab {
  run(config: ExperimentConfig, plan: Plan, methods: readonly Method[], jobs: number, emit: (e: LabEvent) => void): Promise<RunRecord[]>;
  /** --export-weights: write a finished run's weights to `target`. */
  exportWeights?(runs: RunRecord[], target: string): Promise<WeightsExport>;
  dispose(): void;
}

export interface CliTask {
  /** How the messages name it ("unknown method(s) for the polynomial task"). */
  name: string;
  /** Whether --export-weights can write its weights. */
  exportsWeights: boolean;
  /** Read the files the flags name (an Error for the user when they do not apply); `notes` says which settings they changed, `open` makes the lab. */
  local(config: ExperimentConfig, flags: LocalFlags): { notes: string[]; open(): CliLab };
  /** A finished run's loss in its progress line. */
  lossText(r: RunRecord): string;
  /** Its loss's fields in the JSON summary of each run. */
  summary(r: RunRecord): Record<string, number | null | undefined>;
}

export const CLI_TASKS: Record<Task, CliTask> = {
  poly: {
    name: 'polynomial',
    exportsWeights: false,
    local(_config, flags) {
      if (flags.hfDir !== undefined || flags.text !== undefined) throw new Error('--hf-dir and --text are for the language-model task (task=lm)');
      return {
        notes: [],
        open() {
          const lab = new Lab();
          return {
            run: (config, plan, methods, jobs, emit) =>
              jobs > 1 && plan !== 'methods' ? runPlanParallel(lab, config, plan, methods, jobs, emit) : lab.runPlan(config, plan, methods, emit),
            dispose: () => lab.dispose(),
          };
        },
      };
    },
    lossText: (r) => `${r.metric.name} ${r.loss?.toExponential(4)}`,
    summary: (r) => ({ testMse: r.loss }),
  },
  lm: {
    name: 'language model',
    exportsWeights: true,
    local(config, flags) {
      const local = localLmAssets(config, flags);
      return {
        notes: local.notes,
        open() {
          const lab = new LmLab(nodeLmEnv);
          if (local.files) lab.setFiles(local.files);
          if (local.own) lab.setOwnText(local.own.name, local.own.text);
          return {
            run: (config, plan, methods, _jobs, emit) => runPlan(lab, config, plan, methods, emit, new RunControl()),
            exportWeights: (runs, target) => writeLmWeights(lab, runs, target),
            dispose: () => lab.dispose(),
          };
        },
      };
    },
    lossText: (r) => `${r.metric.name} ${r.loss?.toFixed(4)} ${r.metric.unit} (perplexity ${r.loss === null ? '–' : Math.exp(r.loss).toFixed(3)})`,
    summary: (r) => ({ valNll: r.loss, perplexity: r.loss !== null ? Math.exp(r.loss) : undefined }),
  },
};
