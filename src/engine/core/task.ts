/**
 * The task interface: what a task (the polynomial MLP, the language model) offers the methods.
 * Each method of the registry (methods/) is written against this interface only, so a method
 * runs on every task that implements the steps it uses; a task never names a method list.
 */
import type { Bits, ExperimentConfig, Task } from './config';
import type { RunControl } from './control';
import type { Method } from './methods';
import type { NamedWeight } from './inspect';
import type { ConfigProblem } from './layerquant';
import type { LabEvent, RunRecord } from './runs';

/** What a method's run is given: the settings, where its events go, and pause/stop. */
export interface MethodContext {
  c: ExperimentConfig;
  emit: (e: LabEvent) => void;
  control: RunControl;
}

/** Where a quantized training run starts: the FP weights, GPTQ's weights, or a fresh init. */
export type QuantInit = 'fp' | 'gptq' | 'scratch';

export interface TaskLab {
  readonly task: Task;
  /** Run methods of the registry on these settings (runMethods), every result emitted at once. */
  run(c: ExperimentConfig, methods: readonly Method[], emit: (e: LabEvent) => void, control?: RunControl): Promise<RunRecord[]>;
  /** The task's rule for the bits of its quantized weights (the plans over bit-widths and formats). */
  readonly withBits: (c: ExperimentConfig, bits: Bits) => ExperimentConfig;
  /** Settings of this task that cannot work together, each with the URL key to blame (empty = they can run). */
  problems(c: ExperimentConfig): ConfigProblem[];
  /** Whether the FP model of these settings is trained (or loaded) and kept. */
  hasFp(c: ExperimentConfig): boolean;
  /** The FP model's quantizable weight matrices ([in, out]) with the quantizer these settings give each (the block inspector); throws without an FP model. */
  weightMatrices(c: ExperimentConfig): Promise<NamedWeight[]>;
  /** Why some of these methods cannot run with these settings (one message each; empty = they can). */
  methodProblems(c: ExperimentConfig, methods: readonly Method[]): string[];
  /** Train or load the FP model (the reference of every other run). */
  fp(ctx: MethodContext): Promise<RunRecord>;
  /** Quantize the FP weights without training: round to nearest, or GPTQ on the data budget. */
  ptq(ctx: MethodContext, method: 'rtn' | 'gptq'): Promise<RunRecord>;
  /** Train the quantized weights (fake-quant forward, straight-through gradient) with the QAFT settings, from `init`. */
  quantTrain(ctx: MethodContext, method: Method, init: QuantInit): Promise<RunRecord>;
  /** Learned step sizes: LSQ (weights and scales train), or scale-only (RTN's codes frozen). */
  learnedScales?(ctx: MethodContext, method: 'lsq' | 'scaleonly'): Promise<RunRecord>;
  /** QA-LoRA: low-rank adapters on the frozen quantized model, merged and re-quantized. */
  qaLora?(ctx: MethodContext): Promise<RunRecord>;
  /** Data-free QAFT: the quantized student learns the FP teacher's outputs on inputs the FP side makes. */
  dataFree?(ctx: MethodContext): Promise<RunRecord>;
  /** Forward tiled QAT: blocks trained to reproduce the FP blocks' outputs, then global QAFT. */
  tiled?(ctx: MethodContext): Promise<RunRecord>;
}

/** A step a method needs from its task; the registry's `tasks` lists only tasks that have it. */
export function step<T>(fn: T | undefined, lab: TaskLab, what: string): T {
  if (!fn) throw new Error(`The ${lab.task} task has no ${what}.`);
  return fn;
}
