/**
 * Dense Float64 linear algebra for GPTQ (tfjs has no Cholesky): row-major n×n matrices.
 */

/** Lower Cholesky factor L (A = L·Lᵀ) from the lower triangle of A; null if A is not (numerically) positive definite or has NaN. */
export function choleskyLower(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = A[rj + j];
    for (let k = 0; k < j; k++) s -= L[rj + k] * L[rj + k];
    if (!(s > 0) || !Number.isFinite(s)) return null;
    const d = Math.sqrt(s);
    L[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = A[ri + j];
      for (let k = 0; k < j; k++) t -= L[ri + k] * L[rj + k];
      L[ri + j] = t / d;
    }
  }
  return L;
}

/** Inverse of a lower-triangular matrix (lower-triangular), row by row: X_i = (e_i − Σ_{k<i} L_ik·X_k)/L_ii. */
export function invertLower(L: Float64Array, n: number): Float64Array {
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const l = L[ri + k];
      if (l === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) X[ri + j] -= l * X[rk + j];
    }
    const d = L[ri + i];
    for (let j = 0; j < i; j++) X[ri + j] /= d;
    X[ri + i] = 1 / d;
  }
  return X;
}

/**
 * Σ_r d_rᵀ·H·d_r over the rows of D (rows × n, row-major), H symmetric n × n. Four rows share
 * each pass over H (memory-bound otherwise).
 */
export function sumQuadForms(D: Float64Array, rows: number, H: Float64Array, n: number): number {
  const zero = new Float64Array(n);
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += 4) {
    const row = (k: number) => (r0 + k < rows ? D.subarray((r0 + k) * n, (r0 + k + 1) * n) : zero);
    const [d0, d1, d2, d3] = [row(0), row(1), row(2), row(3)];
    for (let a = 0; a < n; a++) {
      const ha = a * n;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let b = 0; b < n; b++) {
        const h = H[ha + b];
        t0 += h * d0[b];
        t1 += h * d1[b];
        t2 += h * d2[b];
        t3 += h * d3[b];
      }
      total += d0[a] * t0 + d1[a] * t1 + d2[a] * t2 + d3[a] * t3;
    }
  }
  return total;
}

/** A⁻¹ from A's lower Cholesky factor (torch.cholesky_inverse): L⁻ᵀ·L⁻¹, symmetric. */
export function choleskyInverse(L: Float64Array, n: number): Float64Array {
  const X = invertLower(L, n);
  const A = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let a = 0; a <= k; a++) {
      const xa = X[rk + a];
      if (xa === 0) continue;
      const ra = a * n;
      for (let b = 0; b <= a; b++) A[ra + b] += xa * X[rk + b];
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) A[b * n + a] = A[a * n + b];
  return A;
}

/**
 * GPTQ's inverse-Hessian factor: U upper-triangular with H⁻¹ = Uᵀ·U, computed as gptq.py does:
 * cholesky(cholesky_inverse(cholesky(H)), upper=True). null when a factorization fails.
 */
export function hinvUpper(H: Float64Array, n: number): Float64Array | null {
  const L = choleskyLower(H, n);
  if (!L) return null;
  const Hinv = choleskyInverse(L, n);
  const L2 = choleskyLower(Hinv, n);
  if (!L2) return null;
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) U[j * n + i] = L2[i * n + j];
  return U;
}

/**
 * Running Hessian of a linear layer's inputs, as gptq.py add_batch: after all batches
 * H = (2/N)·Σ x·xᵀ over the N input rows seen (rows of X are samples).
 */
export class HessianAccumulator {
  readonly H: Float64Array;
  count = 0;
  constructor(readonly cols: number) {
    this.H = new Float64Array(cols * cols);
  }
  /** Adds `rows` samples; X is rows × cols, row-major. */
  add(X: ArrayLike<number>, rows: number): void {
    const c = this.cols;
    if (X.length !== rows * c) throw new Error(`Hessian batch has ${X.length} values, ${rows}×${c} expected`);
    if (rows === 0) return;
    const H = this.H;
    const n = this.count + rows;
    const keep = this.count / n;
    const f = 2 / n;
    // Σ x·xᵀ as dot products of the columns of X (transposed once: contiguous, cache-friendly).
    const Xt = new Float64Array(c * rows);
    for (let t = 0; t < rows; t++) for (let a = 0; a < c; a++) Xt[a * rows + t] = X[t * c + a];
    const acc = new Float64Array(c * c);
    for (let a = 0; a < c; a++) {
      const xa = Xt.subarray(a * rows, (a + 1) * rows);
      for (let b = 0; b <= a; b++) {
        const xb = Xt.subarray(b * rows, (b + 1) * rows);
        let s = 0;
        for (let t = 0; t < rows; t++) s += xa[t] * xb[t];
        acc[a * c + b] = s;
      }
    }
    for (let a = 0; a < c; a++)
      for (let b = 0; b <= a; b++) {
        const v = H[a * c + b] * keep + f * acc[a * c + b];
        H[a * c + b] = v;
        H[b * c + a] = v;
      }
    this.count = n;
  }
}

/** H = 2·XᵀX/n for X (n × cols, row-major). */
export function hessian(X: ArrayLike<number>, n: number, cols: number): Float64Array {
  const acc = new HessianAccumulator(cols);
  acc.add(X, n);
  return acc.H;
}
