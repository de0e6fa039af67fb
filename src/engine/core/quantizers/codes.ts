/**
 * Codes and scales of a quantized weight matrix, and the pure rebuild of its dequantized values.
 *
 * encodeMatrix(Ŵ, shape, spec) takes the dequantized weights a model actually uses (on the grid of
 * `spec`, whatever put them there: RTN, GPTQ, a QAFT fake-quant, LSQ's learned steps) and finds
 * integer codes and per-group parameters that rebuild every value exactly; decodeMatrix is the
 * rebuild. Both work on a matrix stored [in, out] (the engine's and GPT-2's Conv1D layout) or
 * [out, in] (nn.Linear, GPT-NeoX). Groups run along the input axis inside one output channel.
 *
 * The rebuild rule, per element of group g (all products in float64, rounded once to float32):
 * - uniform (sym-narrow, sym-full, asym, ternary, binary, the lab's absmax int and ternary):
 *   fp32((code − zero[g]) · scale[g]); binary codes are ±1, symmetric schemes have no zero;
 * - nf4: fp32(NF4_LEVELS[code] · scale[g]); kmeans: codebook[g][code];
 * - fp8 (tensor / row scale): fp32(elem(code) · scale[g]);
 * - MX: fp32(elem(code) · 2^max(scaleCode[g] − 127, −126)) (E8M0);
 * - nvfp4: fp32(elem(code) · fp32(tensorScale · e4m3(scaleCode[g]))).
 * elem() decodes the element's sign-magnitude bits (E4M3, E5M2, E2M3, E3M2, E2M1; MXINT8: the
 * int8 two's complement k, value k/64). A scale is a float32 number whenever one reproduces the
 * group, else the float64 that does (`scalesF32` false): GPTQ fits its scales in float64, and the
 * lab's absmax int computes code / (qmax/amax), a division no float32 multiplier always matches.
 *
 * Finding the codes: the group's parameters are first taken from the quantizer fitted to `source`
 * (the latent weights of a fake-quantized run) or to Ŵ itself, then, when a group's largest code
 * is not the grid's largest (GPTQ, learned steps), from Ŵ's extreme value over each smaller code.
 * A decomposition is accepted only when it rebuilds every value of the group bit for bit (±0
 * compared as numbers); a matrix with a group that none rebuilds is an Error naming it.
 */
import { absMax, F32, fitGroup, roundHalfEven, type GroupQuant } from './core';
import { E2M1, E4M3, E8M0_BIAS, floorLog2, formatInfo, MX_MIN_EXP, nvTensorScale, roundToFormat, type ElementFormat } from './formats';
import { forEachGroup } from './host';
import { groupsPerChannel, isUniform, NF4_LEVELS, SCALE_MIN, type QuantizerSpec } from './spec';

/** Where the input axis of a stored matrix is: [in, out] (engine, GPT-2 Conv1D) or [out, in] (nn.Linear). */
export type MatrixLayout = 'in-out' | 'out-in';

export interface EncodedMatrix {
  /** The quantizer (a 'block' spec whose blocks stay inside channels is written as 'group'). */
  spec: QuantizerSpec;
  /** [inputs, outputs]. */
  dims: [number, number];
  layout: MatrixLayout;
  /** One code per weight, in `layout`. */
  codes: Int32Array;
  /** Groups per output channel (1 for 'row' and 'tensor'). */
  groupsPerChannel: number;
  /** Per group: [groupsPerChannel, out] for 'in-out', [out, groupsPerChannel] for 'out-in'; one value for 'tensor'. */
  scales?: Float64Array;
  /** Whether every scale is a float32 number (written F32; else F64). */
  scalesF32?: boolean;
  /** asym: the zero point per group (same shape as scales). */
  zeros?: Int32Array;
  /** MX: E8M0 codes; nvfp4: E4M3 bit patterns (per group, as scales). */
  scaleCodes?: Int32Array;
  /** nvfp4: the FP32 tensor scale. */
  tensorScale?: number;
  /** kmeans: 2^bits levels per group, ascending (padded with the last). */
  codebook?: Float32Array;
}

// ---------------------------------------------------------------- element formats

interface ElementTable {
  values: Float64Array;
  /** |value| → code of the positive value. */
  codes: Map<number, number>;
  signBit: number;
}
const tables = new Map<string, ElementTable>();

