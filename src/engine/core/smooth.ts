/**
 * AWQ and SmoothQuant (reference: formats.md "AWQ and SmoothQuant"): a positive scale s_j per
 * input channel j of a linear layer y = x·W (W stored [in, out]) such that x·W = (x/s)·(diag(s)·W).
 * The scaled weights diag(s)·W are quantized and the activations x/s (what the quantizer sees);
 * the lab keeps the layer in its original space as diag(1/s)·Q(diag(s)·W) and s·Qa(x/s)
 * (quantizers' own arithmetic; the same numbers as folding 1/s into the previous layer, up to float rounding).
 *
 * - SmoothQuant (mit-han-lab/smoothquant smooth.py): s_j = max|x_j|^α / max_k|W_jk|^(1−α), both
 *   maxima clamped at 1e-5 and s at 1e-5.
 * - AWQ (mit-han-lab/llm-awq auto_scale.py): s_j = mean|x_j|^α clamped at 1e-4, divided by
 *   √(max s · min s); α on llm-awq's grid k/20, k = 0 … 19; the α minimizing the layer's output
 *   error ‖x·(diag(1/s)·Q(diag(s)·W)) − x·W‖² over the calibration inputs, i.e. Σ_out Δᵀ·H·Δ
 *   with H = XᵀX (the first minimum kept). Weights only: activations in full precision for the search.
 *   Pure host code (Float64); the quantizer is the caller's (RTN of the layer's spec).
 */
import { proxyError } from './gptq/gptq';

/** Per input channel statistics of a layer's calibration inputs, and H = XᵀX (Float64, in × in). */
export interface InputStats {
  /** mean over calibration rows of |x_j|. */
  meanAbs: Float64Array;
  /** max over calibration rows of |x_j|. */
  maxAbs: Float64Array;
  /** Σ_rows x·xᵀ (only needed by AWQ). */
  H: Float64Array;
  rows: number;
}

/** Input statistics of rows X (n × inDim, row-major). */
export function inputStats(X: ArrayLike<number>, n: number, inDim: number, withH = true): InputStats {
  const meanAbs = new Float64Array(inDim);
  const maxAbs = new Float64Array(inDim);
  const H = new Float64Array(withH ? inDim * inDim : 0);
  for (let t = 0; t < n; t++) {
    const o = t * inDim;
    for (let i = 0; i < inDim; i++) {
      const a = Math.abs(X[o + i]);
      meanAbs[i] += a;
      if (a > maxAbs[i]) maxAbs[i] = a;
      if (withH && X[o + i] !== 0) {
        const xi = X[o + i];
        for (let j = 0; j < inDim; j++) H[i * inDim + j] += xi * X[o + j];
      }
    }
  }
  for (let i = 0; i < inDim; i++) meanAbs[i] /= Math.max(n, 1);
  return { meanAbs, maxAbs, H, rows: n };
}

/** Add `b`'s statistics into `a` (same layer, more calibration rows). */
export function mergeStats(a: InputStats, b: InputStats): InputStats {
  const n = a.rows + b.rows;
  const meanAbs = a.meanAbs.map((m, i) => (m * a.rows + b.meanAbs[i] * b.rows) / Math.max(n, 1));
  const maxAbs = a.maxAbs.map((m, i) => Math.max(m, b.maxAbs[i]));
  const H = a.H.map((h, i) => h + b.H[i]);
  return { meanAbs, maxAbs, H, rows: n };
}

/** max_k |W_jk| per input channel j of W [in, out]. */
export function weightRowMaxAbs(w: ArrayLike<number>, shape: readonly [number, number]): Float64Array {
  const [inDim, outDim] = shape;
  const out = new Float64Array(inDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) out[i] = Math.max(out[i], Math.abs(w[i * outDim + j]));
  return out;
}

export const SQ_CLAMP = 1e-5;

