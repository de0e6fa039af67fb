/**
 * The quantizer zoo's spec type, its validation, the NF4 code table and storage accounting.
 *
 * Layout: weight matrices are stored [in, out] (row-major, index i·out + j), as in model.ts.
 * "Row" / "output channel" j is a COLUMN of that storage; a "group" is a run of g consecutive
 * input indices i within one output channel j; a "block" is a run of B consecutive elements of
 * the tensor flattened in PyTorch's [out, in] order (= Wᵀ flattened), i.e. bitsandbytes' blocks:
 * it runs along the input dimension, may cross into the next output channel when B does not
 * divide `in`, and the last partial block gets its own statistics.
 *
 * The formats of formats.ts: fp8-e4m3 / fp8-e5m2 take granularity 'tensor' or 'row' (an FP32
 * scale each); the MX schemes and nvfp4 ARE 'group' granularity with their block length (32,
 * 16): MX's block runs along the reduction (input) dimension within one output channel, exactly a
 * group. For them alone the group length need not divide `in`: each channel's last, partial
 * block gets its own scale (as MX pads a short row).
 */
import {
  FORMAT_INFO,
  FORMAT_SCHEMES,
  FP8_SCALE_BITS,
  formatInfo,
  MX_SCALE_BITS,
  NV_BLOCK_SCALE_BITS,
  NV_TENSOR_SCALE_BITS,
  type FormatScheme,
} from './formats';

export const SCHEMES = ['sym-narrow', 'sym-full', 'asym', 'ternary', 'binary', 'kmeans', 'nf4', ...FORMAT_SCHEMES] as const;
export type Scheme = (typeof SCHEMES)[number];

export const ZOO_GRANULARITIES = ['tensor', 'row', 'group', 'block'] as const;
export type ZooGranularity = (typeof ZOO_GRANULARITIES)[number];

/** Group / block sizes offered in the UI (any positive integer is accepted by the engine). */
export const GROUP_SIZES = [32, 64, 128] as const;

export const CLIPS = ['none', 'mse'] as const;
export type Clip = (typeof CLIPS)[number];

export interface QuantizerSpec {
  scheme: Scheme;
  /**
   * Bits per weight code. sym-narrow / sym-full / asym: integer 2..8; ternary: 1.58; binary: 1;
   * nf4: 4; kmeans: integer 1..8 (2^bits centroids); the formats: their element's bits (8, 6 or 4).
   */
  bits: number;
  granularity: ZooGranularity;
  /** Elements per group ('group') or block ('block'); ignored otherwise. */
  groupSize?: number;
  /** 'mse': GPTQ quant.py shrink search (grid 100, maxshrink 0.8, norm 2.4); sym/asym/nf4 only. */
  clip: Clip;
}

/** MSE clipping search constants (IST-DASLab/gptq quant.py defaults). */
export const MSE_GRID = 100;
export const MSE_MAXSHRINK = 0.8;
export const MSE_NORM = 2.4;

/** Lab rule (quantization-methods.md §2.3): scales are clamped to at least this. */
export const SCALE_MIN = 1e-8;
/** BitNet's clamp on the absmean statistic (kept for ternary, to match quant.ts / 1bitLLM). */
export const TERNARY_EPS = 1e-5;

/** bitsandbytes NF4 code table (get_4bit_type('nf4')), ascending, as float32. */
export const NF4_LEVELS: Float32Array = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/** Midpoints between consecutive sorted levels, in float32 as numpy computes (a+b)/2. */
export function midpoints32(levels: ArrayLike<number>): Float32Array {
  const m = new Float32Array(Math.max(0, levels.length - 1));
  for (let k = 0; k < m.length; k++) m[k] = Math.fround(Math.fround(levels[k] + levels[k + 1]) / 2);
  return m;
}
export const NF4_MIDPOINTS: Float32Array = midpoints32(NF4_LEVELS);

/** Whether the scheme is a uniform integer grid with a scale (and maybe a zero point). */
export const isUniform = (s: Scheme): boolean => s === 'sym-narrow' || s === 'sym-full' || s === 'asym';

/** One problem with a spec: the spec field to blame and a readable message. */
export interface SpecProblem {
  field: 'scheme' | 'bits' | 'granularity' | 'groupSize' | 'clip';
  message: string;
}

