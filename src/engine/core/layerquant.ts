/**
 * A linear layer's quantizer, resolved from the config: the types every task's forward pass
 * uses, and labels. No tfjs here, so the page's main thread can use it.
 *
 * Two families: 'lab' is issue 2's convention (ternary absmean per tensor; symmetric absmax
 * with W·(2^(B−1)−1)/max|W|, per output channel or per tensor; quant.ts); 'zoo' is any
 * quantizer of the zoo (quantizers/). The 'auto' scheme picks 'lab' where it applies.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isFullPrecision, type ActConfig, type QuantConfig } from './config';
import { formatBlock } from './quantizers/formats';
import { specLabel, type QuantizerSpec, type SpecProblem } from './quantizers/spec';
import type { Rotation } from './rotation';

export type WeightQuant = { kind: 'lab'; bits: number; granularity: 'row' | 'tensor' } | { kind: 'zoo'; spec: QuantizerSpec };

/** A layer's activation quantizer beyond its bits (absent = dynamic int per example / token; act.ts). */
export interface ActSpec {
  format: ActConfig['format'];
  granularity: ActConfig['granularity'];
  /** An observer other than 'dynamic' calibrates one amax per tensor (LayerQuant.actAmax) before the layer is run. */
  observer: ActConfig['observer'];
}

/** One layer's quantization in a forward pass. `codebook` is refreshed by the trainer (k-means). */
export interface LayerQuant {
  weight: WeightQuant | null;
  /** Bits of the activation entering the layer; 0 = off. */
  actBits: number;
  codebook?: Tensor;
  /** The activation quantizer (act.ts); absent = dynamic int absmax per example / token. */
  act?: ActSpec;
  /** A static activation quantizer's clipping value, from its observer (calibrated before use). */
  actAmax?: number;
  /** AWQ / SmoothQuant scales s per input: the weight is quantized as diag(1/s)·Q(diag(s)·W), the activation as s·Qa(x/s). */
  smooth?: Float32Array;
  /**
   * Quantize in a randomized Hadamard basis of the layer's inputs (rotation.ts): the weight as
   * R·q(Rᵀ·W), the activation (when quantized) as q(x·R)·Rᵀ. The FP function is unchanged.
   */
  rotation?: Rotation | null;
}

/** The layer's activation side only (weights already on the grid): its bits, activation quantizer, calibrated amax, smoothing and rotation. */
export function activationOnly(l: LayerQuant): LayerQuant {
  const out: LayerQuant = { weight: null, actBits: l.actBits, rotation: l.rotation };
  if (l.act) out.act = l.act;
  if (l.actAmax !== undefined) out.actAmax = l.actAmax;
  if (l.smooth) out.smooth = l.smooth;
  return out;
}

/** The shape a layer's weights are quantized and stored at: [n, out] when rotated (n = its inputs padded to a power of two). */
export function quantizedShape(shape: readonly [number, number], rotation: Rotation | null | undefined): [number, number] {
  return [rotation ? rotation.n : shape[0], shape[1]];
}

/**
 * The quantizer for `bits` under the granularity, group size and clipping of `q` (null = FP).
 * The block formats (MX: 32, nvfp4: 16) fix their own blocking: they are 'group' granularity with
 * their block length whatever `gran` and `group` say, so they mix with any other scheme per layer.
 */
export function resolveWeightQuant(q: QuantConfig, bits: number, scheme: QuantConfig['scheme']): WeightQuant | null {
  if (isFullPrecision(bits)) return null;
  const { clip } = q;
  const block = formatBlock(scheme);
  const granularity = block !== undefined ? 'group' : q.granularity;
  const groupSize = block ?? q.groupSize;
  const simple = (granularity === 'row' || granularity === 'tensor') && clip === 'none';
  if (scheme === 'auto') {
    if (bits === 1.58 && simple) return { kind: 'lab', bits, granularity: 'tensor' };
    if (bits !== 1 && bits !== 1.58 && simple) return { kind: 'lab', bits, granularity };
    scheme = bits === 1 ? 'binary' : bits === 1.58 ? 'ternary' : 'sym-narrow';
  }
  return { kind: 'zoo', spec: { scheme, bits, granularity, groupSize, clip } };
}

