/**
 * The low-precision formats people ship (reference: formats.md, from the OCP MX and OFP8 specs): the element
 * formats FP8 E4M3 / E5M2, FP6 E2M3 / E3M2, FP4 E2M1 and MX's INT8, the scalar rounding onto
 * their grids, and the scale rules of the schemes built on them: FP8 with a tensor or channel
 * scale, the MX block formats (E8M0 scale per 32 inputs) and NVFP4 (E4M3 scale per 16 inputs
 * and an FP32 tensor scale). No imports: spec.ts, core.ts and tf.ts all build on this file.
 *
 * Decisions (the formats leave them to the implementation):
 * - Conversion is round-to-nearest-even on the float grid, subnormals included, and SATURATING:
 *   a magnitude above the largest normal (±Infinity too) becomes ±max (as torchao and
 *   microxcaling cast for training). E4M3's 480 (S.1111.111 is NaN) is never produced.
 * - NaN: the element conversion keeps NaN. A scale group (tensor, channel or block) holding a
 *   non-finite value gets a NaN scale (MX: E8M0 code 255), so every value sharing that scale is
 *   NaN (what torchao's amax-based scales give). The lab refuses non-finite weights before it
 *   quantizes anyway; this only says what the quantizer would do.
 * - MX scale: OCP's "floor" rule X = 2^(floor(log2 amax) − emax_elem), so the largest element of
 *   a block can saturate (amax 7.5 → 6 in MXFP4). A zero block gets E8M0's smallest scale 2^-127
 *   (code 0). For the arithmetic the scale is at least 2^-126 (float32's smallest normal, as
 *   torchao: 2^-127 is a float32 subnormal that GPUs flush to zero); no finite weight notices.
 *   The "rceil" variant (scale rounded up so nothing saturates) is not offered.
 * - MXINT8: elements k/64 with k in −127…127 (symmetric, as microxcaling; −128/64 is unused).
 * - NVFP4 (torchao's order of float32 operations): s_t = max(amax_tensor / 2688, 1e-8);
 *   s_b = E4M3((amax_block / 6) / s_t) without a lower clamp (E4M3 subnormals are scales too;
 *   torchao clamps at 2^-6), a block whose s_b rounds to 0 is all ±0; total = s_t·s_b,
 *   q = E2M1(x / total), value = q·total.
 * - FP8 with a tensor or channel scale: s = max(amax / max_normal, 1e-8) (the lab's scale floor).
 */

/** Round half to even, exactly as tfjs' Round kernels (and torch.round). Never use Math.round. */
export function roundHalfEven(x: number): number {
  const base = Math.floor(x);
  const d = x - base;
  if (d < 0.5) return base;
  if (d > 0.5) return Math.ceil(x);
  return base % 2 === 0 ? base : base + 1;
}

/**
 * A sign-magnitude element format: normals (1 + m/2^mbits)·2^e for e in emin…emax, subnormals
 * (m/2^mbits)·2^emin, saturating at ±max. MX's INT8 is the case emin = emax = 0, mbits = 6.
 */
export interface ElementFormat {
  name: string;
  ebits: number;
  mbits: number;
  /** Exponent bias (INT8: none, 0). */
  bias: number;
  /** Exponent of the smallest normal, 1 − bias; the subnormal step is 2^(emin − mbits). */
  emin: number;
  /** Exponent of the largest normal (MX's emax_elem). */
  emax: number;
  /** Largest finite magnitude. */
  max: number;
}

export const E4M3: ElementFormat = { name: 'E4M3', ebits: 4, mbits: 3, bias: 7, emin: -6, emax: 8, max: 448 };
export const E5M2: ElementFormat = { name: 'E5M2', ebits: 5, mbits: 2, bias: 15, emin: -14, emax: 15, max: 57344 };
export const E2M3: ElementFormat = { name: 'E2M3', ebits: 2, mbits: 3, bias: 1, emin: 0, emax: 2, max: 7.5 };
export const E3M2: ElementFormat = { name: 'E3M2', ebits: 3, mbits: 2, bias: 3, emin: -2, emax: 4, max: 28 };
export const E2M1: ElementFormat = { name: 'E2M1', ebits: 2, mbits: 1, bias: 1, emin: 0, emax: 2, max: 6 };
/** MX INT8: two's complement with an implicit scale 2^-6, used symmetrically (±127/64). */
export const INT8_MX: ElementFormat = { name: 'INT8', ebits: 0, mbits: 6, bias: 0, emin: 0, emax: 0, max: 127 / 64 };

/** floor(log2 a) for a finite a > 0, exact (Math.log2 corrected by exact powers of two). */
export function floorLog2(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** x rounded to the nearest value of format `f` (ties to even mantissa), saturating; NaN stays NaN. */
export function roundToFormat(x: number, f: ElementFormat): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let r: number;
  if (a >= f.max) r = f.max;
  else {
    const e = a === 0 ? f.emin : Math.min(Math.max(floorLog2(a), f.emin), f.emax);
    const q = 2 ** (e - f.mbits);
    r = Math.min(roundHalfEven(a / q) * q, f.max);
  }
  return x < 0 ? -r : r;
}

