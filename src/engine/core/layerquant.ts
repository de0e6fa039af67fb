/**
 * A linear layer's quantizer, resolved from the config: the types every task's forward pass
 * uses, and labels. No tfjs here, so the page's main thread can use it.
 *
 * Two families: 'lab' is issue 2's convention (ternary absmean per tensor; symmetric absmax
 * with W·(2^(B−1)−1)/max|W|, per output channel or per tensor; quant.ts); 'zoo' is any
 * quantizer of the zoo (quantizers/). The 'auto' scheme picks 'lab' where it applies.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isFullPrecision, type QuantConfig } from './config';
import { formatBlock } from './quantizers/formats';
import { specLabel, type QuantizerSpec, type SpecProblem } from './quantizers/spec';

export type WeightQuant = { kind: 'lab'; bits: number; granularity: 'row' | 'tensor' } | { kind: 'zoo'; spec: QuantizerSpec };

/** One layer's quantization in a forward pass. `codebook` is refreshed by the trainer (k-means). */
export interface LayerQuant {
  weight: WeightQuant | null;
  /** Bits of the activation entering the layer; 0 = off. */
  actBits: number;
  codebook?: Tensor;
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
