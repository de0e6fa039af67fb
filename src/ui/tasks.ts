/**
 * What the page does differently per task, as data: its labels, how its loss reads on the charts,
 * what a file dropped on the page becomes, which plans have buttons. Shared components and the
 * controller look the task up here instead of comparing its name; the components each task adds
 * to the page are in components/task-parts.tsx, and what the engine knows of a task in
 * engine/tasks.ts. A new task is one entry here and one there.
 */
import type { Task } from '../engine/core/config';
import type { Plan } from '../engine/core/plans';
import { fmtTick, logAxis } from './chart-utils';
import { linearAxis } from './components/lm/axes';
import { openLmFiles, showLmView } from './lm-controller';
import { fmtNll } from './lm-runs';
import { fmtMse } from './runs';

/** How a task's loss reads on the charts and in their legends. */
export interface LossLabels {
  /** "test MSE", "validation NLL". */
  name: string;
  /** The same at the start of a title: "Test MSE". */
  title: string;
  /** Beside a run's name in the legends: "test", "val". */
  short: string;
  /** A loss value as the legends and tooltips write it. */
  fmt(x: number | null): string;
  /** The loss chart's y axis: bounds and ticks for [lo, hi], scale, tick labels, width, label and its offset. */
  axis(lo: number, hi: number): { domain: [number, number]; ticks: number[] };
  scale: 'log' | 'linear';
  tick(v: number): string;
  axisWidth: number;
  axisLabel: string;
  axisLabelOffset: number;
}

export interface UiTaskInfo {
  /** The task switch's button and its tooltip. */
  label: string;
  title: string;
  /** How a message names it ("… belong to the polynomial toy"). */
  noun: string;
  /** The end of the page's subtitle ("… trained live in your browser on a polynomial-fitting MLP."). */
  headline: string;
  loss: LossLabels;
  /** What the loss chart calls training that continues from the FP model ("QAFT", "fine-tuning"). */
  fineTune: string;
  /** The loss chart's caption: what its lines are. */
  lossCaption: string;
  /** The error-vs-size view: what its points are, and the buttons that make some. */
  paretoIntro: string;
  paretoButtons: string;
  /** The status line before any run of the task. */
  idleFirst: string;
  /** The chip when the FP model of the settings is not in the worker. */
  fpMissing: string;
  /** The settings "Runs are disabled until the … settings fit together" names. */
  settingsNoun: string;
  /** The plans with buttons of their own beside the comparison (their problems show at the buttons). */
  planButtons: readonly Plan[];
  /** Files dropped on the page that are not runs exports (absent: such files are refused; a JSON file is read as a runs export). */
  drop?: {
    /** What it takes, for the message about a file it does not: "checkpoint file or .txt text". */
    what: string;
    /** Open the files it takes; the others come back. */
    open(files: File[]): File[];
  };
  /** A link's `view=` that picks a tab of the task's own views (the shared tabs are picked by the store). */
  showView?(view: string): void;
}

export const UI_TASKS: Record<Task, UiTaskInfo> = {
  poly: {
    label: 'Polynomial toy',
    title: 'An MLP learns to fit polynomials through 7 points (MSE): fast, every view of the lab',
    noun: 'polynomial toy',
    headline: ' on a polynomial-fitting MLP.',
    loss: {
      name: 'test MSE',
      title: 'Test MSE',
      short: 'test',
      fmt: fmtMse,
      axis: logAxis,
      scale: 'log',
      tick: fmtTick,
      axisWidth: 56,
      axisLabel: 'MSE (log)',
      axisLabelOffset: 4,
    },
    fineTune: 'QAFT',
    lossCaption:
      'Solid: test MSE; dashed: mean training MSE since the previous point. RTN and GPTQ do not train: their test MSE is a horizontal dotted line. Click a name to hide or show it.',
    paretoIntro:
      'Each finished run with the current data, model and FP settings: test MSE against the storage of its weights (codes, scales, zero points and codebooks, FP32 biases).',
    paretoButtons: 'PTQ vs QAFT (or Run comparison)',
    idleFirst: 'Idle. Press Run comparison to train FP, then RTN, QAFT and scratch.',
    fpMissing: 'FP model not trained for these settings',
    settingsNoun: 'quantizer',
    planButtons: ['ptq', 'sweep'],
  },
  lm: {
    label: 'Language model',
    title: 'A small decoder-only transformer learns to write text (validation NLL, perplexity, text samples)',
    noun: 'language model',
    headline: ' on a small transformer language model.',
    loss: {
      name: 'validation NLL',
      title: 'Validation NLL',
      short: 'val',
      fmt: fmtNll,
      axis: linearAxis,
      scale: 'linear',
      tick: (v) => String(Number(v.toPrecision(4))),
      axisWidth: 64,
      axisLabel: 'validation NLL (nats/token)',
      axisLabelOffset: 0,
    },
    fineTune: 'fine-tuning',
    lossCaption:
      'Solid: validation NLL in nats per token (lower is better; perplexity = e^NLL); dashed: mean training NLL since the previous point (not drawn for data-free QAFT, which trains on generated text, nor for the tiles of tiled QAT, which match block outputs). RTN, GPTQ and a loaded FP checkpoint do not train: their validation NLL is a horizontal dotted line. Click a name to hide or show it.',
    paretoIntro:
      'Each finished run with the current model, text and FP settings: validation NLL against the storage of its weights (codes, scales, zero points and codebooks; FP32 where not quantized).',
    paretoButtons: 'Run comparison (or Run all)',
    idleFirst: 'Idle. Press Run comparison for FP, then RTN, GPTQ and QAFT.',
    fpMissing: 'FP model not loaded for these settings',
    settingsNoun: 'model, text and quantizer',
    planButtons: [],
    drop: { what: 'checkpoint file or .txt text', open: openLmFiles },
    showView: showLmView,
  },
};
