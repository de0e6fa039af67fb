/**
 * The zoo as tfjs ops, for the training forward pass: quantizeTensor (value only) and
 * fakeQuant (value = quantized, gradient = identity straight-through, via customOp).
 * Weights are [in, out]. Every op mirrors core.ts step by step, so on the cpu backend the
 * result equals quantizeWeights() bit for bit (the float formats on wasm too). No readbacks: safe on WebGPU.
 * The format schemes run as one fused kernel instead (kernels/formats.ts) unless the fused kernels
 * are switched off (setFusedKernels(false): this chain, which the kernels are checked against).
 *
 * kmeans needs its codebook (fit on the host with quantizeWeights, refreshed by the caller as
 * often as it likes): a [2^bits] tensor (tensor granularity) or [out, 2^bits] (row), ascending.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from '../ops';
import { fusedFormatQuant } from '../kernels';
import { shrinkFactors, uniformRange } from './core';
import { E2M1, E4M3, formatInfo, MX_MIN_EXP, type ElementFormat } from './formats';
import { checkSpec, groupsPerChannel, MSE_NORM, NF4_LEVELS, NF4_MIDPOINTS, SCALE_MIN, TERNARY_EPS, type QuantizerSpec } from './spec';

export interface TfQuantOptions {
  /** kmeans only: ascending centroids, [K] (tensor) or [out, K] (row). */
  codebook?: tf.Tensor;
}

/** A grouped view of w: statistics are reduced over `axes` (keepDims), `count` elements each. */
interface View {
  v: tf.Tensor;
  axes: number[];
  count: number | tf.Tensor;
  back: (x: tf.Tensor) => tf.Tensor;
}

function makeView(w: tf.Tensor2D, spec: QuantizerSpec): View {
  const [inDim, outDim] = w.shape;
  switch (spec.granularity) {
    case 'tensor':
      return { v: w, axes: [0, 1], count: inDim * outDim, back: (x) => x };
    case 'row':
      return { v: w, axes: [0], count: inDim, back: (x) => x };
    case 'group': {
      // A partial last group (block formats only) is padded with zeros: they change no absmax.
      const g = spec.groupSize as number;
      const ng = groupsPerChannel(spec, inDim);
      const pad = ng * g - inDim;
      const wp =
        pad > 0
          ? tf.pad(w, [
              [0, pad],
              [0, 0],
            ])
          : w;
      const back = (x: tf.Tensor) => {
        const r = tf.reshape(x, [ng * g, outDim]);
        return pad > 0 ? tf.slice(r, [0, 0], [inDim, outDim]) : r;
      };
      return { v: tf.reshape(wp, [ng, g, outDim]), axes: [1], count: g, back };
    }
    case 'block': {
      const b = spec.groupSize as number;
      const n = inDim * outDim;
      const nb = Math.ceil(n / b);
      const pad = nb * b - n;
      let flat = tf.reshape(tf.transpose(w), [n]);
      if (pad > 0) flat = tf.pad(flat, [[0, pad]]);
      const count =
        pad > 0
          ? tf.tensor2d(
              Float32Array.from({ length: nb }, (_, k) => (k < nb - 1 ? b : b - pad)),
              [nb, 1],
            )
          : b;
      const back = (x: tf.Tensor) => {
        let f = tf.reshape(x, [nb * b]);
        if (pad > 0) f = tf.slice(f, [0], [n]);
        return tf.transpose(tf.reshape(f, [outDim, inDim]));
      };
      return { v: tf.reshape(flat, [nb, b]), axes: [1], count, back };
    }
  }
}

/** (clamp(round(v/s) + z, qmin, qmax) − z)·s ; z omitted (0) for symmetric grids. */
function uniformQ(v: tf.Tensor, s: tf.Tensor, z: tf.Tensor | null, qmin: number, qmax: number): tf.Tensor {
  let r = tf.round(tf.div(v, s));
  if (z) r = tf.add(r, z);
  let q = tf.clipByValue(r, qmin, qmax);
  if (z) q = tf.sub(q, z);
  return tf.mul(q, s);
}

