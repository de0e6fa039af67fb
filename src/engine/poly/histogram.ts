/** Weight histograms per layer: FP weights, the quantized weights, and the quantization levels. */
import type { MlpSnapshot } from './model';
import { rotateRows, tailStats, type Rotation } from '../core/rotation';

/** Kurtosis and outlier ratio of a layer's FP weights as stored (`before`) and after a Hadamard rotation of its inputs (`after`). */
export interface LayerTails {
  before: { kurtosis: number; maxOverStd: number };
  after: { kurtosis: number; maxOverStd: number };
}

export interface LayerHistogram {
  layer: number;
  /** Bin edges span [lo, hi] in `bins` equal bins (shared by both histograms). */
  lo: number;
  hi: number;
  fp: number[];
  quantized: number[];
  /** The distinct quantized values when there are at most MAX_LEVELS (one grid for the layer); else null. */
  levels: number[] | null;
  /** The run quantized this layer in a rotated basis: both histograms (and the levels) are of Rᵀ·W there, where the grid lies. */
  rotated: boolean;
  /** The FP weights' tails before and after the Hadamard rotation (with the run's rotation seed), whether or not the run rotated. */
  tails: LayerTails;
}

export const MAX_LEVELS = 64;

function histogram(v: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (let i = 0; i < v.length; i++) out[Math.min(bins - 1, Math.max(0, Math.floor((v[i] - lo) / w)))] += 1;
  return out;
}

function distinct(v: ArrayLike<number>, max: number): number[] | null {
  const s = new Set<number>();
  for (let i = 0; i < v.length; i++) {
    s.add(v[i]);
    if (s.size > max) return null;
  }
  return [...s].sort((a, b) => a - b);
}

/**
 * Per layer: histograms of the FP and quantized weights on one range, in the basis the run
 * quantized them in (`rotations[layer]`: Rᵀ·W; null: as stored), the levels, and the FP weights'
 * tails before and after the rotation `probe(layer)` (the Hadamard of the layer's width).
 */
/** Distinct values up to `tol` (sorted, each run of values closer than tol to the previous counted once, at its first); null when more than `max`. */
function distinctWithin(v: ArrayLike<number>, max: number, tol: number): number[] | null {
  const sorted = Float64Array.from(v).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] - sorted[i - 1] <= tol) continue;
    out.push(sorted[i]);
    if (out.length > max) return null;
  }
  return out;
}

export function weightHistograms(
  fp: MlpSnapshot,
  q: MlpSnapshot,
  bins = 60,
  rotations: readonly (Rotation | null)[] = [],
  probe?: (layer: number) => Rotation,
): LayerHistogram[] {
  return fp.weights.map((raw, layer) => {
    const cols = fp.dims[layer + 1];
    const rot = rotations[layer] ?? null;
    const w = rot ? rotateRows(raw, cols, rot) : raw;
    const qw = rot ? rotateRows(q.weights[layer], cols, rot) : q.weights[layer];
    const p = probe?.(layer);
    const tails = { before: tailStats(raw), after: tailStats(p ? rotateRows(raw, cols, p) : raw) };
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of [w, qw]) {
      for (let i = 0; i < a.length; i++) {
        lo = Math.min(lo, a[i]);
        hi = Math.max(hi, a[i]);
      }
    }
    return {
      layer,
      lo,
      hi,
      fp: histogram(w, lo, hi, bins),
      quantized: histogram(qw, lo, hi, bins),
      // Rotated back from R·q the grid values carry float rounding: values within 1e-5 of the range count as one.
      levels: rot ? distinctWithin(qw, MAX_LEVELS, 1e-5 * Math.max(Math.abs(lo), Math.abs(hi))) : distinct(qw, MAX_LEVELS),
      rotated: rot !== null,
      tails,
    };
  });
}