/** The value of each code of an element format (codes past the largest finite value map to NaN). */
export function elementTable(f: ElementFormat): ElementTable {
  const hit = tables.get(f.name);
  if (hit) return hit;
  const int8 = f.ebits === 0;
  const bits = int8 ? 8 : 1 + f.ebits + f.mbits;
  const n = 2 ** bits;
  const signBit = n / 2;
  const values = new Float64Array(n);
  const codes = new Map<number, number>();
  for (let c = 0; c < n; c++) {
    let v: number;
    // MXINT8 is symmetric: k = −128 is unused.
    if (int8) v = c === 128 ? NaN : (c >= 128 ? c - 256 : c) / 64;
    else {
      const mag = c & (signBit - 1);
      const E = mag >> f.mbits;
      const M = mag & ((1 << f.mbits) - 1);
      const a = E === 0 ? M * 2 ** (f.emin - f.mbits) : (1 + M / 2 ** f.mbits) * 2 ** (E - f.bias);
      v = a > f.max ? NaN : c & signBit ? -a : a;
    }
    values[c] = v;
    if (v >= 0 && !codes.has(v) && (int8 || !(c & signBit))) codes.set(v, c);
  }
  const t = { values, codes, signBit };
  tables.set(f.name, t);
  return t;
}

/** The code of a value of format `f` (exactly representable, or −1); −0 keeps its sign bit (not MXINT8). */
export function encodeElement(v: number, f: ElementFormat): number {
  const t = elementTable(f);
  if (f.ebits === 0) {
    const k = v * 64;
    return Number.isInteger(k) && k >= -127 && k <= 127 ? k & 0xff : -1;
  }
  const c = t.codes.get(Math.abs(v));
  if (c === undefined) return -1;
  return v < 0 || Object.is(v, -0) ? c | t.signBit : c;
}

export const decodeElement = (code: number, f: ElementFormat): number => elementTable(f).values[code];

// ---------------------------------------------------------------- float32 neighbours and scale solving

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The next float32 above (dir 1) or below (dir −1) a non-negative float32 `x`. */
function step32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir > 0 ? 2 ** -149 : 0;
  f32[0] = x;
  u32[0] += dir;
  return f32[0];
}

/**
 * A scale t > 0 with fp32(mults[i] · t) === vals[i] for every i (product in float64): a float32
 * one when there is one (the hint first), else a float64; null when none exists.
 */
export function solveScale(vals: ArrayLike<number>, mults: ArrayLike<number>, n: number, hint?: number): { scale: number; f32: boolean } | null {
  let lo = 0;
  let hi = Infinity;
  let any = false;
  for (let i = 0; i < n; i++) {
    const m = mults[i];
    const v = vals[i];
    if (m === 0 || Number.isNaN(m)) {
      if (v !== 0 || Number.isNaN(m)) return null;
      continue;
    }
    if (v === 0 || !Number.isFinite(v) || m < 0 !== v < 0) return null;
    const a = Math.abs(v);
    const am = Math.abs(m);
    any = true;
    lo = Math.max(lo, (a + step32(a, -1)) / 2 / am);
    hi = Math.min(hi, (a + step32(a, 1)) / 2 / am);
  }
  const ok = (t: number) => {
    for (let i = 0; i < n; i++) if (Math.fround(mults[i] * t) !== vals[i]) return false;
    return true;
  };
  if (!any) {
    const t = hint !== undefined && hint > 0 && Number.isFinite(hint) ? Math.fround(hint) : 1;
    return { scale: t, f32: true };
  }
  // Closed bounds: a product exactly halfway rounds to the even neighbour, which may be the value.
  if (!(lo <= hi)) return null;
  const mid = (lo + hi) / 2;
  const cands = [hint, Math.fround(mid), Math.fround(lo), step32(Math.fround(lo), 1), Math.fround(hi), step32(Math.fround(hi), -1)];
  for (const c of cands) if (c !== undefined && c > 0 && Math.fround(c) === c && c >= lo && c <= hi && ok(c)) return { scale: c, f32: true };
  if (ok(mid)) return { scale: mid, f32: false };
  return null;
}

// ---------------------------------------------------------------- one group

interface GroupCode {
  scale?: number;
  f32?: boolean;
  zero?: number;
  scaleCode?: number;
  levels?: number[];
}

