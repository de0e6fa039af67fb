/**
 * What every task's training loop shares: curve points, divergence, and the learning-rate
 * schedule (constant, or linear decay to 10 % of the rate).
 */

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