/** The zoo spec equivalent to a layer's quantizer (for GPTQ and storage accounting). */
export function asZooSpec(w: WeightQuant): QuantizerSpec {
  if (w.kind === 'zoo') return w.spec;
  if (w.bits === 1.58) return { scheme: 'ternary', bits: 1.58, granularity: 'tensor', clip: 'none' };
  return { scheme: 'sym-narrow', bits: w.bits, granularity: w.granularity, clip: 'none' };
}

export function weightQuantLabel(w: WeightQuant | null): string {
  if (!w) return 'FP32';
  if (w.kind === 'lab') return w.bits === 1.58 ? 'ternary absmean' : `int${w.bits} absmax ${w.granularity}`;
  return specLabel(w.spec);
}

/**
 * A setting that cannot work with the others: `key` is the URL key to blame, `also` the keys
 * that are reset with it when it is already at its default.
 */
export interface ConfigProblem {
  key: string;
  message: string;
  also?: string[];
}

/**
 * The URL key a spec problem is shown at: granularity, group size and clipping at their own
 * fields; the scheme otherwise (a scheme that does not take the bit-width). `bitsKey` replaces
 * 'scheme' where the bits have their own key (the LM's bits_attn, …); `lq` blames an override.
 */
export function specProblemKey(field: SpecProblem['field'], schemeKey = 'scheme'): string {
  if (field === 'granularity') return 'gran';
  if (field === 'groupSize') return 'group';
  if (field === 'clip') return 'clip';
  return schemeKey;
}

/** Whether a quantizer can have learned scales (LSQ, scale-only): the lab's symmetric absmax with integer bits 2–8, per channel or per tensor. */
export function hasLearnedScale(w: WeightQuant): boolean {
  return w.kind === 'lab' && Number.isInteger(w.bits) && w.bits >= 2 && w.bits <= 8;
}

/** Why LSQ and scale-only do not run with a rotation: their learned scales belong to the unrotated weights' channels and codes. */
export function rotationRefused(method: 'lsq' | 'scaleonly'): string {
  return `${method === 'lsq' ? 'LSQ' : 'Scale-only fine-tuning'} learns the scales of the weights as stored and does not quantize in a rotated basis: turn the rotation off (setting "rot").`;
}

/** A quantized weight matrix (or a group of them) of a task, as learnedScaleProblemsOf checks it. */
export interface LearnedScaleTarget {
  /** How the message names it ("layer 2", "attn"). */
  name: string;
  /** Its resolved quantizer (null = full precision: nothing to check). */
  weight: WeightQuant | null;
  /** The URL key of its bits ("bits", "bits_attn"). */
  bitsKey: string;
  /** The one key to blame whatever is wrong (a per-layer override: "lq"); default: bits, scheme, clip or gran, whichever is off. */
  key?: string;
}

/**
 * Why LSQ and scale-only fine-tuning cannot run on a task's quantized matrices (empty = they
 * can): both need the lab's symmetric integer weights of 2–8 bits (scheme auto, no clipping) with
 * one scale per output channel or per tensor. One message per distinct problem.
 */
export function learnedScaleProblemsOf(method: 'lsq' | 'scaleonly', q: Pick<QuantConfig, 'scheme' | 'clip'>, targets: readonly LearnedScaleTarget[]): string[] {
  const name = method === 'lsq' ? 'LSQ' : 'Scale-only fine-tuning';
  const out: string[] = [];
  for (const t of targets) {
    const w = t.weight;
    if (!w) continue;
    if (hasLearnedScale(w)) continue;
    const bits = w.kind === 'lab' ? w.bits : w.spec.bits;
    const intBits = Number.isInteger(bits) && bits >= 2 && bits <= 8;
    const key = t.key ?? (!intBits ? t.bitsKey : q.scheme !== 'auto' ? 'scheme' : q.clip !== 'none' ? 'clip' : 'gran');
    const what = w.kind === 'lab' ? `${w.bits} bits` : specLabel(w.spec);
    out.push(
      `${name} needs integer weight bits 2–8 with scheme auto, per-channel or per-tensor granularity and no clipping; ${t.name} has ${what} (setting "${key}").`,
    );
  }
  return [...new Set(out)];
}
