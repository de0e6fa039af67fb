/**
 * Scalar core of the zoo: fit one group's quantizer (scale / zero point / levels / float-format
 * scale) from its values, and quantize a value with it. Shared by the Float32Array RTN path (precision F32:
 * every operation rounded to float32 in the same order as the tfjs ops in tf.ts, so the two
 * agree bit for bit on the cpu backend) and by GPTQ (precision F64).
 */
import { formatInfo, mxScale, nvBlockScale, nvTensorScale, roundHalfEven, roundToFormat, type ElementFormat } from './formats';
import { kmeans1d, type KmeansOptions } from './kmeans';
import { MSE_GRID, MSE_MAXSHRINK, MSE_NORM, NF4_LEVELS, NF4_MIDPOINTS, SCALE_MIN, TERNARY_EPS, type QuantizerSpec } from './spec';

export { roundHalfEven } from './formats';

/** Rounds an intermediate result to the working precision. */
export type Precision = (x: number) => number;
export const F32: Precision = Math.fround;
export const F64: Precision = (x) => x;

/** A fitted quantizer for one group (one output channel, one group, one block or a tensor). */
export type GroupQuant =
  /** x̂ = (clamp(round(x/s) + z, qmin, qmax) − z)·s  (sym-narrow, sym-full, asym, ternary). */
  | { kind: 'uniform'; scale: number; zero: number; qmin: number; qmax: number }
  /** x̂ = +α for x ≥ 0, −α otherwise. */
  | { kind: 'binary'; alpha: number }
  /** NF4: x̂ = level[#(mid < clamp(x/a, −1, 1))]·a. */
  | { kind: 'nf4'; absmax: number }
  /** Codebook: x̂ = level[#(mid < x)] (levels ascending). */
  | { kind: 'codebook'; levels: Float64Array; mids: Float64Array }
  /**
   * A float format (formats.ts): x̂ = fmt(x/scale)·scale, rounded to nearest even on the element grid,
   * saturating; scale 0 (an NVFP4 block whose E4M3 scale is 0) → ±0, NaN scale → NaN.
   */
  | { kind: 'float'; fmt: ElementFormat; scale: number };

