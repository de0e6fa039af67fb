/**
 * The format schemes (formats.ts) in one pass over a weight [in, out], for the CPU backends' fused
 * kernel (kernels/formats.ts): the same scale rules and float32 operations as quantizeWeights
 * (host.ts → core.ts fitFormat / quantizeValue, precision F32), hence the same values bit for
 * bit, without the per-group index lists, closures and Math.log2 of the general path.
 *
 * - Statistics run row by row (all columns at once), so the reads follow the [in, out] layout.
 * - floor(log2 a) of a float32 a ≥ 2^emin (a normal number) is its exponent field.
 * - Round half to even of z ≥ 0 below 2^51: (z + 1.5·2^52) − 1.5·2^52 in double precision.
 */
import { E2M1, E4M3, formatInfo, MX_MIN_EXP, type ElementFormat } from './formats';
import { SCALE_MIN, type QuantizerSpec } from './spec';

const F = Math.fround;
const RNE = 6755399441055744;
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);
const MAX_F32 = 3.4028234663852886e38;

/** floor(log2 a) of a normal float32 a > 0. */
function exponentOf(a: number): number {
  bitsF32[0] = a;
  return (bitsU32[0] >>> 23) - 127;
}

/** formats.ts roundToFormat for one element format, specialised (quanta precomputed per binade). */
export function formatRounder(f: ElementFormat): (y: number) => number {
  const { emin, emax, mbits, max } = f;
  const lo = 2 ** emin;
  const quantum = Float64Array.from({ length: emax - emin + 1 }, (_, k) => 2 ** (emin + k - mbits));
  const inverse = Float64Array.from({ length: emax - emin + 1 }, (_, k) => 2 ** -(emin + k - mbits));
  return (y: number): number => {
    if (y !== y) return NaN;
    const a = y < 0 ? -y : y;
    let r: number;
    if (a >= max) r = max;
    else {
      const k = a < lo ? 0 : Math.min(exponentOf(a), emax) - emin;
      r = (a * inverse[k] + RNE - RNE) * quantum[k];
      if (r > max) r = max;
    }
    return y < 0 ? -r : r;
  };
}

const rounders = new Map<ElementFormat, (y: number) => number>();
const rounderOf = (f: ElementFormat) => {
  let r = rounders.get(f);
  if (!r) rounders.set(f, (r = formatRounder(f)));
  return r;
};

/**
 * max |x| per column over rows [r0, r1) of src [rows, cols] into amax; NaN for a column holding a
 * non-finite value (a NaN never compares greater, so once set it stays; ±Infinity is made NaN at the end).
 */
function columnAbsmax(src: ArrayLike<number>, cols: number, r0: number, r1: number, amax: Float64Array): void {
  amax.fill(0);
  for (let i = r0; i < r1; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const a = Math.abs(src[base + j]);
      if (a > amax[j]) amax[j] = a;
      else if (!(a <= MAX_F32)) amax[j] = NaN;
    }
  }
  for (let j = 0; j < cols; j++) if (amax[j] > MAX_F32) amax[j] = NaN;
}

/** The scale of one group with absmax amax (NaN: not finite) under the format's rules; tensorScale for NVFP4. */
function groupScale(kind: 'fp8' | 'mx' | 'nv', f: ElementFormat, amax: number, tensorScale: number, e4m3: (y: number) => number): number {
  if (amax !== amax) return NaN;
  if (kind === 'fp8') return Math.max(F(amax / f.max), F(SCALE_MIN));
  // mxScale: 2^max(floor(log2 amax) − emax, −126), a zero block 2^-126 too.
  if (kind === 'mx') return 2 ** Math.max(exponentOf(Math.max(amax, 2 ** MX_MIN_EXP)) - f.emax, MX_MIN_EXP);
  return F(tensorScale * e4m3(F(F(amax / E2M1.max) / tensorScale)));
}

/**
 * Fake-quant (quantize, dequantize) of src [inDim, outDim] with a format scheme into dst, equal to
 * quantizeWeights(src, [inDim, outDim], spec).values. The spec must be valid (checkSpec).
 */
export function formatQuantInto(src: ArrayLike<number>, dst: Float32Array | Float64Array, inDim: number, outDim: number, spec: QuantizerSpec): void {
  const info = formatInfo(spec.scheme);
  if (!info) throw new Error(`${spec.scheme} is not a format scheme`);
  const f = info.elem;
  const round = rounderOf(f);
  const e4m3 = rounderOf(E4M3);
  const amax = new Float64Array(outDim);
  const scale = new Float64Array(outDim);
  const rows = info.kind === 'fp8' ? inDim : (info.block as number);
  let tensorScale = 0;
  if (info.kind === 'nv' || (info.kind === 'fp8' && spec.granularity === 'tensor')) {
    columnAbsmax(src, outDim, 0, inDim, amax);
    let t = 0;
    for (let j = 0; j < outDim; j++) t = amax[j] !== amax[j] || t !== t ? NaN : Math.max(t, amax[j]);
    if (info.kind === 'nv') tensorScale = t === t ? Math.max(F(t / (E4M3.max * E2M1.max)), F(SCALE_MIN)) : NaN;
    else amax.fill(t);
  }
  for (let r0 = 0; r0 < inDim; r0 += rows) {
    const r1 = Math.min(r0 + rows, inDim);
    if (!(info.kind === 'fp8' && spec.granularity === 'tensor')) columnAbsmax(src, outDim, r0, r1, amax);
    for (let j = 0; j < outDim; j++) scale[j] = groupScale(info.kind, f, amax[j], tensorScale, e4m3);
    for (let i = r0; i < r1; i++) {
      const base = i * outDim;
      for (let j = 0; j < outDim; j++) {
        const x = src[base + j];
        const s = scale[j];
        dst[base + j] = s === 0 ? (x < 0 ? -0 : 0) : F(round(F(x / s)) * s);
      }
    }
  }
}