/** SmoothQuant's scales s_j = max|x_j|^α / max|W_j,:|^(1−α). */
export function smoothQuantScales(actMax: ArrayLike<number>, w: ArrayLike<number>, shape: readonly [number, number], alpha: number): Float32Array {
  const wMax = weightRowMaxAbs(w, shape);
  return Float32Array.from({ length: shape[0] }, (_, j) =>
    Math.max(Math.max(actMax[j], SQ_CLAMP) ** alpha / Math.max(wMax[j], SQ_CLAMP) ** (1 - alpha), SQ_CLAMP),
  );
}

/** Rows of W [in, out] times s (or divided by s): diag(s)·W. */
export function scaleRows(w: ArrayLike<number>, shape: readonly [number, number], s: ArrayLike<number>, divide = false): Float32Array {
  const [inDim, outDim] = shape;
  const out = new Float32Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) out[i * outDim + j] = divide ? w[i * outDim + j] / s[i] : w[i * outDim + j] * s[i];
  return out;
}

/** The layer's weight in its original space after quantizing in the scaled space: diag(1/s)·Q(diag(s)·W). */
export function quantizeScaled(
  w: ArrayLike<number>,
  shape: readonly [number, number],
  s: ArrayLike<number>,
  quantize: (w: Float32Array) => ArrayLike<number>,
): Float32Array {
  return scaleRows(quantize(scaleRows(w, shape, s)), shape, s, true);
}

export const AWQ_GRID = 20;
export const AWQ_CLAMP = 1e-4;

/** AWQ's scales for one α: mean|x|^α clamped at 1e-4, normalized by √(max·min). */
export function awqScales(meanAbs: ArrayLike<number>, alpha: number): Float32Array {
  const s = Float64Array.from({ length: meanAbs.length }, (_, j) => Math.max(meanAbs[j] ** alpha, AWQ_CLAMP));
  let mx = 0;
  let mn = Infinity;
  for (const v of s) {
    mx = Math.max(mx, v);
    mn = Math.min(mn, v);
  }
  const norm = Math.sqrt(mx * mn);
  return Float32Array.from(s, (v) => v / norm);
}

export interface AwqResult {
  scales: Float32Array;
  alpha: number;
  /** The output error Σ_out Δᵀ·H·Δ at every α of the grid (k/20). */
  errors: number[];
}

/** AWQ's search of α on the grid k/20 (k = 0 … 19) for one layer. */
export function awqSearch(
  stats: InputStats,
  w: ArrayLike<number>,
  shape: readonly [number, number],
  quantize: (w: Float32Array) => ArrayLike<number>,
): AwqResult {
  const errors: number[] = [];
  let best: { scales: Float32Array; alpha: number; err: number } = { scales: new Float32Array(0), alpha: 0, err: Infinity };
  for (let k = 0; k < AWQ_GRID; k++) {
    const alpha = k / AWQ_GRID;
    const s = awqScales(stats.meanAbs, alpha);
    const err = proxyError(w, quantizeScaled(w, shape, s, quantize), shape, stats.H);
    errors.push(err);
    if (err < best.err) best = { scales: s, alpha, err };
  }
  return { scales: best.scales, alpha: best.alpha, errors };
}

/** A layer's smoothing scales under `method` (null for none). */
export function smoothingScales(
  method: 'awq' | 'smoothquant',
  stats: InputStats,
  w: ArrayLike<number>,
  shape: readonly [number, number],
  alpha: number,
  quantize: (w: Float32Array) => ArrayLike<number>,
): { scales: Float32Array; alpha: number } {
  if (method === 'smoothquant') return { scales: smoothQuantScales(stats.maxAbs, w, shape, alpha), alpha };
  const r = awqSearch(stats, w, shape, quantize);
  return { scales: r.scales, alpha: r.alpha };
}

/**
 * GPTQ in the scaled space: W' = diag(s)·W, H' = diag(1/s)·H·diag(1/s) (the inputs x/s), and the
 * result back in the original space. `run` is the GPTQ of (W', H').
 */
export function scaledHessian(H: Float64Array, s: ArrayLike<number>): Float64Array {
  const n = s.length;
  const out = new Float64Array(H.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = H[i * n + j] / (s[i] * s[j]);
  return out;
}
