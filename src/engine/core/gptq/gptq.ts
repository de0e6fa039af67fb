/**
 * GPTQ (IST-DASLab/gptq gptq.py `fasterquant`) in plain TypeScript, Float64.
 *
 * The engine stores weights [in, out]; GPTQ works on Wᵀ (rows = output channels, columns =
 * inputs). The quantizer is any zoo spec with per-row parameters (granularity tensor / row /
 * group): sym-narrow, sym-full (= gptq quant.py sym), asym (= quant.py asym), ternary, binary,
 * nf4, kmeans (row/tensor) and the float formats (FP8 per tensor / row; MX and NVFP4, whose
 * blocks are groups), with optional MSE clipping. Element rounding is the zoo's (core.ts,
 * precision F64).
 *
 * Block formats: each block's scale is fitted like a group's, from the block's weights as GPTQ
 * has updated them when its first column comes up (groupParams). Under act-order a block is
 * still its run of consecutive ORIGINAL inputs (a scattered group would not be an MX/NVFP4
 * tensor): its scale is fitted when the first of its columns is processed. NVFP4's FP32 tensor
 * scale comes from the original weights, like whole-tensor parameters.
 */
import { absMax, F64, fitGroup, quantizeValue, type GroupQuant } from '../quantizers/core';
import { quantizeWeights } from '../quantizers/host';
import type { KmeansOptions } from '../quantizers/kmeans';
import { allowsPartialGroups, checkSpec, type QuantizerSpec } from '../quantizers/spec';
import { hinvUpper, sumQuadForms } from './linalg';

export interface GptqOptions {
  /** Columns per lazy-update block (gptq.py default 128). Results do not depend on it (without groups). */
  blocksize?: number;
  /** Damping: percdamp·mean(diag H) is added to the diagonal (default 0.01). */
  percdamp?: number;
  /** Process columns by descending diag(H) (act-order), un-permuted at the end. */
  actOrder?: boolean;
  /** Groups: fit all group parameters up front from the (dead-zeroed) original weights. */
  staticGroups?: boolean;
  /**
   * Dynamic groups: where the group's parameters come from at its first column.
   * 'reference' (default) = gptq.py: from W, which holds the lazy updates of earlier blocks but
   * not the in-block updates of the current block (so results depend on blocksize);
   * 'current' = from the fully updated weights (blocksize-invariant).
   */
  groupParams?: 'reference' | 'current';
  kmeans?: KmeansOptions;
}

export interface GptqLayerResult {
  /** Quantized weights, engine layout [in, out]. */
  q: Float32Array;
  /** gptq.py's reported error Σ Losses = Σ (w − q)²/(2·U_cc²); null after a fallback. */
  loss: number | null;
  /** ½·tr(ΔW·H_d·ΔWᵀ), ΔW = Q − W₀ (dead columns zeroed), H_d = damped H; equals `loss`. null after a fallback. */
  proxyDamped: number | null;
  /** true when the Cholesky factorization failed and the layer was rounded to nearest instead. */
  fallback: boolean;
  note: string | null;
  /** Inputs with H_ii = 0 (their weights are zeroed). */
  deadInputs: number;
  /** Absolute damping added to the diagonal. */
  damp: number;
  /** Column order used (act-order), null otherwise. */
  perm: Int32Array | null;
}

/** Throws unless GPTQ can use `spec` on a layer with `inDim` inputs. */
export function checkGptqSpec(spec: QuantizerSpec, inDim: number): void {
  checkSpec(spec, inDim);
  if (spec.granularity === 'block') throw new Error("GPTQ needs per-output-channel parameters: use granularity 'tensor', 'row' or 'group', not 'block'");
}

/** Per-row quantizers fitted on columns `cols` (in that order) of rows×cols matrix `get(r, c)`. */
function fitRowsAt(
  spec: QuantizerSpec,
  rows: number,
  cols: ArrayLike<number>,
  get: (r: number, c: number) => number,
  k?: KmeansOptions,
  tensorAmax?: number,
): GroupQuant[] {
  const buf = new Float64Array(cols.length);
  const out: GroupQuant[] = [];
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < cols.length; t++) buf[t] = get(r, cols[t]);
    out.push(fitGroup(spec, buf, buf.length, F64, k, tensorAmax).quant);
  }
  return out;
}