/**
 * #(mids < y) per element (int32, y's shape); `mids` [M] or broadcastable [..., M] on y's trailing
 * axes. Counted with a matMul by ones: a reduction over a tiny axis is several times slower on WebGPU.
 */
function countAbove(y: tf.Tensor, mids: tf.Tensor): tf.Tensor {
  const m = mids.shape[mids.rank - 1];
  const gt = tf.reshape(tf.cast(tf.greater(tf.expandDims(y, -1), mids), 'float32'), [-1, m]);
  return tf.cast(tf.reshape(tf.matMul(gt, tf.ones([m, 1])), y.shape), 'int32');
}

function nf4Q(v: tf.Tensor, a: tf.Tensor, mids: tf.Tensor, levels: tf.Tensor): tf.Tensor {
  const y = tf.clipByValue(tf.div(v, a), -1, 1);
  return tf.mul(tf.gather(levels, countAbove(y, mids)), a);
}

/** Veltkamp's constant 2^23 + 1: x·C − (x·C − x) is x rounded to one significant bit. */
const SPLIT1 = 2 ** 23 + 1;

/**
 * The largest power of two ≤ x, exactly, for x in [2^-126, 2^104): Veltkamp's split rounds x to
 * one significant bit (2^e or 2^(e+1), exact in any round-to-nearest float32 arithmetic), halved
 * when above x. No log, no gather (a gather costs ~15 multiplies on wasm), no bit casts.
 */
function floorPow2T(x: tf.Tensor): tf.Tensor {
  const t = tf.mul(x, SPLIT1);
  const hi = tf.sub(t, tf.sub(t, x));
  return tf.mul(hi, tf.sub(1, tf.mul(tf.cast(tf.greater(hi, x), 'float32'), 0.5)));
}

/**
 * formats.ts roundToFormat on a tensor: |y| in binade e = clamp(floor(log2|y|), emin, emax) is
 * rounded to a multiple of 2^(e − mbits) (tf.round: half to even), saturated at max, signed.
 * Every step but the rounding is exact (powers of two), so this equals the host bit for bit.
 * (A NaN element may come out as a number here: formatQ makes its whole group NaN.)
 */
export function roundToFormatT(y: tf.Tensor, f: ElementFormat): tf.Tensor {
  const a = tf.abs(y);
  const quantum = tf.mul(floorPow2T(tf.clipByValue(a, 2 ** f.emin, 2 ** f.emax)), 2 ** -f.mbits);
  const r = tf.minimum(tf.mul(tf.round(tf.div(a, quantum)), quantum), f.max);
  // ±1 by y < 0 (tf.sign is 0 for tiny |y| on wasm, which would turn −0 into +0).
  return tf.mul(r, tf.sub(tf.mul(tf.cast(tf.greaterEqual(y, 0), 'float32'), 2), 1));
}

/** 1 for a group of finite values, NaN for a group holding NaN or ±Infinity (0·x is NaN for those). */
const finiteFactor = (v: tf.Tensor, axes?: number[]): tf.Tensor => tf.add(tf.sum(tf.mul(v, 0), axes, axes !== undefined), 1);

/**
 * The format schemes (formats.ts) on a view: the same scale rules and float32 operations as
 * core.ts fitFormat / quantizeValue. A group holding a non-finite value is NaN (times NaN).
 */
