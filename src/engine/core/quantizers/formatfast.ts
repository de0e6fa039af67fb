/**
 * The format schemes (formats.ts) in one pass over a weight [in, out], for the CPU backends' fused
 * kernel (kernels/formats.ts): the same scale rules and float32 operations as quantizeWeights
 * (host.ts → core.ts fitFormat / quantizeValue, precision F32), hence the same values bit for
 * bit, without the per-group index lists, closures and Math.log2 of the general path.
 *
 * - Statistics run row by row (all columns at once), so the reads follow the [in, out] layout; a
 *   column's absmax is an integer max over the bit patterns of |x|.
 * - Rounding y to the element grid (roundToFormat) by a table on y's float32 bit pattern: for an
 *   element of mbits mantissa bits, round to nearest even depends only on the sign, the exponent, the
 *   top mbits + 1 mantissa bits (the last one is the round bit in the element's normal range; in its
 *   subnormal range the round bit lies higher) and whether any bit below them is set (ties). So
 *   LUT[(bits >>> (22 − mbits))·2 + sticky] holds roundToFormat of a representative of each class,
 *   computed once per format by formats.ts itself (2^(11 + mbits) entries: 4096 for E2M1, 131072
 *   for MX INT8). NaN and ±Infinity classes give NaN and ±max, as roundToFormat.
 * - y = F(x / s) as F(x · (1/s)): the same float32 (see formatQuantInto).
 * One loop per row, no branch per element: on V8 a few ns per weight.
 */
import { E2M1, E4M3, formatInfo, MX_MIN_EXP, roundToFormat, type ElementFormat } from './formats';
import { SCALE_MIN, type QuantizerSpec } from './spec';

const F = Math.fround;
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);
const MX_MIN = 2 ** MX_MIN_EXP;

/** roundToFormat's table on float32 bit classes (see the header), built once per element format. */
const tables = new Map<ElementFormat, Float64Array>();
function roundingTable(f: ElementFormat): Float64Array {
  let t = tables.get(f);
  if (t) return t;
  const shift = 22 - f.mbits;
  t = new Float64Array(2 ** (32 - shift) * 2);
  for (let c = 0; c < 2 ** (32 - shift); c++) {
    // The class's kept bits, and the same with the lowest dropped bit set (a sticky, below any tie).
    for (const sticky of [0, 1]) {
      bitsU32[0] = ((c << shift) | sticky) >>> 0;
      t[2 * c + sticky] = roundToFormat(bitsF32[0], f);
    }
  }
  tables.set(f, t);
  return t;
}

/** 2^k for k in −160…160 (POW2[k + 160]): a table, not Math.pow, in the per-group code. */
const POW2 = Float64Array.from({ length: 321 }, (_, i) => 2 ** (i - 160));
const pow2 = (k: number) => POW2[k + 160];

/** floor(log2 a) of a normal float32 a > 0. */
function exponentOf(a: number): number {
  bitsF32[0] = a;
  return (bitsU32[0] >>> 23) - 127;
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

const E4M3_TABLE = roundingTable(E4M3);
const E4M3_SHIFT = 22 - E4M3.mbits;
const E4M3_LOW = (1 << E4M3_SHIFT) - 1;

/** The scale of one group with absmax amax (NaN: not finite) under the format's rules; tensorScale for NVFP4. */
function groupScale(kind: 'fp8' | 'mx' | 'nv', f: ElementFormat, amax: number, tensorScale: number): number {
  if (amax !== amax) return NaN;
  if (kind === 'fp8') return Math.max(F(amax / f.max), F(SCALE_MIN));
  // mxScale: 2^max(floor(log2 amax) − emax, −126), a zero block 2^-126 too.
  if (kind === 'mx') return pow2(Math.max(exponentOf(Math.max(amax, MX_MIN)) - f.emax, MX_MIN_EXP));
  bitsF32[0] = F(amax / E2M1.max) / tensorScale;
  const b = bitsU32[0];
  return F(tensorScale * E4M3_TABLE[((b >>> E4M3_SHIFT) << 1) | (((b & E4M3_LOW) + E4M3_LOW) >>> E4M3_SHIFT)]);
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
  // The element format's rounding table (see the header), its class shift and sticky mask.
  const table = roundingTable(f);
  const shift = 22 - f.mbits;
  const low = (1 << shift) - 1;
  // y = F(x / scale) as F(x · (1/scale)) in double precision: the same float32. The quotient of two
  // float32 values is never within 2^-48 (relative) of a float32 rounding boundary unless on it
  // (|x − m·s| is a nonzero multiple of ulp(m)·ulp(s) for a midpoint m), and the product is within
  // 2^-52 of the quotient. (MX scales are powers of two: exact either way.)
  const inverse = new Float64Array(outDim);
  // y goes through dst (the store rounds it to float32) and is read back as bits.
  const dstBits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let r0 = 0; r0 < inDim; r0 += rows) {
    const r1 = Math.min(r0 + rows, inDim);
    if (!tensorWide) columnAbsmax(srcBits, outDim, r0, r1, amax, top);
    for (let j = 0; j < outDim; j++) {
      scale[j] = groupScale(info.kind, f, amax[j], tensorScale);
      // An NVFP4 block whose scale is 0 divides by 1 and multiplies by 0: ±0, as quantizeValue's x < 0 ? −0 : 0.
      inverse[j] = 1 / (scale[j] === 0 ? 1 : scale[j]);
    }
    for (let i = r0; i < r1; i++) {
      const base = i * outDim;
      for (let j = 0; j < outDim; j++) {
        const k = base + j;
        dst[k] = src[k] * inverse[j];
        const b = dstBits[k];
        // The class of y (sign, exponent, top mantissa bits) and whether a bit below them is set:
        // ((b & low) + low) >>> shift is 1 exactly then. A NaN y comes only with a NaN scale.
        dst[k] = table[((b >>> shift) << 1) | (((b & low) + low) >>> shift)] * scale[j];
      }
    }
  }
}
