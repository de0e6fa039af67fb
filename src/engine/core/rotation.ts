/**
 * Randomized Walsh–Hadamard rotations (QuaRot-style), ../shared/reference/formats.md "Rotations":
 * H = (1/√n)·Hadamard_n·diag(s), s ∈ {±1}ⁿ from a seeded stream, Hadamard_n Sylvester's
 * (entry (i, j) = (−1)^popcount(i & j)), n a power of two. H is orthogonal, so a linear layer
 * y = x·W (W stored [in, out]) equals (x·H)·(Hᵀ·W): quantizing Hᵀ·W instead of W leaves the
 * full-precision function unchanged and spreads an outlier input over all n rotated inputs.
 *
 * A layer whose input width is not a power of two is padded with zero inputs to the next one
 * (the reference's "pad"): R = the first `in` rows of H (in × n, orthonormal rows, R·Rᵀ = I),
 * the rotated weight Rᵀ·W is n × out, and x·W = (x·R)·(Rᵀ·W) still holds exactly. Its storage
 * counts the n rotated rows.
 *
 * Host transforms use the fast Walsh–Hadamard transform (O(n log n) per vector, Float64); the
 * forward pass multiplies by R as a cached device matrix (rotation-tf.ts). No tfjs here.
 */
import { Rng } from './rng';

/** What rotates a layer's input space: its input width, the padded size n (a power of two) and the sign seed. */
export interface Rotation {
  inDim: number;
  n: number;
  seed: number;
}

/** The smallest power of two ≥ k. */
export function nextPow2(k: number): number {
  let n = 1;
  while (n < k) n *= 2;
  return n;
}

/** The rotation of a layer with `inDim` inputs under `seed`. */
export function rotationOf(inDim: number, seed: number): Rotation {
  if (!Number.isInteger(inDim) || inDim < 1) throw new Error(`rotation: the input width must be a positive integer, got ${inDim}`);
  return { inDim, n: nextPow2(inDim), seed };
}

/** The random signs s of a size-n rotation (depend on n and the seed only: every layer of that width shares one H). */
export function rotationSigns(n: number, seed: number): Float64Array {
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) + n) >>> 0);
  return Float64Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
}

/** In-place unnormalized fast Walsh–Hadamard transform of v[off … off + n·stride) with the given stride (Sylvester order). */
function fwht(v: Float64Array, n: number, off = 0, stride = 1): void {
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = off + j * stride;
        const b = off + (j + h) * stride;
        const x = v[a];
        const y = v[b];
        v[a] = x + y;
        v[b] = x - y;
      }
    }
  }
}

/** The dense matrix R (in × n, row-major): the first `in` rows of H = (1/√n)·Hadamard_n·diag(s). */
export function rotationMatrix(r: Rotation): Float64Array {
  const { inDim, n } = r;
  const s = rotationSigns(n, r.seed);
  const out = new Float64Array(inDim * n);
  const k = 1 / Math.sqrt(n);
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < n; j++) {
      let p = i & j;
      let par = 0;
      while (p) {
        par ^= 1;
        p &= p - 1;
      }
      out[i * n + j] = (par ? -k : k) * s[j];
    }
  }
  return out;
}

/**
 * Rᵀ·W for W [in, cols] row-major: the rotated weight [n, cols] (rows = the rotated inputs).
 * Per column: pad to n, Hadamard (H symmetric), scale 1/√n, multiply by s.
 */
export function rotateRows(w: ArrayLike<number>, cols: number, r: Rotation): Float64Array {
  const { inDim, n } = r;
  if (w.length !== inDim * cols) throw new Error(`rotateRows: ${w.length} values are not ${inDim} × ${cols}`);
  const s = rotationSigns(n, r.seed);
  const out = new Float64Array(n * cols);
  for (let i = 0; i < inDim * cols; i++) out[i] = w[i];
  const k = 1 / Math.sqrt(n);
  for (let c = 0; c < cols; c++) fwht(out, n, c, cols);
  for (let i = 0; i < n; i++) for (let c = 0; c < cols; c++) out[i * cols + c] *= k * s[i];
  return out;
}

/** R·Q for Q [n, cols]: back to the layer's own input basis, [in, cols] (inverse of rotateRows when in = n). */
export function unrotateRows(q: ArrayLike<number>, cols: number, r: Rotation): Float64Array {
  const { inDim, n } = r;
  if (q.length !== n * cols) throw new Error(`unrotateRows: ${q.length} values are not ${n} × ${cols}`);
  const s = rotationSigns(n, r.seed);
  const k = 1 / Math.sqrt(n);
  const t = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) for (let c = 0; c < cols; c++) t[i * cols + c] = q[i * cols + c] * s[i] * k;
  for (let c = 0; c < cols; c++) fwht(t, n, c, cols);
  return t.slice(0, inDim * cols);
}

/** Rᵀ·A·R for a symmetric A [in, in] (a Hessian 2XᵀX/N of the layer's inputs): that of the rotated inputs X·R, [n, n]. */
export function rotateSymmetric(a: ArrayLike<number>, r: Rotation): Float64Array {
  const { inDim, n } = r;
  const left = rotateRows(a, inDim, r); // Rᵀ·A: [n, in]
  const tr = new Float64Array(inDim * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < inDim; j++) tr[j * n + i] = left[i * inDim + j];
  const both = rotateRows(tr, n, r); // Rᵀ·(Rᵀ·A)ᵀ = Rᵀ·A·R (A symmetric): [n, n]
  return both;
}

/**
 * Excess kurtosis (Fisher: E[(x−μ)⁴]/σ⁴ − 3; 0 for a Gaussian, 1.8 − 3 = −1.2 for a uniform) and
 * the outlier ratio max|x|/σ of a set of values, σ the population standard deviation. Zero spread
 * gives kurtosis 0 and ratio 0.
 */
export function tailStats(v: ArrayLike<number>): { kurtosis: number; maxOverStd: number } {
  const n = v.length;
  if (n === 0) return { kurtosis: 0, maxOverStd: 0 };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
    amax = Math.max(amax, Math.abs(v[i]));
  }
  m2 /= n;
  m4 /= n;
  if (!(m2 > 0)) return { kurtosis: 0, maxOverStd: 0 };
  return { kurtosis: m4 / (m2 * m2) - 3, maxOverStd: amax / Math.sqrt(m2) };
}
