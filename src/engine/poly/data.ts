/**
 * The polynomial-fit task: 7 random points in [0,1]² → the least-squares polynomial of
 * degree d through them, sampled at 100 evenly spaced x. Points and curve are rescaled
 * together so the curve spans [0,1]. Input: 14 values (7 x, then 7 y); target: 200 values
 * (100 grid x, then 100 curve y).
 */
import { Rng } from '../core/rng';

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

/**
 * Least-squares polynomial coefficients (lowest power first): Householder QR of the
 * Vandermonde matrix in Float64. (The normal equations square the condition number and are
 * visibly wrong at degree ≥ 4 on 7 random points in [0,1].)
 */
export function polyfit(xs: ArrayLike<number>, ys: ArrayLike<number>, degree: number): Float64Array {
  const n = xs.length;
  const m = degree + 1;
  if (n < m) throw new Error(`polyfit: ${n} points cannot determine a degree-${degree} polynomial`);
  // Column-major Vandermonde matrix V (n × m) and right-hand side r, reduced in place to R and Qᵀy.
  const V = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    let p = 1;
    for (let k = 0; k < m; k++, p *= xs[i]) V[k * n + i] = p;
  }
  const r = Float64Array.from(ys);
  const u = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    const col = k * n;
    let alpha = 0;
    for (let i = k; i < n; i++) alpha += V[col + i] * V[col + i];
    alpha = Math.sqrt(alpha);
    if (alpha === 0) continue;
    if (V[col + k] > 0) alpha = -alpha; // reflect away from the diagonal entry's sign (no cancellation)
    // Householder vector u = a − α·e_k, applied as H = I − 2uuᵀ/(uᵀu).
    let uu = 0;
    for (let i = k; i < n; i++) {
      u[i] = V[col + i] - (i === k ? alpha : 0);
      uu += u[i] * u[i];
    }
    const apply = (vec: Float64Array, off: number) => {
      let d = 0;
      for (let i = k; i < n; i++) d += u[i] * vec[off + i];
      const f = (2 * d) / uu;
      for (let i = k; i < n; i++) vec[off + i] -= f * u[i];
    };
    for (let c = k; c < m; c++) apply(V, c * n);
    apply(r, 0);
  }
  const coef = new Float64Array(m);
  for (let k = m - 1; k >= 0; k--) {
    let t = r[k];
    for (let c = k + 1; c < m; c++) t -= V[c * n + k] * coef[c];
    coef[k] = t / V[k * n + k];
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