/** Number of sorted `mids` strictly below y (torch.bucketize, right=False). */
export function bucket(mids: ArrayLike<number>, y: number): number {
  let lo = 0;
  let hi = mids.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (mids[m] < y) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export function quantizeValue(g: GroupQuant, x: number, F: Precision): number {
  switch (g.kind) {
    case 'uniform': {
      const r = roundHalfEven(F(x / g.scale)) + g.zero;
      const q = r < g.qmin ? g.qmin : r > g.qmax ? g.qmax : r;
      return F((q - g.zero) * g.scale);
    }
    case 'binary':
      return x >= 0 ? g.alpha : -g.alpha;
    case 'nf4': {
      let y = F(x / g.absmax);
      y = y < -1 ? -1 : y > 1 ? 1 : y;
      return F(NF4_LEVELS[bucket(NF4_MIDPOINTS, y)] * g.absmax);
    }
    case 'codebook':
      return g.levels[bucket(g.mids, x)];
    case 'float':
      if (g.scale === 0) return x < 0 ? -0 : 0;
      return F(roundToFormat(F(x / g.scale), g.fmt) * g.scale);
  }
}

/** Integer range and scale denominator of the uniform schemes. */
export function uniformRange(spec: Pick<QuantizerSpec, 'scheme' | 'bits'>): { qmin: number; qmax: number; den: number } {
  const b = spec.bits;
  switch (spec.scheme) {
    case 'sym-narrow':
      return { qmin: -(2 ** (b - 1) - 1), qmax: 2 ** (b - 1) - 1, den: 2 ** (b - 1) - 1 };
    case 'sym-full':
      return { qmin: -(2 ** (b - 1)), qmax: 2 ** (b - 1) - 1, den: (2 ** b - 1) / 2 };
    case 'asym':
      return { qmin: 0, qmax: 2 ** b - 1, den: 2 ** b - 1 };
    default:
      throw new Error(`${spec.scheme} is not a uniform integer scheme`);
  }
}

/** Group statistics, accumulated in the order given (sums in double, as tfjs' cpu Sum). */
interface Stats {
  amax: number;
  min: number;
  max: number;
  sumAbs: number;
  /** Whether every value is finite. */
  finite: boolean;
}
function stats(v: ArrayLike<number>, n: number): Stats {
  let amax = 0;
  let min = Infinity;
  let max = -Infinity;
  let sumAbs = 0;
  let finite = true;
  for (let t = 0; t < n; t++) {
    const x = v[t];
    const a = Math.abs(x);
    if (a > amax) amax = a;
    if (x < min) min = x;
    if (x > max) max = x;
    sumAbs += a;
    if (!Number.isFinite(x)) finite = false;
  }
  return { amax, min, max, sumAbs, finite };
}

/** max |x| over all of `v`, NaN when any value is not finite (NVFP4's tensor amax). */
export function absMax(v: ArrayLike<number>): number {
  const st = stats(v, v.length);
  return st.finite ? st.amax : NaN;
}

/** The 'float' quantizer of one scale group of a format scheme (formats.ts's rules). */
function fitFormat(spec: QuantizerSpec, st: Stats, F: Precision, tensorAmax: number | undefined): GroupQuant {
  const info = formatInfo(spec.scheme);
  if (!info) throw new Error(`${spec.scheme} is not a format scheme`);
  const fmt = info.elem;
  if (!st.finite) return { kind: 'float', fmt, scale: NaN };
  switch (info.kind) {
    case 'fp8':
      return { kind: 'float', fmt, scale: Math.max(F(st.amax / fmt.max), F(SCALE_MIN)) };
    case 'mx':
      return { kind: 'float', fmt, scale: mxScale(st.amax, fmt) };
    case 'nv': {
      if (tensorAmax === undefined) throw new Error('nvfp4 needs the tensor amax (its FP32 tensor scale) to fit a block');
      const sTensor = nvTensorScale(tensorAmax, F, SCALE_MIN);
      return { kind: 'float', fmt, scale: F(sTensor * nvBlockScale(st.amax, sTensor, F)) };
    }
  }
}

/** The uniform / nf4 candidate for shrink factor p (p = 1: plain min-max / absmax). */
function candidate(spec: QuantizerSpec, st: Stats, p: number, F: Precision): GroupQuant {
  const smin = F(SCALE_MIN);
  if (spec.scheme === 'nf4') return { kind: 'nf4', absmax: Math.max(F(p * st.amax), smin) };
  const { qmin, qmax, den } = uniformRange(spec);
  if (spec.scheme === 'asym') {
    const xmin = F(p * Math.min(st.min, 0));
    const xmax = F(p * Math.max(st.max, 0));
    const scale = Math.max(F(F(xmax - xmin) / den), smin);
    return { kind: 'uniform', scale, zero: roundHalfEven(F(-xmin / scale)), qmin, qmax };
  }
  return { kind: 'uniform', scale: Math.max(F(F(p * st.amax) / den), smin), zero: 0, qmin, qmax };
}

/** Σ |Q(x) − x|^2.4 over the group (F-rounded like tf.sum(tf.pow(tf.abs(q − x), 2.4))). */
function normErr(g: GroupQuant, v: ArrayLike<number>, n: number, F: Precision): number {
  const e = F(MSE_NORM);
  let s = 0;
  for (let t = 0; t < n; t++) s += F(Math.pow(F(Math.abs(F(quantizeValue(g, v[t], F) - v[t]))), e));
  return F(s);
}

/** The shrink factors searched by clip 'mse': 1, 0.99, …, 0.21 (in the working precision). */
export function shrinkFactors(F: Precision): number[] {
  const count = Math.floor(MSE_MAXSHRINK * MSE_GRID);
  return Array.from({ length: count }, (_, i) => F(1 - i / MSE_GRID));
}

export interface FitResult {
  quant: GroupQuant;
  /** kmeans only: distortion history (non-increasing). */
  history?: number[];
}

/**
 * Fit the quantizer of one group from its first `n` values `v` (in accumulation order). nvfp4
 * also needs `tensorAmax`, max |w| over the whole tensor (absMax), for its FP32 tensor scale.
 */
export function fitGroup(spec: QuantizerSpec, v: ArrayLike<number>, n: number, F: Precision, kopts?: KmeansOptions, tensorAmax?: number): FitResult {
  if (spec.scheme === 'kmeans') {
    const r = kmeans1d(n === v.length ? v : Array.prototype.slice.call(v, 0, n), 2 ** spec.bits, kopts);
    const levels = r.centroids.map(F).sort();
    const mids = new Float64Array(Math.max(0, levels.length - 1));
    for (let k = 0; k < mids.length; k++) mids[k] = F(F(levels[k] + levels[k + 1]) / 2);
    return { quant: { kind: 'codebook', levels, mids }, history: r.history };
  }
  const st = stats(v, n);
  if (formatInfo(spec.scheme)) return { quant: fitFormat(spec, st, F, tensorAmax) };
  if (spec.scheme === 'ternary') {
    const gamma = Math.max(F(F(st.sumAbs) / n), F(TERNARY_EPS));
    return { quant: { kind: 'uniform', scale: gamma, zero: 0, qmin: -1, qmax: 1 } };
  }
  if (spec.scheme === 'binary') return { quant: { kind: 'binary', alpha: n > 0 ? F(F(st.sumAbs) / n) : 0 } };
  if (spec.clip === 'none') return { quant: candidate(spec, st, 1, F) };
  let best = Infinity;
  let bestQ = candidate(spec, st, 1, F);
  for (const p of shrinkFactors(F)) {
    const g = candidate(spec, st, p, F);
    const err = normErr(g, v, n, F);
    if (err < best) {
      best = err;
      bestQ = g;
    }
  }
  return { quant: bestQ };
}