/** Problems with a spec, each with the field to blame (empty = valid). Shape-dependent checks are in checkSpec. */
export function specProblems(spec: QuantizerSpec): SpecProblem[] {
  const e: SpecProblem[] = [];
  const push = (field: SpecProblem['field'], message: string) => e.push({ field, message });
  const { scheme, bits, granularity, clip } = spec;
  if (!SCHEMES.includes(scheme)) push('scheme', `unknown scheme '${scheme}'`);
  if (!ZOO_GRANULARITIES.includes(granularity)) push('granularity', `unknown granularity '${granularity}'`);
  if (!CLIPS.includes(clip)) push('clip', `unknown clip '${clip}'`);
  const intIn = (lo: number, hi: number) => Number.isInteger(bits) && bits >= lo && bits <= hi;
  if (isUniform(scheme) && !intIn(2, 8)) push('bits', `${scheme} needs integer bits 2–8, got ${bits}`);
  if (scheme === 'ternary' && bits !== 1.58) push('bits', `ternary is 1.58 bits, got ${bits}`);
  if (scheme === 'binary' && bits !== 1) push('bits', `binary is 1 bit, got ${bits}`);
  if (scheme === 'nf4' && bits !== 4) push('bits', `nf4 is 4 bits, got ${bits}`);
  if (scheme === 'kmeans' && !intIn(1, 8)) push('bits', `kmeans needs integer bits 1–8, got ${bits}`);
  if (scheme === 'kmeans' && granularity !== 'tensor' && granularity !== 'row')
    push('granularity', `kmeans codebooks are per tensor or per row, not per ${granularity}`);
  const fmt = formatInfo(scheme);
  if (fmt) {
    if (bits !== fmt.bits) push('bits', `${scheme} is ${fmt.bits} bits (bits=${fmt.bits}), got ${bits}`);
    if (fmt.kind === 'fp8' && granularity !== 'tensor' && granularity !== 'row')
      push('granularity', `${scheme} has one FP32 scale per tensor or per output channel (gran=tensor or gran=row), not per ${granularity}`);
    if (fmt.block !== undefined && (granularity !== 'group' || spec.groupSize !== fmt.block))
      push(
        granularity === 'group' ? 'groupSize' : 'granularity',
        `${scheme} has one scale per block of ${fmt.block} consecutive inputs (gran=group, group=${fmt.block}), got ` +
          (granularity === 'group' ? `group=${spec.groupSize}` : `gran=${granularity}`),
      );
  }
  if (clip === 'mse' && !(isUniform(scheme) || scheme === 'nf4')) push('clip', `clip 'mse' applies to sym-narrow, sym-full, asym and nf4, not ${scheme}`);
  if (granularity === 'group' || granularity === 'block') {
    const g = spec.groupSize;
    if (g === undefined || !Number.isInteger(g) || g < 1) push('groupSize', `${granularity} granularity needs a positive integer groupSize, got ${g}`);
  }
  return e;
}

/** Readable problems with a spec (empty = valid). Shape-dependent checks are in checkSpec. */
export function validateSpec(spec: QuantizerSpec): string[] {
  return specProblems(spec).map((p) => p.message);
}

/** The spec of a format scheme: the MX formats and NVFP4 with their own blocks ('group'), FP8 with one scale per output channel ('row') or per tensor. */
export function formatSpec(scheme: FormatScheme, granularity: 'row' | 'tensor' = 'row'): QuantizerSpec {
  const f = FORMAT_INFO[scheme];
  return f.block !== undefined
    ? { scheme, bits: f.bits, granularity: 'group', groupSize: f.block, clip: 'none' }
    : { scheme, bits: f.bits, granularity, clip: 'none' };
}

/** Every spec the format schemes take: each block format once, FP8 per row and per tensor. */
export const allFormatSpecs = (): QuantizerSpec[] =>
  FORMAT_SCHEMES.flatMap((s) => (FORMAT_INFO[s].block !== undefined ? [formatSpec(s)] : [formatSpec(s, 'row'), formatSpec(s, 'tensor')]));

/** Whether a 'group' spec may leave a partial last group per channel (the block formats only). */
export const allowsPartialGroups = (spec: Pick<QuantizerSpec, 'scheme'>): boolean => formatInfo(spec.scheme)?.block !== undefined;

