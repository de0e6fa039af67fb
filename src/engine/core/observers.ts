/**
 * Activation observers: the clipping value (amax) of a static per-tensor activation quantizer,
 * from the calibration activations. Pure host code (Float64 arithmetic), exact on what it is given.
 *
 * - minmax: max |x| over every calibration value.
 * - percentile p: the p-th percentile of |x| with linear interpolation between order statistics
 *   (numpy's default 'linear' method): with |x| sorted ascending as a_0 … a_{n−1}, r = p/100·(n−1),
 *   amax = a_⌊r⌋ + (r − ⌊r⌋)·(a_⌈r⌉ − a_⌊r⌋).
 * - mse: the clipping value c = max|x|·(1 − i/100), i = 0 … 79 (GPTQ quant.py's grid: grid 100,
 *   maxshrink 0.8), minimizing Σ (Q_c(x) − x)² (squared error, the first minimum kept); over at
 *   most MSE_SAMPLE values (a fixed stride through them when there are more).
 * - ema: over the calibration batches in order, m_1 = max |x| of batch 1,
 *   m_k = decay·m_{k−1} + (1 − decay)·max |x| of batch k (PyTorch's MovingAverageMinMaxObserver with
 *   averaging_constant = 1 − decay, symmetric).
 */
import { E4M3, E5M2, roundHalfEven, roundToFormat } from './quantizers/formats';
import type { ActConfig } from './config';

export const MSE_GRID = 100;
export const MSE_MAXSHRINK = 0.8;
/** The MSE search runs on at most this many values (a fixed stride through the calibration values). */
export const MSE_SAMPLE = 1 << 18;
/** The scale floors of the quantizers (quant.ts SCALE_EPS for int; the formats' 1e-8). */
export const INT_AMAX_EPS = 1e-5;
export const FP8_SCALE_EPS = 1e-8;

type Values = ArrayLike<number>;

export function maxAbs(xs: Values): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) {
    const a = Math.abs(xs[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** The p-th percentile (0–100) of |x|, linear interpolation between order statistics. */
export function percentileAbs(xs: Values, p: number): number {
  const n = xs.length;
  if (n === 0) return 0;
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.abs(xs[i]);
  a.sort();
  const r = (p / 100) * (n - 1);
  const lo = Math.floor(r);
  const hi = Math.min(lo + 1, n - 1);
  return a[lo] + (r - lo) * (a[hi] - a[lo]);
}

/** The activation quantizer on one value (Float64): symmetric int of `bits`, or FP8, with clipping value `amax`. */
export function actQuantValue(x: number, amax: number, bits: number, format: ActConfig['format']): number {
  if (format === 'int') {
    const qp = 2 ** (bits - 1) - 1;
    const s = qp / Math.max(amax, INT_AMAX_EPS);
    return Math.min(Math.max(roundHalfEven(x * s), -(qp + 1)), qp) / s;
  }
  const f = format === 'fp8-e4m3' ? E4M3 : E5M2;
  const scale = Math.max(amax / f.max, FP8_SCALE_EPS);
  return roundToFormat(x / scale, f) * scale;
}

/** Every `stride`-th value, so at most `max` of them. */
function strided(xs: Values, max: number): Values {
  if (xs.length <= max) return xs;
  const stride = Math.ceil(xs.length / max);
  const out = new Float64Array(Math.ceil(xs.length / stride));
  for (let i = 0, k = 0; i < xs.length; i += stride, k++) out[k] = xs[i];
  return out;
}

/** The MSE observer: the clipping value on GPTQ's shrink grid minimizing the squared quantization error. */
export function mseAmax(xs: Values, bits: number, format: ActConfig['format']): number {
  const v = strided(xs, MSE_SAMPLE);
  const top = maxAbs(v);
  if (top === 0) return 0;
  let best = Infinity;
  let bestC = top;
  for (let i = 0; i < Math.floor(MSE_MAXSHRINK * MSE_GRID); i++) {
    const c = top * (1 - i / MSE_GRID);
    let err = 0;
    for (let k = 0; k < v.length; k++) {
      const d = actQuantValue(v[k], c, bits, format) - v[k];
      err += d * d;
    }
    if (err < best) {
      best = err;
      bestC = c;
    }
  }
  return bestC;
}

/** The EMA observer over per-batch max |x| (in order). */
export function emaAmax(batchMax: readonly number[], decay: number): number {
  if (!batchMax.length) return 0;
  let m = batchMax[0];
  for (let k = 1; k < batchMax.length; k++) m = decay * m + (1 - decay) * batchMax[k];
  return m;
}

/**
 * The observer's amax for the calibration activations given as batches (EMA uses the batches;
 * the others pool every value). `bits` and `format` are the quantizer's (the MSE search uses them).
 */
export function observeAmax(batches: readonly Values[], a: Pick<ActConfig, 'observer' | 'percentile' | 'emaDecay' | 'format'>, bits: number): number {
  if (a.observer === 'ema') return emaAmax(batches.map(maxAbs), a.emaDecay);
  if (a.observer === 'minmax') return Math.max(0, ...batches.map(maxAbs));
  const n = batches.reduce((s, b) => s + b.length, 0);
  const all = new Float64Array(n);
  let o = 0;
  for (const b of batches) for (let i = 0; i < b.length; i++) all[o++] = b[i];
  if (a.observer === 'percentile') return percentileAbs(all, a.percentile);
  if (a.observer === 'mse') return mseAmax(all, bits, a.format);
  throw new Error(`observeAmax: "${a.observer}" is not a static observer`);
}
