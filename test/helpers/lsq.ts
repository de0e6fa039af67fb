/**
 * An independent least-squares polynomial fit for checking src/engine/data.ts: Householder QR
 * on the Vandermonde matrix in Float64 (no normal equations, no ridge), so it stays accurate
 * where VᵀV is ill-conditioned (degree 6 through 7 close points).
 */
export function qrPolyfit(xs: ArrayLike<number>, ys: ArrayLike<number>, degree: number): Float64Array {
  const n = xs.length;
  const m = degree + 1;
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, k) => xs[i] ** k));
  const b = Array.from(ys);
  for (let j = 0; j < m; j++) {
    let norm = 0;
    for (let i = j; i < n; i++) norm += A[i][j] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const v = new Float64Array(n);
    for (let i = j; i < n; i++) v[i] = A[i][j];
    v[j] -= A[j][j] > 0 ? -norm : norm;
    let vv = 0;
    for (let i = j; i < n; i++) vv += v[i] ** 2;
    if (vv === 0) continue;
    for (let c = j; c < m; c++) {
      let s = 0;
      for (let i = j; i < n; i++) s += v[i] * A[i][c];
      s = (2 * s) / vv;
      for (let i = j; i < n; i++) A[i][c] -= s * v[i];
    }
    let s = 0;
    for (let i = j; i < n; i++) s += v[i] * b[i];
    s = (2 * s) / vv;
    for (let i = j; i < n; i++) b[i] -= s * v[i];
  }
  const coef = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < m; c++) s -= A[r][c] * coef[c];
    coef[r] = s / A[r][r];
  }
  return coef;
}
