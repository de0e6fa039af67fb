/**
 * The format schemes (formats.ts) in one pass over a weight [in, out], for the CPU backends' fused
 * kernel (kernels/formats.ts): the same scale rules and float32 operations as quantizeWeights
 * (host.ts → core.ts fitFormat / quantizeValue, precision F32), hence the same values bit for
 * bit, without the per-group index lists, closures and Math.log2 of the general path.
 *
 * - Statistics run row by row (all columns at once), so the reads follow the [in, out] layout; a
 *   column's absmax is an integer max over the bit patterns of |x|.
 * - Rounding y to the element grid (roundToFormat): its binade e is its float32 exponent field,
 *   clamped to emin…emax, and (|y| + 1.5·2^52·q) − 1.5·2^52·q with q = 2^(e − mbits) rounds |y| to
 *   a multiple of q, half to even, in double precision; then saturate at the format's max. No
 *   closure, no Math.log2.
 * - y = F(x / s) as F(x · (1/s)): the same float32 (see formatQuantInto).
 * One loop per row, no branch that data would mispredict but the sign: on V8 a few ns per weight.
 */
import { E2M1, E4M3, formatInfo, MX_MIN_EXP, type ElementFormat } from './formats';
import { SCALE_MIN, type QuantizerSpec } from './spec';

const F = Math.fround;
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);
const MX_MIN = 2 ** MX_MIN_EXP;

/** 2^k for k in −160…160 (POW2[k + 160]): a table, not Math.pow, in the per-group code. */
const POW2 = Float64Array.from({ length: 321 }, (_, i) => 2 ** (i - 160));
const pow2 = (k: number) => POW2[k + 160];

/** floor(log2 a) of a normal float32 a > 0. */
function exponentOf(a: number): number {
  bitsF32[0] = a;
  return (bitsU32[0] >>> 23) - 127;
}

/**
 * formats.ts roundToFormat(y, f) for a float32 y (the same value): the mantissa rounded to mbits
 * bits on the bit pattern, half to even (add 2^(k−1) − 1 plus the lowest kept bit, clear the
 * k = 23 − mbits low bits; a carry moves it to the next binade, as it should), the subnormal grid by
 * the double-precision sum. For the NVFP4 block scales (per group, not per element).
 */
export function roundToFormatFast(y: number, f: ElementFormat): number {
  if (y !== y) return NaN;
  const a = y < 0 ? -y : y;
  let r: number;
  if (a >= f.max) r = f.max;
  else if (a < pow2(f.emin)) {
    const c = 1.5 * pow2(52 + f.emin - f.mbits);
    r = a + c - c;
  } else {
    const shift = 23 - f.mbits;
    bitsF32[0] = a;
    const b = bitsU32[0];
    bitsU32[0] = (b + ((1 << (shift - 1)) - 1) + ((b >>> shift) & 1)) & ~((1 << shift) - 1);
    r = bitsF32[0];
    if (r > f.max) r = f.max;
  }
  return y < 0 ? -r : r;
}

/**
 * max |x| per column over rows [r0, r1) of src [rows, cols] (given as its bits) into amax; NaN for a
 * column holding a non-finite value. On the bits: |x|'s bit patterns order as |x| does, and every
 * NaN and ±Infinity is at or above 0x7f800000 (integer compares, no NaN rules to obey per element).
 */
function columnAbsmax(srcBits: Int32Array, cols: number, r0: number, r1: number, amax: Float64Array, top: Int32Array): void {
  top.fill(0);
  for (let i = r0; i < r1; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const m = srcBits[base + j] & 0x7fffffff;
      const t = top[j];
      top[j] = m > t ? m : t;
    }
  }
  for (let j = 0; j < cols; j++) {
    if (top[j] >= 0x7f800000) amax[j] = NaN;
    else {
      bitsU32[0] = top[j];
      amax[j] = bitsF32[0];
    }
  }
}