const within = (a: number, b: number) => Math.abs(a - b) <= 1e-3;

/** Integer codes of a uniform grid (sym, asym, ternary, binary) rebuilding `v` exactly, or null. */
function encodeUniform(spec: QuantizerSpec, v: Float64Array, n: number, hint: GroupQuant | undefined, codes: Int32Array): GroupCode | null {
  const b = spec.bits;
  const asym = spec.scheme === 'asym';
  const [qlo, qhi] = spec.scheme === 'ternary' || spec.scheme === 'binary' ? [-1, 1] : asym ? [0, 2 ** b - 1] : [-(2 ** (b - 1)), 2 ** (b - 1) - 1];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) [min, max] = [Math.min(min, v[i]), Math.max(max, v[i])];
  const amax = Math.max(Math.abs(min), Math.abs(max));
  const guesses: { t: number; zero?: number }[] = [];
  if (hint?.kind === 'uniform') guesses.push({ t: hint.scale, zero: hint.zero });
  if (hint?.kind === 'binary') guesses.push({ t: hint.alpha });
  const top = asym ? qhi : Math.max(-qlo, qhi);
  for (let k = top; k >= 1; k--) guesses.push({ t: (asym ? max - Math.min(min, 0) : amax) / k });
  const m = new Float64Array(n);
  for (const g of guesses) {
    if (!(g.t > 0) || !Number.isFinite(g.t)) continue;
    let mmin = Infinity;
    let mmax = -Infinity;
    let fits = true;
    for (let i = 0; i < n && fits; i++) {
      const y = v[i] / g.t;
      m[i] = roundHalfEven(y);
      fits = within(y, m[i]);
      [mmin, mmax] = [Math.min(mmin, m[i]), Math.max(mmax, m[i])];
    }
    if (!fits) continue;
    let zero = 0;
    if (asym) {
      zero = g.zero !== undefined && mmin + g.zero >= qlo && mmax + g.zero <= qhi ? g.zero : qlo - mmin;
      if (mmax + zero > qhi) continue;
    } else if (mmin < qlo || mmax > qhi) continue;
    if (spec.scheme === 'binary' && m.subarray(0, n).some((x) => x === 0)) continue;
    const s = solveScale(v, m, n, g.t);
    if (!s) continue;
    for (let i = 0; i < n; i++) codes[i] = m[i] + zero;
    return { scale: s.scale, f32: s.f32, zero: asym ? zero : undefined };
  }
  return null;
}

/** Codes of a multiplicative level set (nf4 levels, fp8 elements) times one scale. */
function encodeLevels(
  v: Float64Array,
  n: number,
  guesses: number[],
  level: (y: number) => number,
  codeOf: (lv: number) => number,
  codes: Int32Array,
): GroupCode | null {
  const m = new Float64Array(n);
  for (const t of guesses) {
    if (!(t > 0) || !Number.isFinite(t)) continue;
    let fits = true;
    for (let i = 0; i < n && fits; i++) {
      m[i] = level(v[i] / t);
      fits = Number.isFinite(m[i]);
    }
    if (!fits) continue;
    const s = solveScale(v, m, n, t);
    if (!s) continue;
    for (let i = 0; i < n; i++) codes[i] = codeOf(m[i]);
    return { scale: s.scale, f32: s.f32 };
  }
  return null;
}

function nearestNf4(y: number): number {
  let best = 0;
  for (let k = 1; k < NF4_LEVELS.length; k++) if (Math.abs(NF4_LEVELS[k] - y) < Math.abs(NF4_LEVELS[best] - y)) best = k;
  return NF4_LEVELS[best];
}

/** Distinct positive values of a format, descending. */
function positiveValues(f: ElementFormat): number[] {
  return [...elementTable(f).codes.keys()].filter((x) => x > 0).sort((a, b) => b - a);
}

