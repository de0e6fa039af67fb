/**
 * The block inspector's data: for one weight matrix and its quantizer, every "unit" (a block
 * of the block formats, a group of group quantization, a segment of a row for per-channel or
 * per-tensor scales, a bitsandbytes block), its rounding error, and for one unit the values,
 * its scale, the grid of representable levels (scaled), each value's code and dequantized value,
 * and its error. Pure: no tensors, the arithmetic is the zoo's float32 RTN (host.ts / core.ts),
 * so the dequantized values are exactly quantizeWeights's.
 */
import type { ExperimentConfig } from './config';
import { asZooSpec, type WeightQuant } from './layerquant';
import { absMax, bucket, F32, fitGroup, quantizeValue, roundHalfEven, type GroupQuant } from './quantizers/core';
import { E4M3, E8M0_BIAS, E8M0_NAN, formatInfo, mxScaleCode, nvBlockScale, nvTensorScale, type ElementFormat } from './quantizers/formats';
import { forEachGroup } from './quantizers/host';
import { NF4_LEVELS, SCALE_MIN, specLabel, type QuantizerSpec } from './quantizers/spec';
import type { TaskLab } from './task';

/** Inputs per unit when a scale covers a whole row or tensor: the inspector shows a segment of this many. */
export const SEGMENT = 32;

/** One named weight matrix of a task's FP model with the quantizer the settings give it. */
export interface NamedWeight {
  name: string;
  /** [in, out], stored row-major as the tasks keep weights. */
  shape: [number, number];
  values: Float32Array;
  /** null: the settings keep it in full precision. */
  quant: WeightQuant | null;
}

/** A unit of the inspector: `len` elements of one scale group, in the group's order. */
export interface InspectUnit {
  /** Index of the scale group (forEachGroup's order). */
  group: number;
  /** Offset of the unit inside its group's element order. */
  offset: number;
  len: number;
  /** Where it lies: "out 3, in 32–63". */
  label: string;
}

/** A row of the scale panel: what it is, its exact value, and how it is written. */
export interface ScaleRow {
  name: string;
  value: number;
  text: string;
}

export interface BlockErrors {
  mse: number;
  maxAbs: number;
  /** 10·log10(Σx² / Σ(x̂−x)²); Infinity when exact, null when the block is all zero. */
  sqnrDb: number | null;
}

export interface BlockInspection {
  unit: InspectUnit;
  /** The FP values, in order along the input dimension. */
  values: number[];
  /** The representable values of this unit's scale group, ascending (scaled; ±0 once). */
  levels: number[];
  /** Each value's stored code: the integer (uniform), the level index (nf4, k-means, binary 0/1) or the element value (float formats). */
  codes: number[];
  /** Each value after quantization (= quantizeWeights's output). */
  dequant: number[];
  scale: ScaleRow[];
  errors: BlockErrors;
}

export interface LayerInspection {
  name: string;
  shape: [number, number];
  /** The quantizer inspected (a 'lab' quantizer as its zoo equivalent) and its label. */
  spec: QuantizerSpec;
  label: string;
  /** Every unit's mean squared error, in unit order. */
  unitMse: number[];
  units: InspectUnit[];
  /** The unit shown (the requested one, or the one with the largest MSE). */
  picked: number;
  block: BlockInspection;
  /** Whole matrix: the same error measures over every element. */
  errors: BlockErrors;
  /** Set when what is shown is not exactly the run's arithmetic (scheme auto: the zoo equivalent). */
  note?: string;
}

/** Why a 'lab' quantizer (scheme auto) is shown through its zoo equivalent. */
export const LAB_EQUIVALENT_NOTE =
  "Scheme auto uses the lab's own absmax / absmean quantizer (quant.ts); it is shown as its zoo equivalent, with the same scale rule. " +
  'The two compute in a different float32 order, so a dequantized value can differ from the trained model’s in its last bit (about 1e-8).';