/** Groups per output channel along `inDim` (the last one may be partial for the block formats). */
export const groupsPerChannel = (spec: QuantizerSpec, inDim: number): number => Math.ceil(inDim / (spec.groupSize as number));

/** Throws a readable error for an invalid spec or a group size that does not divide `inDim`. */
export function checkSpec(spec: QuantizerSpec, inDim?: number): void {
  const e = validateSpec(spec);
  if (e.length) throw new Error(`Invalid quantizer spec: ${e.join('; ')}`);
  if (inDim !== undefined && spec.granularity === 'group' && !allowsPartialGroups(spec) && inDim % (spec.groupSize as number) !== 0) {
    throw new Error(
      `group size ${spec.groupSize} does not divide the input dimension ${inDim}; ` +
        `choose a group size that divides it, or 'block' granularity (blocks may straddle output channels)`,
    );
  }
}

/** Number of groups that carry their own scale / zero point / codebook, for a [in, out] weight. */
export function groupCount(spec: QuantizerSpec, inDim: number, outDim: number): number {
  switch (spec.granularity) {
    case 'tensor':
      return 1;
    case 'row':
      return outDim;
    case 'group':
      checkSpec(spec, inDim);
      return outDim * groupsPerChannel(spec, inDim);
    case 'block':
      return Math.ceil((inDim * outDim) / (spec.groupSize as number));
  }
}

export interface StorageOptions {
  /** Bits of each stored scale (absmax, step, absmean, centroid). Default 16 (fp16). The formats fix their own. */
  scaleBits?: number;
}

export interface StorageBits {
  weights: number;
  /** Bits of the codes: weights × code bits (ternary counted at log2 3 ≈ 1.585). */
  codeBits: number;
  /**
   * Scales, zero points (asym: `bits` bits each) and codebooks (kmeans: 2^bits × scaleBits). The formats:
   * FP8 32 bits per tensor or channel scale; MX 8 (E8M0) per block; NVFP4 8 (E4M3) per block + 32 per tensor.
   */
  overheadBits: number;
  totalBits: number;
  bitsPerWeight: number;
}

/** Storage of a quantized [in, out] weight, including scales / zero points / codebooks. */
export function storageBits(spec: QuantizerSpec, shape: readonly [number, number], opts: StorageOptions = {}): StorageBits {
  checkSpec(spec, shape[0]);
  const sb = opts.scaleBits ?? 16;
  const weights = shape[0] * shape[1];
  const code = spec.scheme === 'ternary' ? Math.log2(3) : spec.bits;
  const groups = groupCount(spec, shape[0], shape[1]);
  const fmt = formatInfo(spec.scheme);
  let perGroup: number;
  let perTensor = 0;
  if (spec.scheme === 'asym') perGroup = sb + spec.bits;
  else if (spec.scheme === 'kmeans') perGroup = 2 ** spec.bits * sb;
  else if (fmt?.kind === 'fp8') perGroup = FP8_SCALE_BITS;
  else if (fmt?.kind === 'mx') perGroup = MX_SCALE_BITS;
  else if (fmt?.kind === 'nv') {
    perGroup = NV_BLOCK_SCALE_BITS;
    perTensor = NV_TENSOR_SCALE_BITS;
  } else perGroup = sb;
  const codeBits = weights * code;
  const overheadBits = groups * perGroup + perTensor;
  const totalBits = codeBits + overheadBits;
  return { weights, codeBits, overheadBits, totalBits, bitsPerWeight: totalBits / weights };
}

/** A short label, e.g. "int4 asym g128 mse", "nf4 b64", "ternary row", "MXFP4 g32", "FP8 E4M3 row". */
export function specLabel(spec: QuantizerSpec): string {
  const fmt = formatInfo(spec.scheme);
  if (fmt) return `${fmt.label} ${spec.granularity === 'group' ? `g${spec.groupSize}` : spec.granularity}`;
  const name =
    spec.scheme === 'ternary' || spec.scheme === 'binary' || spec.scheme === 'nf4'
      ? spec.scheme
      : spec.scheme === 'kmeans'
        ? `kmeans${spec.bits}`
        : `int${spec.bits} ${spec.scheme}`;
  const gran = spec.granularity === 'group' ? `g${spec.groupSize}` : spec.granularity === 'block' ? `b${spec.groupSize}` : spec.granularity;
  return `${name} ${gran}${spec.clip === 'mse' ? ' mse' : ''}`;
}