function encodeGroup(spec: QuantizerSpec, v: Float64Array, n: number, hint: GroupQuant | undefined, codes: Int32Array, nvTensor?: number): GroupCode | null {
  let amax = 0;
  for (let i = 0; i < n; i++) amax = Math.max(amax, Math.abs(v[i]));
  if (isUniform(spec.scheme) || spec.scheme === 'ternary' || spec.scheme === 'binary') return encodeUniform(spec, v, n, hint, codes);
  if (spec.scheme === 'nf4') {
    const guesses = [hint?.kind === 'nf4' ? hint.absmax : amax, ...[...new Set(Array.from(NF4_LEVELS, Math.abs))].filter((x) => x > 0).map((x) => amax / x)];
    return encodeLevels(v, n, guesses, nearestNf4, (lv) => NF4_LEVELS.indexOf(lv), codes);
  }
  if (spec.scheme === 'kmeans') {
    const K = 2 ** spec.bits;
    const levels = [...new Set(Array.from(v.subarray(0, n), (x) => x + 0))].sort((a, b) => a - b);
    if (levels.length > K) return null;
    for (let i = 0; i < n; i++) codes[i] = levels.indexOf(v[i] + 0);
    while (levels.length < K) levels.push(levels.length ? levels[levels.length - 1] : 0);
    return { levels };
  }
  const info = formatInfo(spec.scheme);
  if (!info) return null;
  const f = info.elem;
  const elem = (y: number) => {
    const r = roundToFormat(y, f);
    return r === y ? r : NaN;
  };
  if (info.kind === 'fp8') {
    const guesses = [hint?.kind === 'float' ? hint.scale : amax / f.max, ...positiveValues(f).map((e) => amax / e)];
    const rounded = (y: number) => roundToFormat(y, f);
    return encodeLevels(v, n, guesses, rounded, (e) => encodeElement(e, f), codes);
  }
  if (info.kind === 'mx') {
    if (amax === 0) {
      for (let i = 0; i < n; i++) codes[i] = encodeElement(v[i], f);
      return codes.subarray(0, n).every((c) => c >= 0) ? { scaleCode: 0 } : null;
    }
    const x0 = hint?.kind === 'float' && hint.scale > 0 ? Math.log2(hint.scale) : floorLog2(amax) - f.emax;
    const xs = [x0, ...Array.from({ length: 12 }, (_, k) => x0 - 1 - k), x0 + 1, x0 + 2];
    for (const x of xs) {
      if (!Number.isInteger(x) || x < MX_MIN_EXP || x > E8M0_BIAS) continue;
      const t = 2 ** x;
      let fits = true;
      for (let i = 0; i < n && fits; i++) {
        const e = elem(v[i] / t);
        codes[i] = Number.isNaN(e) ? -1 : encodeElement(e, f);
        fits = codes[i] >= 0 && Math.fround(e * t) === v[i];
      }
      if (fits) return { scaleCode: x + E8M0_BIAS };
    }
    return null;
  }
  // nvfp4: the block scale is an E4M3 value times the tensor scale.
  const st = nvTensor as number;
  const sbs = positiveValues(E4M3);
  const near = (x: number) => {
    let k = 0;
    while (k < sbs.length - 1 && sbs[k] > x) k++;
    return sbs.slice(Math.max(0, k - 3), k + 4);
  };
  const cands = new Set<number>();
  if (hint?.kind === 'float' && hint.scale > 0) for (const s of near(hint.scale / st)) cands.add(s);
  for (const s of near(amax / E2M1.max / st)) cands.add(s);
  if (amax === 0) cands.add(0);
  for (const sb of cands) {
    const t = Math.fround(st * sb);
    let fits = true;
    for (let i = 0; i < n && fits; i++) {
      const e = t === 0 ? (v[i] < 0 || Object.is(v[i], -0) ? -0 : 0) : roundToFormat(v[i] / t, E2M1);
      codes[i] = Number.isNaN(e) ? -1 : encodeElement(e, E2M1);
      fits = codes[i] >= 0 && Math.fround(e * t) === v[i];
    }
    if (fits) return { scaleCode: encodeElement(sb, E4M3) };
  }
  return null;
}

// ---------------------------------------------------------------- matrices

/** The spec as encoded: 'block' whose blocks stay inside output channels is 'group'; other 'block' specs are refused. */
function encodableSpec(spec: QuantizerSpec, inDim: number): QuantizerSpec {
  if (spec.granularity !== 'block') return spec;
  const b = spec.groupSize as number;
  if (inDim % b !== 0)
    throw new Error(
      `block granularity with blocks of ${b} that cross output channels (${inDim} inputs) cannot be written per channel; use group or row granularity`,
    );
  return { ...spec, granularity: 'group' };
}