/** Every non-negative value of an element format, ascending. */
export function formatGrid(f: ElementFormat): number[] {
  const out = new Set<number>([0]);
  const m = 2 ** f.mbits;
  for (let k = 1; k < m; k++) out.add((k / m) * 2 ** f.emin);
  for (let e = f.emin; e <= f.emax; e++) for (let k = 0; k < m; k++) out.add((1 + k / m) * 2 ** e);
  return [...out].filter((v) => v <= f.max).sort((a, b) => a - b);
}

/** Ascending distinct values, −0 folded into 0. */
function sortedDistinct(v: number[]): number[] {
  return [...new Set(v.map((x) => (x === 0 ? 0 : x)))].sort((a, b) => a - b);
}

/** The representable values of a fitted group quantizer (scaled, as quantizeValue produces them). */
export function groupLevels(g: GroupQuant): number[] {
  switch (g.kind) {
    case 'uniform': {
      const out: number[] = [];
      for (let q = g.qmin; q <= g.qmax; q++) out.push(F32((q - g.zero) * g.scale));
      return sortedDistinct(out);
    }
    case 'binary':
      return sortedDistinct([-g.alpha, g.alpha]);
    case 'nf4':
      return sortedDistinct(Array.from(NF4_LEVELS, (l) => F32(l * g.absmax)));
    case 'codebook':
      return sortedDistinct(Array.from(g.levels));
    case 'float': {
      if (Number.isNaN(g.scale)) return [];
      if (g.scale === 0) return [0];
      const pos = formatGrid(g.fmt).map((e) => F32(e * g.scale));
      return sortedDistinct([...pos, ...pos.map((v) => -v)]);
    }
  }
}

/** The code a value is stored as under `g` (see BlockInspection.codes). */
export function valueCode(g: GroupQuant, x: number): number {
  switch (g.kind) {
    case 'uniform': {
      const r = roundHalfEven(F32(x / g.scale)) + g.zero;
      return r < g.qmin ? g.qmin : r > g.qmax ? g.qmax : r;
    }
    case 'binary':
      return x >= 0 ? 1 : 0;
    case 'nf4': {
      const dq = quantizeValue(g, x, F32);
      return Array.from(NF4_LEVELS, (l) => F32(l * g.absmax)).indexOf(dq);
    }
    case 'codebook':
      return bucket(g.mids, x);
    case 'float': {
      if (g.scale === 0) return 0;
      const dq = quantizeValue(g, x, F32);
      return F32(dq / g.scale);
    }
  }
}

const fmtNum = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));

function scaleRows(spec: QuantizerSpec, g: GroupQuant, amax: number, tensorAmax: number): ScaleRow[] {
  const info = formatInfo(spec.scheme);
  const row = (name: string, value: number, text = fmtNum(value)): ScaleRow => ({ name, value, text });
  if (info?.kind === 'mx') {
    const code = mxScaleCode(amax, info.elem);
    if (code === E8M0_NAN) return [row('E8M0 scale code', code, '255 (NaN: the block holds a non-finite value)')];
    const e = code - E8M0_BIAS;
    return [row('E8M0 scale code', code, `${code} (2^${e})`), row('shared exponent', e), row('scale used', g.kind === 'float' ? g.scale : NaN)];
  }
  if (info?.kind === 'nv') {
    const st = nvTensorScale(tensorAmax, F32, SCALE_MIN);
    const sb = nvBlockScale(amax, st, F32);
    return [
      row('FP32 tensor scale', st, `${fmtNum(st)} (amax ${fmtNum(tensorAmax)} / 2688)`),
      row(`E4M3 block scale`, sb, `${fmtNum(sb)}${sb === 0 ? ' (rounds to 0: the block is all ±0)' : sb >= E4M3.max ? ' (E4M3 max)' : ''}`),
      row('total scale', g.kind === 'float' ? g.scale : NaN),
    ];
  }
  switch (g.kind) {
    case 'float':
      return [row(`FP32 ${spec.granularity === 'row' ? 'channel' : 'tensor'} scale`, g.scale)];
    case 'uniform':
      return spec.scheme === 'ternary'
        ? [row('scale (mean |w|)', g.scale), row('codes', g.qmax, '−1, 0, 1')]
        : [row('scale', g.scale), row('zero point', g.zero), row('code range', g.qmax - g.qmin + 1, `${g.qmin} … ${g.qmax}`)];
    case 'binary':
      return [row('α (mean |w|)', g.alpha)];
    case 'nf4':
      return [row('absmax', g.absmax)];
    case 'codebook':
      return [row('centroids', g.levels.length)];
  }
}