const range = (c0: number, c1: number): Int32Array => Int32Array.from({ length: c1 - c0 }, (_, t) => c0 + t);

/** Per-row quantizers fitted on columns [c0, c1) of rows×cols matrix `get(r, c)`. */
function fitRows(
  spec: QuantizerSpec,
  rows: number,
  c0: number,
  c1: number,
  get: (r: number, c: number) => number,
  k?: KmeansOptions,
  tensorAmax?: number,
): GroupQuant[] {
  return fitRowsAt(spec, rows, range(c0, c1), get, k, tensorAmax);
}

/** tr(ΔW·H·ΔWᵀ) for engine-layout w, q ([in, out]) and H (in × in): the GPTQ proxy error. */
export function proxyError(w: ArrayLike<number>, q: ArrayLike<number>, shape: readonly [number, number], H: Float64Array): number {
  const [inDim, outDim] = shape;
  const D = new Float64Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) D[j * inDim + i] = q[i * outDim + j] - w[i * outDim + j];
  return sumQuadForms(D, outDim, H, inDim);
}

/**
 * GPTQ on one layer. `w` is [in, out] (engine layout; Float32Array or Float64Array), `H` is in × in (2XᵀX/n of the layer's
 * inputs; not modified). On a failed Cholesky the layer falls back to RTN with a note.
 */