function formatQ(view: View, spec: QuantizerSpec): tf.Tensor {
  const info = formatInfo(spec.scheme);
  if (!info) throw new Error(`${spec.scheme} is not a format scheme`);
  const f = info.elem;
  const { v, axes } = view;
  let finite = finiteFactor(v, axes);
  const amax = tf.max(tf.abs(v), axes, true);
  let scale: tf.Tensor;
  if (info.kind === 'fp8') scale = tf.maximum(tf.div(amax, f.max), SCALE_MIN);
  else if (info.kind === 'mx') {
    // 2^max(floor(log2 amax) − emax, −126); a zero block (amax clipped to 2^-126) gets 2^-126 too.
    // floorPow2T's range stops at 2^104: larger amax go through it scaled by 2^-64.
    const a = tf.clipByValue(amax, 2 ** MX_MIN_EXP, 3.4028234663852886e38);
    const big = tf.greaterEqual(a, 2 ** 64);
    const p = floorPow2T(tf.where(big, tf.mul(a, 2 ** -64), a));
    scale = tf.maximum(tf.mul(tf.where(big, tf.mul(p, 2 ** 64), p), 2 ** -f.emax), 2 ** MX_MIN_EXP);
  } else {
    finite = tf.mul(finite, finiteFactor(v));
    const sTensor = tf.maximum(tf.div(tf.max(tf.abs(v)), E4M3.max * E2M1.max), SCALE_MIN);
    scale = tf.mul(sTensor, roundToFormatT(tf.div(tf.div(amax, E2M1.max), sTensor), E4M3));
  }
  // An NVFP4 block whose E4M3 scale is 0 divides by 1 and multiplies by 0: ±0.
  const safe = tf.add(scale, tf.cast(tf.equal(scale, 0), 'float32'));
  return tf.mul(tf.mul(roundToFormatT(tf.div(v, safe), f), scale), finite);
}

/** Quantizer of one shrink factor p (1 = none): returns the dequantized view. */
type Candidate = (p: number) => tf.Tensor;

function candidateFn(view: View, spec: QuantizerSpec): Candidate {
  const { v, axes } = view;
  if (spec.scheme === 'nf4') {
    const amax = tf.max(tf.abs(v), axes, true);
    const mids = tf.tensor1d(NF4_MIDPOINTS);
    const levels = tf.tensor1d(NF4_LEVELS);
    return (p) => nf4Q(v, tf.maximum(tf.mul(amax, p), SCALE_MIN), mids, levels);
  }
  const { qmin, qmax, den } = uniformRange(spec);
  if (spec.scheme === 'asym') {
    const xmin = tf.minimum(tf.min(v, axes, true), 0);
    const xmax = tf.maximum(tf.max(v, axes, true), 0);
    return (p) => {
      const xmin1 = tf.mul(xmin, p);
      const s = tf.maximum(tf.div(tf.sub(tf.mul(xmax, p), xmin1), den), SCALE_MIN);
      return uniformQ(v, s, tf.round(tf.div(tf.neg(xmin1), s)), qmin, qmax);
    };
  }
  const amax = tf.max(tf.abs(v), axes, true);
  return (p) => uniformQ(v, tf.maximum(tf.div(tf.mul(amax, p), den), SCALE_MIN), null, qmin, qmax);
}

/** GPTQ quant.py MSE search: keep, per group, the first shrink factor with the least Σ|q − x|^2.4. */
function mseSearch(view: View, cand: Candidate): tf.Tensor {
  let best: tf.Tensor | null = null;
  let bestQ: tf.Tensor | null = null;
  for (const p of shrinkFactors(Math.fround)) {
    const next: tf.Tensor[] = tf.tidy(() => {
      const q = cand(p);
      const err = tf.sum(tf.pow(tf.abs(tf.sub(q, view.v)), MSE_NORM), view.axes, true);
      if (!best || !bestQ) return [err, q];
      const better = tf.less(err, best);
      return [tf.where(better, err, best), tf.where(tf.broadcastTo(better, q.shape), q, bestQ)];
    });
    best?.dispose();
    bestQ?.dispose();
    [best, bestQ] = next;
  }
  (best as tf.Tensor | null)?.dispose();
  return bestQ as unknown as tf.Tensor;
}

