/**
 * The polynomial-fit task: 7 random points in [0,1]² → the least-squares polynomial of
 * degree d through them, sampled at 100 evenly spaced x. Points and curve are rescaled
 * together so the curve spans [0,1]. Input: 14 values (7 x, then 7 y); target: 200 values
 * (100 grid x, then 100 curve y).
 */
import { Rng } from './rng';

export const N_POINTS = 7;
export const N_GRID = 100;
export const IN_DIM = 2 * N_POINTS;
export const OUT_DIM = 2 * N_GRID;

export interface Dataset {
  n: number;
  /** n × 14, row-major. */
  x: Float32Array;
  /** n × 200, row-major. */
  y: Float32Array;
}

export const GRID: Float64Array = Float64Array.from({ length: N_GRID }, (_, i) => i / (N_GRID - 1));

/** Least-squares polynomial coefficients (lowest power first) by the normal equations in Float64. */
export function polyfit(xs: ArrayLike<number>, ys: ArrayLike<number>, degree: number): Float64Array {
  const m = degree + 1;
  const A = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let i = 0; i < xs.length; i++) {
    const pw = new Float64Array(m);
    pw[0] = 1;
    for (let k = 1; k < m; k++) pw[k] = pw[k - 1] * xs[i];
    for (let r = 0; r < m; r++) {
      b[r] += pw[r] * ys[i];
      for (let c = 0; c < m; c++) A[r * m + c] += pw[r] * pw[c];
    }
  }
  for (let r = 0; r < m; r++) A[r * m + r] += 1e-12;
  // Gaussian elimination with partial pivoting.
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(A[r * m + col]) > Math.abs(A[piv * m + col])) piv = r;
    if (piv !== col) {
      for (let c = 0; c < m; c++) [A[col * m + c], A[piv * m + c]] = [A[piv * m + c], A[col * m + c]];
      [b[col], b[piv]] = [b[piv], b[col]];
    }
    for (let r = col + 1; r < m; r++) {
      const f = A[r * m + col] / A[col * m + col];
      if (f === 0) continue;
      for (let c = col; c < m; c++) A[r * m + c] -= f * A[col * m + c];
      b[r] -= f * b[col];
    }
  }
  const coef = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < m; c++) s -= A[r * m + c] * coef[c];
    coef[r] = s / A[r * m + r];
  }
  return coef;
}

export function polyval(coef: ArrayLike<number>, x: number): number {
  let s = 0;
  for (let k = coef.length - 1; k >= 0; k--) s = s * x + coef[k];
  return s;
}

/** One example written into `x` (14) and `y` (200) at the given offsets. */
function writeExample(rng: Rng, degree: number, x: Float32Array, xo: number, y: Float32Array, yo: number): void {
  const xs = Array.from({ length: N_POINTS }, () => rng.next()).sort((a, b) => a - b);
  const ys = Array.from({ length: N_POINTS }, () => rng.next());
  const coef = polyfit(xs, ys, degree);
  const curve = new Float64Array(N_GRID);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < N_GRID; i++) {
    const v = polyval(coef, GRID[i]);
    curve[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = Math.max(hi - lo, 1e-6);
  for (let i = 0; i < N_POINTS; i++) {
    x[xo + i] = xs[i];
    x[xo + N_POINTS + i] = (ys[i] - lo) / span;
  }
  for (let i = 0; i < N_GRID; i++) {
    y[yo + i] = GRID[i];
    y[yo + N_GRID + i] = (curve[i] - lo) / span;
  }
}

export function makeDataset(n: number, degree: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * IN_DIM);
  const y = new Float32Array(n * OUT_DIM);
  for (let i = 0; i < n; i++) writeExample(rng, degree, x, i * IN_DIM, y, i * OUT_DIM);
  return { n, x, y };
}

/** The first `k` examples of a dataset (the fixed examples shown in the plots). */
export function headOf(d: Dataset, k: number): Dataset {
  const n = Math.min(k, d.n);
  return { n, x: d.x.slice(0, n * IN_DIM), y: d.y.slice(0, n * OUT_DIM) };
}