export function gptqLayer(
  w: ArrayLike<number>,
  shape: readonly [number, number],
  H: Float64Array,
  spec: QuantizerSpec,
  opts: GptqOptions = {},
): GptqLayerResult {
  const [cols, rows] = shape; // GPTQ's view: rows = outputs, cols = inputs
  checkGptqSpec(spec, cols);
  if (w.length !== rows * cols) throw new Error(`weight has ${w.length} elements, [${cols}, ${rows}] needs ${rows * cols}`);
  if (H.length !== cols * cols) throw new Error(`Hessian has ${H.length} elements, ${cols}×${cols} needed`);
  const blocksize = opts.blocksize ?? 128;
  const percdamp = opts.percdamp ?? 0.01;
  if (!Number.isInteger(blocksize) || blocksize < 1) throw new Error(`blocksize must be a positive integer, got ${blocksize}`);
  const groupSize = spec.granularity === 'group' ? (spec.groupSize as number) : -1;

  let W = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) W[r * cols + c] = w[c * rows + r];
  let Hc = Float64Array.from(H);

  // Whole-row (or whole-tensor) parameters, from W before dead columns are zeroed (as gptq.py).
  const tensorAmax = spec.scheme === 'nvfp4' ? absMax(W) : undefined;
  const blocks = groupSize > 0 && allowsPartialGroups(spec); // groups are the format's blocks of original inputs
  let grids: GroupQuant[] = [];
  if (groupSize < 0) {
    if (spec.granularity === 'tensor') {
      const g = fitGroup(spec, W, W.length, F64, opts.kmeans).quant;
      grids = Array<GroupQuant>(rows).fill(g);
    } else grids = fitRows(spec, rows, 0, cols, (r, c) => W[r * cols + c], opts.kmeans);
  }

  let deadInputs = 0;
  for (let c = 0; c < cols; c++)
    if (Hc[c * cols + c] === 0) {
      deadInputs++;
      Hc[c * cols + c] = 1;
      for (let r = 0; r < rows; r++) W[r * cols + c] = 0;
    }

  const staticFits: GroupQuant[][] = [];
  if (groupSize > 0 && opts.staticGroups)
    for (let c0 = 0; c0 < cols; c0 += groupSize)
      staticFits.push(fitRows(spec, rows, c0, Math.min(c0 + groupSize, cols), (r, c) => W[r * cols + c], opts.kmeans, tensorAmax));

  let perm: Int32Array | null = null;
  if (opts.actOrder) {
    const diag = Float64Array.from({ length: cols }, (_, c) => Hc[c * cols + c]);
    perm = Int32Array.from({ length: cols }, (_, c) => c).sort((a, b) => diag[b] - diag[a] || a - b);
    const p = perm;
    const W2 = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) W2[r * cols + c] = W[r * cols + p[c]];
    const H2 = new Float64Array(cols * cols);
    for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) H2[a * cols + b] = Hc[p[a] * cols + p[b]];
    W = W2;
    Hc = H2;
  }

  let meanDiag = 0;
  for (let c = 0; c < cols; c++) meanDiag += Hc[c * cols + c];
  const damp = (percdamp * meanDiag) / cols;
  for (let c = 0; c < cols; c++) Hc[c * cols + c] += damp;

  const U = hinvUpper(Hc, cols);
  if (!U) {
    const nonFinite = !H.every(Number.isFinite) || !Number.isFinite(damp);
    return {
      q: quantizeWeights(Float32Array.from(w), shape, spec, opts.kmeans).values,
      loss: null,
      proxyDamped: null,
      fallback: true,
      note:
        `GPTQ: Cholesky failed (H ${nonFinite ? 'has non-finite entries' : 'is not positive definite'} ` +
        `with damping ${percdamp}·mean(diag H)); this layer was rounded to nearest (RTN) instead`,
      deadInputs,
      damp,
      perm,
    };
  }

  // Act-order with block formats: the processing positions of each block's original inputs.
  let blockCols: Int32Array[] | null = null;
  const blockFits: (GroupQuant[] | undefined)[] = [];
  if (blocks && perm && !opts.staticGroups) {
    const members: number[][] = Array.from({ length: Math.ceil(cols / groupSize) }, () => []);
    for (let c = 0; c < cols; c++) members[Math.floor(perm[c] / groupSize)].push(c);
    blockCols = members.map((m) => Int32Array.from(m));
  }

  const W0 = Float64Array.from(W);
  const Q = new Float64Array(rows * cols);
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blocksize) {
    const i2 = Math.min(i1 + blocksize, cols);
    const bs = i2 - i1;
    const W1 = new Float64Array(rows * bs);
    const Err1 = new Float64Array(rows * bs);
    for (let r = 0; r < rows; r++) for (let j = 0; j < bs; j++) W1[r * bs + j] = W[r * cols + i1 + j];
    for (let i = 0; i < bs; i++) {
      const col = i1 + i;
      if (groupSize > 0) {
        const get =
          opts.groupParams === 'current'
            ? (r: number, c: number) => {
                if (c >= i1 && c < i2) return W1[r * bs + c - i1];
                let v = W[r * cols + c];
                for (let k = 0; k < i; k++) v -= Err1[r * bs + k] * U[(i1 + k) * cols + c];
                return v;
              }
            : (r: number, c: number) => W[r * cols + c];
        if (opts.staticGroups) grids = staticFits[Math.floor((perm ? perm[col] : col) / groupSize)];
        else if (blockCols && perm) {
          const b = Math.floor(perm[col] / groupSize);
          grids = blockFits[b] ??= fitRowsAt(spec, rows, blockCols[b], get, opts.kmeans, tensorAmax);
        } else if (col % groupSize === 0) grids = fitRows(spec, rows, col, Math.min(col + groupSize, cols), get, opts.kmeans, tensorAmax);
      }
      const d = U[col * cols + col];
      const urow = col * cols + i1;
      for (let r = 0; r < rows; r++) {
        const rb = r * bs;
        const wv = W1[rb + i];
        const q = quantizeValue(grids[r], wv, F64);
        Q[r * cols + col] = q;
        loss += ((wv - q) * (wv - q)) / (d * d) / 2;
        const err = (wv - q) / d;
        Err1[rb + i] = err;
        if (err !== 0) for (let j = i; j < bs; j++) W1[rb + j] -= err * U[urow + j];
      }
    }
    if (i2 < cols)
      for (let r = 0; r < rows; r++) {
        const rw = r * cols;
        for (let k = 0; k < bs; k++) {
          const e = Err1[r * bs + k];
          if (e === 0) continue;
          const ru = (i1 + k) * cols;
          for (let j = i2; j < cols; j++) W[rw + j] -= e * U[ru + j];
        }
      }
  }

  // ½·tr(ΔW H_d ΔWᵀ) in the processing order (a permutation does not change it).
  const D = new Float64Array(rows * cols);
  for (let t = 0; t < D.length; t++) D[t] = Q[t] - W0[t];
  const proxy = sumQuadForms(D, rows, Hc, cols);

  const q = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const orig = perm ? perm[c] : c;
      q[orig * rows + r] = Q[r * cols + c];
    }
  return { q, loss, proxyDamped: proxy / 2, fallback: false, note: null, deadInputs, damp, perm };
}
