/** Weight histograms per layer: FP weights, the quantized weights, and the quantization levels. */
import type { MlpSnapshot } from './model';

export interface LayerHistogram {
  layer: number;
  /** Bin edges span [lo, hi] in `bins` equal bins (shared by both histograms). */
  lo: number;
  hi: number;
  fp: number[];
  quantized: number[];
  /** The distinct quantized values when there are at most MAX_LEVELS (one grid for the layer); else null. */
  levels: number[] | null;
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

export function weightHistograms(fp: MlpSnapshot, q: MlpSnapshot, bins = 60): LayerHistogram[] {
  return fp.weights.map((w, layer) => {
    const qw = q.weights[layer];
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of [w, qw]) {
      for (let i = 0; i < a.length; i++) {
        lo = Math.min(lo, a[i]);
        hi = Math.max(hi, a[i]);
      }
    }
    return { layer, lo, hi, fp: histogram(w, lo, hi, bins), quantized: histogram(qw, lo, hi, bins), levels: distinct(qw, MAX_LEVELS) };
  });
}
