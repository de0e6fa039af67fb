/**
 * The training loop every task uses (runLoop), and what goes with it: curve points, divergence,
 * and the learning-rate schedule (constant, or linear decay to 10 % of the rate).
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl, yieldToEventLoop } from './control';

export interface CurvePoint {
  step: number;
  /** Mean training loss over the steps since the previous point. */
  train: number;
  test: number;
}

export interface Divergence {
  step: number;
  lr: number;
  /** 'non-finite': NaN/Inf loss; 'exploded': loss above EXPLODE_FACTOR × its starting value. */
  reason: 'non-finite' | 'exploded';
}

/** A window whose training loss exceeds this multiple of the step-0 loss counts as diverged. */
export const EXPLODE_FACTOR = 1000;

/** The learning rate at `step` of `total`. */
export function lrAt(o: { lr: number; schedule: 'constant' | 'linear' }, step: number, total: number): number {
  return o.schedule === 'linear' ? o.lr * (1 - (0.9 * step) / total) : o.lr;
}

/** What one task's training run plugs into the shared loop (runLoop). */
export interface LoopSpec {
  /** Optimizer steps to run. */
  steps: number;
  lr: number;
  schedule: 'constant' | 'linear';
  /** Read the summed loss back (and evaluate) every this many steps, and at the last step. */
  logEvery: number;
  /**
   * A window whose mean training loss exceeds this multiple of the starting loss (at least 1e-3)
   * counts as diverged ('exploded'); omitted = only a non-finite loss does.
   */
  explodeFactor?: number;
  /** The loss before any update: the first batch's training loss and the test (validation) loss. */
  start(): Promise<{ train: number; test: number }>;
  /** Called before step `step` (0-based) runs, e.g. to switch the quantizer of a schedule. */
  beforeStep?(step: number): Promise<void>;
  /**
   * One optimizer step at learning rate `lr`: returns `acc` + the step's training loss, kept on
   * the device (the loop reads it back once per window); `acc` itself is not disposed.
   */
  step(lr: number, acc: tf.Scalar): tf.Scalar;
  /** The test (validation) loss of the weights as they are now. */
  evaluate(): Promise<number>;
  /** Whether the step-0 point is kept when its losses are not finite (default: only finite ones). */
  keepNonFiniteStart?: boolean;
}

export interface LoopOutcome {
  stepsDone: number;
  curve: CurvePoint[];
  stopped: boolean;
  diverged: Divergence | null;
  /** The last test (validation) loss measured (NaN before any). */
  lastTest: number;
}

/**
 * The one training loop of the lab, for every task: a fixed-shape step from the task, the
 * learning-rate schedule, the loss summed on the device and read back every `logEvery` steps
 * (never every step), evaluation at each read-back, divergence (a non-finite window or test
 * loss, or an exploded one), pause and stop between read-backs, and progress points. Curve
 * points are reported with `stepOffset` added (the schedule uses the local step).
 */
export async function runLoop(
  spec: LoopSpec,
  onPoint: (p: CurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
  stepOffset = 0,
): Promise<LoopOutcome> {
  const curve: CurvePoint[] = [];
  let acc: tf.Scalar = tf.scalar(0);
  let inWindow = 0;
  let step = 0;
  let diverged: Divergence | null = null;
  let lastTest = NaN;
  try {
    const first = await spec.start();
    lastTest = first.test;
    const limit = spec.explodeFactor === undefined ? Infinity : spec.explodeFactor * Math.max(first.train, first.test, 1e-3);
    if (spec.keepNonFiniteStart || (Number.isFinite(first.train) && Number.isFinite(first.test))) {
      const p0 = { step: stepOffset, train: first.train, test: first.test };
      curve.push(p0);
      onPoint(p0);
    }
    while (step < spec.steps && !control.stopped) {
      const lr = lrAt(spec, step, spec.steps);
      await spec.beforeStep?.(step);
      const next = spec.step(lr, acc);
      acc.dispose();
      acc = next;
      step += 1;
      inWindow += 1;
      if (step % spec.logEvery === 0 || step === spec.steps) {
        const mean = (await acc.data())[0] / inWindow;
        acc.dispose();
        acc = tf.scalar(0);
        inWindow = 0;
        if (!Number.isFinite(mean)) {
          diverged = { step, lr, reason: 'non-finite' };
          break;
        }
        if (mean > limit) {
          diverged = { step, lr, reason: 'exploded' };
          break;
        }
        const test = await spec.evaluate();
        if (!Number.isFinite(test)) {
          diverged = { step, lr, reason: 'non-finite' };
          break;
        }
        lastTest = test;
        const p = { step: stepOffset + step, train: mean, test };
        curve.push(p);
        onPoint(p);
        await yieldToEventLoop();
        await control.waitWhilePaused();
      }
    }
  } finally {
    acc.dispose();
  }
  return { stepsDone: step, curve, stopped: control.stopped && !diverged && step < spec.steps, diverged, lastTest };
}