/** Index of (input i, output j)'s group parameters in `layout`. */
function paramIndex(spec: QuantizerSpec, layout: MatrixLayout, ng: number, out: number, i: number, j: number): number {
  if (spec.granularity === 'tensor') return 0;
  const k = spec.granularity === 'group' ? Math.floor(i / (spec.groupSize as number)) : 0;
  return layout === 'in-out' ? k * out + j : j * ng + k;
}

/**
 * Codes and parameters that rebuild `values` ([in, out], the weights a model uses) exactly under
 * `spec`. `source` (same shape) is where the quantizer was fitted from when it is known (the latent
 * weights of a fake-quantized run); by default the values themselves. Throws when a group has no
 * exact decomposition.
 */
export function encodeMatrix(values: Float32Array, dims: readonly [number, number], spec0: QuantizerSpec, source: Float32Array = values): EncodedMatrix {
  const [inDim, outDim] = dims;
  if (values.length !== inDim * outDim || source.length !== values.length)
    throw new Error(`encodeMatrix: ${values.length} values are not [${inDim}, ${outDim}]`);
  const spec = encodableSpec(spec0, inDim);
  const ng = spec.granularity === 'group' ? groupsPerChannel(spec, inDim) : 1;
  const nParams = spec.granularity === 'tensor' ? 1 : ng * outDim;
  const info = formatInfo(spec.scheme);
  const codes = new Int32Array(values.length);
  const scales = new Float64Array(nParams);
  const zeros = spec.scheme === 'asym' ? new Int32Array(nParams) : undefined;
  const scaleCodes = info && info.kind !== 'fp8' ? new Int32Array(nParams) : undefined;
  const K = 2 ** spec.bits;
  const codebook = spec.scheme === 'kmeans' ? new Float32Array(nParams * K) : undefined;
  let scalesF32 = true;
  const srcAmax = absMax(source);
  const candidatesT =
    spec.scheme === 'nvfp4'
      ? [...new Set([srcAmax, absMax(values)].map((a) => nvTensorScale(a, F32, SCALE_MIN)))].flatMap((s) => {
          const out = [s];
          let [up, down] = [s, s];
          for (let k = 0; k < 8; k++) out.push((up = step32(up, 1)), (down = step32(down, -1)));
          return out;
        })
      : [undefined];
  let lastErr = '';
  for (const st of candidatesT) {
    const buf = new Float64Array(spec.granularity === 'tensor' ? values.length : Math.max(inDim, spec.groupSize ?? 0));
    const src = new Float64Array(buf.length);
    const gcodes = new Int32Array(buf.length);
    let failed: string | null = null;
    forEachGroup(spec, inDim, outDim, (idx, len, group) => {
      if (failed) return;
      for (let t = 0; t < len; t++) [buf[t], src[t]] = [values[idx[t]], source[idx[t]]];
      // The quantizer fitted to the source is the first guess (without the clipping search: an MSE-clipped
      // group's largest code is the grid's, which the fallbacks find from the values).
      const hint = spec.scheme === 'kmeans' ? undefined : fitGroup({ ...spec, clip: 'none' }, src, len, F32, undefined, srcAmax).quant;
      const r = encodeGroup(spec, buf, len, hint, gcodes, st);
      if (!r) {
        const j = spec.granularity === 'tensor' ? 0 : group % outDim;
        const k = spec.granularity === 'group' ? Math.floor(group / outDim) : 0;
        failed = spec.granularity === 'tensor' ? 'the tensor' : `output ${j}${spec.granularity === 'group' ? `, group ${k}` : ''}`;
        return;
      }
      const first = idx[0];
      const p = paramIndex(spec, 'in-out', ng, outDim, Math.floor(first / outDim), first % outDim);
      for (let t = 0; t < len; t++) codes[idx[t]] = gcodes[t];
      if (r.scale !== undefined) {
        scales[p] = r.scale;
        scalesF32 &&= r.f32 !== false;
      }
      if (zeros && r.zero !== undefined) zeros[p] = r.zero;
      if (scaleCodes && r.scaleCode !== undefined) scaleCodes[p] = r.scaleCode;
      if (codebook && r.levels) codebook.set(r.levels, p * K);
    });
    if (!failed) {
      const e: EncodedMatrix = { spec, dims: [inDim, outDim], layout: 'in-out', codes, groupsPerChannel: ng };
      if (!info || info.kind === 'fp8') {
        if (spec.scheme !== 'kmeans') [e.scales, e.scalesF32] = [scales, scalesF32];
      }
      if (zeros) e.zeros = zeros;
      if (scaleCodes) e.scaleCodes = scaleCodes;
      if (st !== undefined) e.tensorScale = st;
      if (codebook) e.codebook = codebook;
      return e;
    }
    lastErr = failed;
  }
  throw new Error(`the weights are not on the ${spec.scheme} grid at ${lastErr}: no codes and scales rebuild them exactly`);
}