/** The schemes built on these formats. */
export const FORMAT_SCHEMES = ['fp8-e4m3', 'fp8-e5m2', 'mxfp8-e4m3', 'mxfp8-e5m2', 'mxfp6-e2m3', 'mxfp6-e3m2', 'mxfp4', 'mxint8', 'nvfp4'] as const;
export type FormatScheme = (typeof FORMAT_SCHEMES)[number];

export const isFormatScheme = (x: unknown): x is FormatScheme => (FORMAT_SCHEMES as readonly unknown[]).includes(x);

export interface FormatInfo {
  /** 'fp8': one FP32 scale per tensor or channel; 'mx': E8M0 per block; 'nv': NVFP4. */
  kind: 'fp8' | 'mx' | 'nv';
  elem: ElementFormat;
  /** Bits per element code. */
  bits: number;
  /** Block length along the input dimension ('mx', 'nv'); the spec's group size. */
  block?: number;
  /** Readable name, e.g. "MXFP4". */
  label: string;
}

export const FORMAT_INFO: Record<FormatScheme, FormatInfo> = {
  'fp8-e4m3': { kind: 'fp8', elem: E4M3, bits: 8, label: 'FP8 E4M3' },
  'fp8-e5m2': { kind: 'fp8', elem: E5M2, bits: 8, label: 'FP8 E5M2' },
  'mxfp8-e4m3': { kind: 'mx', elem: E4M3, bits: 8, block: 32, label: 'MXFP8 E4M3' },
  'mxfp8-e5m2': { kind: 'mx', elem: E5M2, bits: 8, block: 32, label: 'MXFP8 E5M2' },
  'mxfp6-e2m3': { kind: 'mx', elem: E2M3, bits: 6, block: 32, label: 'MXFP6 E2M3' },
  'mxfp6-e3m2': { kind: 'mx', elem: E3M2, bits: 6, block: 32, label: 'MXFP6 E3M2' },
  mxfp4: { kind: 'mx', elem: E2M1, bits: 4, block: 32, label: 'MXFP4' },
  mxint8: { kind: 'mx', elem: INT8_MX, bits: 8, block: 32, label: 'MXINT8' },
  nvfp4: { kind: 'nv', elem: E2M1, bits: 4, block: 16, label: 'NVFP4' },
};

export function formatInfo(scheme: string): FormatInfo | undefined {
  return (FORMAT_INFO as Record<string, FormatInfo | undefined>)[scheme];
}

/** Block length a scheme fixes for itself (MX 32, NVFP4 16); undefined for the others. */
export const formatBlock = (scheme: string): number | undefined => formatInfo(scheme)?.block;

/** Bits of each stored scale: E8M0 and E4M3 8, FP32 32. */
export const MX_SCALE_BITS = 8;
export const NV_BLOCK_SCALE_BITS = 8;
export const NV_TENSOR_SCALE_BITS = 32;
export const FP8_SCALE_BITS = 32;

/** E8M0: exponent bias, the NaN code, and the smallest exponent used in arithmetic (see the header). */
export const E8M0_BIAS = 127;
export const E8M0_NAN = 255;
export const MX_MIN_EXP = -126;

/**
 * The E8M0 code (0…254, 255 = NaN) of an MX block's shared scale under the floor rule:
 * 127 + clamp(floor(log2 amax) − emax_elem, −127, 127); a zero block gets code 0 (2^-127).
 */
export function mxScaleCode(amax: number, f: ElementFormat): number {
  if (!Number.isFinite(amax)) return E8M0_NAN;
  if (amax === 0) return 0;
  return E8M0_BIAS + Math.min(Math.max(floorLog2(amax) - f.emax, -E8M0_BIAS), E8M0_BIAS);
}

/** The scale an MX block is computed with: 2^max(code − 127, −126); NaN for code 255. */
export function mxScale(amax: number, f: ElementFormat): number {
  const code = mxScaleCode(amax, f);
  return code === E8M0_NAN ? NaN : 2 ** Math.max(code - E8M0_BIAS, MX_MIN_EXP);
}

/** NVFP4's FP32 tensor scale amax / (448·6), at least `floor` (the lab's 1e-8); NaN for a non-finite amax. */
export function nvTensorScale(amax: number, F: (x: number) => number, floor: number): number {
  return Number.isFinite(amax) ? Math.max(F(amax / (E4M3.max * E2M1.max)), F(floor)) : NaN;
}

/** NVFP4's E4M3 block scale for a block with absmax `amax` under tensor scale `st`. */
export function nvBlockScale(amax: number, st: number, F: (x: number) => number): number {
  return roundToFormat(F(F(amax / E2M1.max) / st), E4M3);
}
