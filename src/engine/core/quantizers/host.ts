/**
 * Round-to-nearest quantization of a host weight matrix (Float32Array, [in, out] row-major)
 * with any zoo spec. Arithmetic is float32 step by step in the same order as the tfjs version
 * (tf.ts), so on the cpu backend both give identical values.
 */
import { absMax, F32, fitGroup, quantizeValue, type GroupQuant } from './core';
import type { KmeansOptions } from './kmeans';
import { checkSpec, groupsPerChannel, type QuantizerSpec } from './spec';

export interface QuantizedWeights {
  /** Fake-quantized (dequantized) weights, same [in, out] layout. */
  values: Float32Array;
  /** kmeans only: centroids [groups × 2^bits], ascending per group (groups = 1 or out). */
  codebook?: Float32Array;
  /** kmeans only: per-group distortion history (non-increasing). */
  kmeansHistory?: number[][];
}

/**
 * Calls `visit(idx, len)` once per group with the flat [in, out] indices of its elements in
 * accumulation order (the order tfjs reduces them in). `idx` is reused between calls.
 */
export function forEachGroup(spec: QuantizerSpec, inDim: number, outDim: number, visit: (idx: Int32Array, len: number, group: number) => void): void {
  checkSpec(spec, inDim);
  const n = inDim * outDim;
  switch (spec.granularity) {
    case 'tensor': {
      visit(
        Int32Array.from({ length: n }, (_, t) => t),
        n,
        0,
      );
      return;
    }
    case 'row': {
      const idx = new Int32Array(inDim);
      for (let j = 0; j < outDim; j++) {
        for (let i = 0; i < inDim; i++) idx[i] = i * outDim + j;
        visit(idx, inDim, j);
      }
      return;
    }
    case 'group': {
      const g = spec.groupSize as number;
      const idx = new Int32Array(g);
      let group = 0;
      // Group order: (input group k, output j) — the order of the tf view [⌈in/g⌉, g, out]. Only the
      // block formats may have a partial last group (checkSpec), of in − k·g inputs.
      for (let k = 0; k < groupsPerChannel(spec, inDim); k++) {
        const len = Math.min(g, inDim - k * g);
        for (let j = 0; j < outDim; j++) {
          for (let t = 0; t < len; t++) idx[t] = (k * g + t) * outDim + j;
          visit(idx, len, group++);
        }
      }
      return;
    }
    case 'block': {
      const bsz = spec.groupSize as number;
      const idx = new Int32Array(bsz);
      let group = 0;
      for (let start = 0; start < n; start += bsz) {
        const len = Math.min(bsz, n - start);
        for (let t = 0; t < len; t++) {
          const p = start + t; // position in the flattened [out, in] order
          const j = Math.floor(p / inDim);
          const i = p - j * inDim;
          idx[t] = i * outDim + j;
        }
        visit(idx, len, group++);
      }
      return;
    }
  }
}

/** RTN-quantize `w` ([in, out]) with `spec`. Throws on an invalid spec or a non-dividing group size (formats excepted). */
export function quantizeWeights(w: Float32Array, shape: readonly [number, number], spec: QuantizerSpec, kopts?: KmeansOptions): QuantizedWeights {
  const [inDim, outDim] = shape;
  if (w.length !== inDim * outDim) throw new Error(`weight has ${w.length} elements, shape [${inDim}, ${outDim}] needs ${inDim * outDim}`);
  const values = new Float32Array(w.length);
  const kmeans = spec.scheme === 'kmeans';
  const K = 2 ** spec.bits;
  const codebooks: number[] = [];
  const history: number[][] = [];
  const buf = new Float64Array(spec.granularity === 'tensor' ? w.length : Math.max(inDim, spec.groupSize ?? 0));
  const tensorAmax = spec.scheme === 'nvfp4' ? absMax(w) : undefined;
  forEachGroup(spec, inDim, outDim, (idx, len) => {
    for (let t = 0; t < len; t++) buf[t] = w[idx[t]];
    const fit = fitGroup(spec, buf, len, F32, kopts, tensorAmax);
    const g: GroupQuant = fit.quant;
    for (let t = 0; t < len; t++) values[idx[t]] = quantizeValue(g, buf[t], F32);
    if (kmeans && g.kind === 'codebook') {
      for (let k = 0; k < K; k++) codebooks.push(g.levels[k]);
      history.push(fit.history ?? []);
    }
  });
  return kmeans ? { values, codebook: Float32Array.from(codebooks), kmeansHistory: history } : { values };
}

/** Σ (q − w)² over all elements (Float64). */
export function sqError(w: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let t = 0; t < w.length; t++) s += (q[t] - w[t]) ** 2;
  return s;
}