/** The scale of one group with absmax amax (NaN: not finite) under the format's rules; tensorScale for NVFP4. */
function groupScale(kind: 'fp8' | 'mx' | 'nv', f: ElementFormat, amax: number, tensorScale: number): number {
  if (amax !== amax) return NaN;
  if (kind === 'fp8') return Math.max(F(amax / f.max), F(SCALE_MIN));
  // mxScale: 2^max(floor(log2 amax) − emax, −126), a zero block 2^-126 too.
  if (kind === 'mx') return pow2(Math.max(exponentOf(Math.max(amax, MX_MIN)) - f.emax, MX_MIN_EXP));
  return F(tensorScale * roundToFormatFast(F(F(amax / E2M1.max) / tensorScale), E4M3));
}

/**
 * Fake-quant (quantize, dequantize) of src [inDim, outDim] with a format scheme into dst, equal to
 * quantizeWeights(src, [inDim, outDim], spec).values. The spec must be valid (checkSpec).
 */
export function formatQuantInto(src: Float32Array, dst: Float32Array, inDim: number, outDim: number, spec: QuantizerSpec): void {
  const info = formatInfo(spec.scheme);
  if (!info) throw new Error(`${spec.scheme} is not a format scheme`);
  const f = info.elem;
  const amax = new Float64Array(outDim);
  const top = new Int32Array(outDim);
  const srcBits = new Int32Array(src.buffer, src.byteOffset, src.length);
  const scale = new Float64Array(outDim);
  const rows = info.kind === 'fp8' ? inDim : (info.block as number);
  const tensorWide = info.kind === 'fp8' && spec.granularity === 'tensor';
  let tensorScale = 0;
  if (info.kind === 'nv' || tensorWide) {
    columnAbsmax(srcBits, outDim, 0, inDim, amax, top);
    let t = 0;
    for (let j = 0; j < outDim; j++) t = amax[j] !== amax[j] || t !== t ? NaN : Math.max(t, amax[j]);
    if (info.kind === 'nv') tensorScale = t === t ? Math.max(F(t / (E4M3.max * E2M1.max)), F(SCALE_MIN)) : NaN;
    else amax.fill(t);
  }
  // The element format's constants, in locals for the loops below (see the header): the magic
  // constant of each binade e in emin…emax, rounding to multiples of 2^(e − mbits).
  const max = f.max;
  const ebase = f.emin + 127;
  const etop = f.emax + 127;
  const magic = Float64Array.from({ length: f.emax - f.emin + 1 }, (_, k) => 1.5 * pow2(52 + f.emin + k - f.mbits));
  // y = F(x / scale) as F(x · (1/scale)) in double precision: the same float32. The quotient of two
  // float32 values is never within 2^-48 (relative) of a float32 rounding boundary unless on it
  // (|x − m·s| is a nonzero multiple of ulp(m)·ulp(s) for a midpoint m), and the product is within
  // 2^-52 of the quotient. (MX scales are powers of two: exact either way.)
  const divisor = new Float64Array(outDim);
  const inverse = new Float64Array(outDim);
  const f32 = bitsF32;
  const u32 = bitsU32;
  for (let r0 = 0; r0 < inDim; r0 += rows) {
    const r1 = Math.min(r0 + rows, inDim);
    if (!tensorWide) columnAbsmax(srcBits, outDim, r0, r1, amax, top);
    for (let j = 0; j < outDim; j++) {
      scale[j] = groupScale(info.kind, f, amax[j], tensorScale);
      // An NVFP4 block whose scale is 0 divides by 1 and multiplies by 0: ±0, as quantizeValue's x < 0 ? −0 : 0.
      divisor[j] = scale[j] === 0 ? 1 : scale[j];
      inverse[j] = 1 / divisor[j];
    }
    for (let i = r0; i < r1; i++) {
      const base = i * outDim;
      for (let j = 0; j < outDim; j++) {
        const y = F(src[base + j] * inverse[j]);
        // The binade of |y| (its float32 exponent field), clamped to the element's: emin below it
        // (the subnormal grid), emax above (those saturate).
        f32[0] = y;
        const e = (u32[0] >>> 23) & 255;
        const c = magic[(e < ebase ? ebase : e > etop ? etop : e) - ebase];
        const t = Math.abs(y) + c - c;
        // A NaN y only comes with a NaN scale (a non-finite group), which makes the product NaN.
        const r = t < max ? t : max;
        // roundToFormat's sign: y < 0 → −r (−0 gives +r).
        dst[base + j] = (y < 0 ? -r : r) * scale[j];
      }
    }
  }
}