function codebookQ(w: tf.Tensor2D, spec: QuantizerSpec, cb: tf.Tensor | undefined): tf.Tensor {
  const K = 2 ** spec.bits;
  const [, outDim] = w.shape;
  const rowWise = spec.granularity === 'row';
  const want = rowWise ? [outDim, K] : [K];
  if (!cb || cb.shape.join() !== want.join())
    throw new Error(
      `kmeans needs a codebook tensor of shape [${want.join(', ')}] (fit it with quantizeWeights), got ${cb ? `[${cb.shape.join(', ')}]` : 'none'}`,
    );
  const lo = tf.slice(cb, rowWise ? [0, 0] : [0], rowWise ? [outDim, K - 1] : [K - 1]);
  const hi = tf.slice(cb, rowWise ? [0, 1] : [1], rowWise ? [outDim, K - 1] : [K - 1]);
  const mids = tf.div(tf.add(lo, hi), 2);
  const idx = countAbove(w, mids);
  if (!rowWise) return tf.gather(cb, idx);
  const flatIdx = tf.add(idx, tf.mul(tf.range(0, outDim, 1, 'int32'), tf.scalar(K, 'int32')));
  return tf.gather(tf.reshape(cb, [outDim * K]), flatIdx);
}

/** Quantized (dequantized) copy of a [in, out] weight; no gradient semantics. */
export function quantizeTensor(w: tf.Tensor, spec: QuantizerSpec, opts: TfQuantOptions = {}): tf.Tensor {
  if (w.rank !== 2) throw new Error(`quantizeTensor expects a 2-D [in, out] weight, got rank ${w.rank}`);
  const w2 = w as tf.Tensor2D;
  checkSpec(spec, w2.shape[0]);
  return tf.tidy(() => {
    const fused = fusedFormatQuant(w2, spec);
    if (fused) return fused;
    if (spec.scheme === 'kmeans') return codebookQ(w2, spec, opts.codebook);
    const view = makeView(w2, spec);
    const { v, axes, count } = view;
    let q: tf.Tensor;
    if (formatInfo(spec.scheme)) q = formatQ(view, spec);
    else if (spec.scheme === 'ternary') {
      const gamma = tf.maximum(tf.div(tf.sum(tf.abs(v), axes, true), count), TERNARY_EPS);
      q = uniformQ(v, gamma, null, -1, 1);
    } else if (spec.scheme === 'binary') {
      const alpha = tf.div(tf.sum(tf.abs(v), axes, true), count);
      q = tf.mul(tf.sub(tf.mul(tf.cast(tf.greaterEqual(v, 0), 'float32'), 2), 1), alpha);
    } else {
      const cand = candidateFn(view, spec);
      q = spec.clip === 'mse' ? mseSearch(view, cand) : cand(1);
    }
    return view.back(q);
  });
}

/** Stable cache key of a spec (for the per-spec straight-through ops). */
export function specKey(spec: QuantizerSpec): string {
  return [spec.scheme, spec.bits, spec.granularity, spec.groupSize ?? '', spec.clip].join(':');
}

type Ste1 = (x: tf.Tensor) => tf.Tensor;
type Ste2 = (x: tf.Tensor, cb: tf.Tensor) => tf.Tensor;
const cache1 = new Map<string, Ste1>();
const cache2 = new Map<string, Ste2>();

/**
 * Fake-quantized weight for training: forward = quantizeTensor(w, spec), backward = identity
 * (straight-through; the codebook of kmeans gets a zero gradient).
 */
export function fakeQuant(w: tf.Tensor, spec: QuantizerSpec, opts: TfQuantOptions = {}): tf.Tensor {
  const key = specKey(spec);
  if (spec.scheme === 'kmeans') {
    if (!opts.codebook) return quantizeTensor(w, spec, opts); // throws the readable error
    let f = cache2.get(key);
    if (!f) {
      f = customOp((x: tf.Tensor, cb: tf.Tensor, _save: tf.GradSaveFunc) => {
        const cbShape = cb.shape;
        return { value: quantizeTensor(x, spec, { codebook: cb }), gradFunc: (dy: tf.Tensor) => [dy, tf.zeros(cbShape)] };
      });
      cache2.set(key, f);
    }
    return f(w, opts.codebook);
  }
  let f = cache1.get(key);
  if (!f) {
    f = customOp((x: tf.Tensor, _save: tf.GradSaveFunc) => ({ value: quantizeTensor(x, spec), gradFunc: (dy: tf.Tensor) => dy }));
    cache1.set(key, f);
  }
  return f(w);
}