export function blockErrors(x: ArrayLike<number>, q: ArrayLike<number>): BlockErrors {
  let se = 0;
  let sig = 0;
  let maxAbs = 0;
  for (let t = 0; t < x.length; t++) {
    const d = q[t] - x[t];
    se += d * d;
    sig += x[t] * x[t];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  const n = x.length;
  return { mse: n ? se / n : 0, maxAbs, sqnrDb: sig === 0 ? null : se === 0 ? Infinity : 10 * Math.log10(sig / se) };
}

interface Fitted {
  idx: Int32Array;
  fit: GroupQuant;
  amax: number;
}

/** Units of a spec: the group itself for group / block granularity, SEGMENT-long pieces of each channel otherwise. */
function unitsOf(spec: QuantizerSpec, inDim: number, outDim: number, idx: Int32Array, len: number, group: number): InspectUnit[] {
  const where = (k: number) => {
    const i = Math.floor(idx[k] / outDim);
    return { i, j: idx[k] - i * outDim };
  };
  const labelOf = (offset: number, n: number) => {
    const a = where(offset);
    const b = where(offset + n - 1);
    return a.j === b.j ? `out ${a.j}, in ${a.i}–${b.i}` : `out ${a.j} in ${a.i} – out ${b.j} in ${b.i}`;
  };
  if (spec.granularity === 'group' || spec.granularity === 'block') return [{ group, offset: 0, len, label: labelOf(0, len) }];
  const out: InspectUnit[] = [];
  // 'row': idx runs along the inputs of one channel; 'tensor': over [in, out] flat, so walk channel by channel.
  if (spec.granularity === 'row') {
    for (let o = 0; o < len; o += SEGMENT) out.push({ group, offset: o, len: Math.min(SEGMENT, len - o), label: labelOf(o, Math.min(SEGMENT, len - o)) });
  } else {
    for (let j = 0; j < outDim; j++)
      for (let i0 = 0; i0 < inDim; i0 += SEGMENT) {
        const n = Math.min(SEGMENT, inDim - i0);
        // Tensor units are addressed by flat offsets of their first element; inspectUnit walks the channel.
        out.push({ group, offset: i0 * outDim + j, len: n, label: `out ${j}, in ${i0}–${i0 + n - 1}` });
      }
  }
  return out;
}

/** The flat [in, out] indices of a unit's elements. */
function unitIndices(spec: QuantizerSpec, outDim: number, f: Fitted, u: InspectUnit): number[] {
  if (spec.granularity === 'tensor') return Array.from({ length: u.len }, (_, t) => u.offset + t * outDim);
  return Array.from(f.idx.subarray(u.offset, u.offset + u.len));
}

function inspectUnit(w: Float32Array, spec: QuantizerSpec, outDim: number, f: Fitted, u: InspectUnit, tensorAmax: number): BlockInspection {
  const ix = unitIndices(spec, outDim, f, u);
  const values = ix.map((k) => w[k]);
  const dequant = values.map((x) => quantizeValue(f.fit, x, F32));
  return {
    unit: u,
    values,
    levels: groupLevels(f.fit),
    codes: values.map((x) => valueCode(f.fit, x)),
    dequant,
    scale: scaleRows(spec, f.fit, f.amax, tensorAmax),
    errors: blockErrors(values, dequant),
  };
}

/**
 * Inspect a weight matrix under `quant`: every unit's MSE and one unit in detail (`unit`, or the
 * one with the largest MSE when absent or out of range).
 */
export function inspectLayer(m: NamedWeight, unit?: number): LayerInspection {
  if (!m.quant) throw new Error(`${m.name} is kept in full precision by these settings: nothing to inspect.`);
  const spec = asZooSpec(m.quant);
  const [inDim, outDim] = m.shape;
  const w = m.values;
  if (w.length !== inDim * outDim) throw new Error(`${m.name} has ${w.length} values, shape [${inDim}, ${outDim}] needs ${inDim * outDim}`);
  const tensorAmax = absMax(w);
  const fits: Fitted[] = [];
  const units: InspectUnit[] = [];
  const q = new Float32Array(w.length);
  const buf = new Float64Array(spec.granularity === 'tensor' ? w.length : Math.max(inDim, spec.groupSize ?? 0));
  forEachGroup(spec, inDim, outDim, (idx, len, group) => {
    for (let t = 0; t < len; t++) buf[t] = w[idx[t]];
    const fit = fitGroup(spec, buf, len, F32, undefined, spec.scheme === 'nvfp4' ? tensorAmax : undefined).quant;
    let amax = 0;
    for (let t = 0; t < len; t++) amax = Math.max(amax, Math.abs(buf[t]));
    if (!Number.isFinite(absMax(buf.subarray(0, len)))) amax = NaN;
    fits.push({ idx: idx.slice(0, len), fit, amax });
    for (let t = 0; t < len; t++) q[idx[t]] = quantizeValue(fit, buf[t], F32);
    units.push(...unitsOf(spec, inDim, outDim, idx, len, group));
  });
  const unitMse = units.map((u) => {
    let s = 0;
    for (const k of unitIndices(spec, outDim, fits[u.group], u)) s += (q[k] - w[k]) ** 2;
    return s / u.len;
  });
  let picked = unit !== undefined && Number.isInteger(unit) && unit >= 0 && unit < units.length ? unit : -1;
  if (picked < 0) {
    picked = 0;
    for (let k = 1; k < unitMse.length; k++) if (unitMse[k] > unitMse[picked]) picked = k;
  }
  const u = units[picked];
  return {
    name: m.name,
    shape: [inDim, outDim],
    spec,
    label: specLabel(spec),
    unitMse,
    units,
    picked,
    block: inspectUnit(w, spec, outDim, fits[u.group], u, tensorAmax),
    errors: blockErrors(w, q),
    ...(m.quant.kind === 'lab' ? { note: LAB_EQUIVALENT_NOTE } : {}),
  };
}

/** A weight matrix as the inspector's layer picker lists it. */
export interface LayerChoice {
  name: string;
  /** Its quantizer's label, or "FP32" when the settings keep it in full precision. */
  label: string;
}

export interface InspectRequest {
  /** Index into the task's weight matrices; absent: the first quantized one. */
  layer?: number;
  /** Unit of that layer; absent: the one with the largest error. */
  unit?: number;
}

export interface InspectResult {
  layers: LayerChoice[];
  layer: number;
  inspection: LayerInspection;
}

/** The inspector's answer for a task's FP model under the settings `c` (the worker's probe). */
export async function inspectTask(lab: Pick<TaskLab, 'weightMatrices'>, c: ExperimentConfig, req: InspectRequest): Promise<InspectResult> {
  const mats = await lab.weightMatrices(c);
  const layers = mats.map((m) => ({ name: m.name, label: m.quant ? specLabel(asZooSpec(m.quant)) : 'FP32' }));
  const first = mats.findIndex((m) => m.quant);
  if (first < 0) throw new Error('These settings keep every weight matrix in full precision: choose a quantizer to inspect.');
  const layer = req.layer !== undefined && req.layer >= 0 && req.layer < mats.length && mats[req.layer].quant ? req.layer : first;
  return { layers, layer, inspection: inspectLayer(mats[layer], req.unit) };
}