/** The dequantized weights, in the matrix's own layout (the rule in the header). Pure. */
export function decodeMatrix(e: EncodedMatrix): Float32Array {
  const { spec, layout, codes, groupsPerChannel: ng } = e;
  const [inDim, outDim] = e.dims;
  const info = formatInfo(spec.scheme);
  const out = new Float32Array(codes.length);
  const K = 2 ** spec.bits;
  const at = (i: number, j: number) => (layout === 'in-out' ? i * outDim + j : j * inDim + i);
  const nv = spec.scheme === 'nvfp4' ? (sc: number) => Math.fround((e.tensorScale as number) * decodeElement(sc, E4M3)) : null;
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < outDim; j++) {
      const x = at(i, j);
      const g = paramIndex(spec, layout, ng, outDim, i, j);
      const c = codes[x];
      let v: number;
      if (spec.scheme === 'kmeans') v = (e.codebook as Float32Array)[g * K + c];
      else if (spec.scheme === 'nf4') v = NF4_LEVELS[c] * (e.scales as Float64Array)[g];
      else if (!info) v = (c - (e.zeros ? e.zeros[g] : 0)) * (e.scales as Float64Array)[g];
      else if (info.kind === 'fp8') v = decodeElement(c, info.elem) * (e.scales as Float64Array)[g];
      else if (info.kind === 'mx') v = decodeElement(c, info.elem) * 2 ** Math.max((e.scaleCodes as Int32Array)[g] - E8M0_BIAS, MX_MIN_EXP);
      else v = decodeElement(c, info.elem) * (nv as (sc: number) => number)((e.scaleCodes as Int32Array)[g]);
      out[x] = v;
    }
  }
  return out;
}

/**
 * The same matrix stored [out, in] with its output channels in a new order: stored row r holds
 * output channel perm[r] (nn.Linear layouts, NeoX's per-head q/k/v rows). Codes and per-group
 * parameters move with their channels.
 */
export function toOutIn(e: EncodedMatrix, perm?: ArrayLike<number>): EncodedMatrix {
  if (e.layout !== 'in-out') throw new Error('toOutIn: the matrix is already [out, in]');
  const [inDim, outDim] = e.dims;
  const ng = e.groupsPerChannel;
  const src = (r: number) => (perm ? perm[r] : r);
  const codes = new Int32Array(e.codes.length);
  for (let r = 0; r < outDim; r++) for (let i = 0; i < inDim; i++) codes[r * inDim + i] = e.codes[i * outDim + src(r)];
  const move = <T extends Float64Array | Int32Array | Float32Array>(a: T | undefined, width = 1): T | undefined => {
    if (!a || e.spec.granularity === 'tensor') return a;
    const b = new (a.constructor as new (n: number) => T)(a.length);
    for (let r = 0; r < outDim; r++)
      for (let k = 0; k < ng; k++) for (let w = 0; w < width; w++) b[(r * ng + k) * width + w] = a[(k * outDim + src(r)) * width + w];
    return b;
  };
  return {
    ...e,
    layout: 'out-in',
    codes,
    scales: move(e.scales),
    zeros: move(e.zeros),
    scaleCodes: move(e.scaleCodes),
    codebook: move(e.codebook, 2 ** e.spec.bits),
  };
}

/** The shape of the per-group parameter tensors in the matrix's layout ([1] for 'tensor'). */
export function paramShape(e: EncodedMatrix): number[] {
  if (e.spec.granularity === 'tensor') return [1];
  const [, outDim] = e.dims;
  return e.layout === 'in-out' ? [e.groupsPerChannel, outDim] : [outDim, e.groupsPerChannel];
}
