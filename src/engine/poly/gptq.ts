/**
 * Sequential GPTQ over the MLP (gptq.py's driver idea): layers in order, each layer's
 * calibration inputs produced by the already-quantized preceding layers. The forward pass runs
 * on the host in Float64 (exact-erf GELU), so it is deterministic and allocates no tensors.
 */
import type { MlpSnapshot } from './model';
import { quantizeWeights } from '../core/quantizers/host';
import type { QuantizerSpec } from '../core/quantizers/spec';
import { checkGptqSpec, gptqLayer, proxyError, type GptqOptions } from '../core/gptq/gptq';
import { gelu } from '../core/gptq/erf';
import { hessian } from '../core/gptq/linalg';
import { quantizeScaled, scaledHessian, scaleRows } from '../core/smooth';
import { quantizedShape } from '../core/layerquant';
import { rotateRows, rotateSymmetric, unrotateRows, type Rotation } from '../core/rotation';

export interface GptqLayerReport {
  layer: number;
  inDim: number;
  outDim: number;
  /** null = layer kept in full precision. */
  spec: QuantizerSpec | null;
  /**
   * Local (layer-wise) error of RTN / GPTQ weights: the mean over calibration samples of
   * ‖(Q − W)ᵀx‖² (summed over the layer's outputs), x = the layer's inputs on the quantized path
   * (outputs of the already-quantized earlier layers). Equals ½·tr(ΔW·H·ΔWᵀ) with H = 2XᵀX/n
   * (undamped). Both use the same inputs. 0 for full-precision layers.
   */
  localErrorRtn: number;
  localErrorGptq: number;
  /** gptq.py's Σ Losses (damped objective); null for FP layers and RTN fallbacks. */
  loss: number | null;
  fallback: boolean;
  note: string | null;
  deadInputs: number;
  /** Wall time of this layer (Hessian + GPTQ + RTN reference), ms. */
  ms: number;
}

export interface GptqMlpResult {
  /** The GPTQ-quantized model (biases copied, full-precision layers copied). */
  snapshot: MlpSnapshot;
  layers: GptqLayerReport[];
}

export interface GptqProgress {
  /** Layers finished so far. */
  done: number;
  layers: number;
  report?: GptqLayerReport;
}

/** y = x·W + b (W [in, out], Float32 storage), optionally GELU; X is n × in (Float64). */
export function hostLinear(X: Float64Array, n: number, w: ArrayLike<number>, b: ArrayLike<number>, inDim: number, outDim: number, act: boolean): Float64Array {
  const Y = new Float64Array(n * outDim);
  for (let t = 0; t < n; t++) {
    const yo = t * outDim;
    for (let j = 0; j < outDim; j++) Y[yo + j] = b[j];
    for (let i = 0; i < inDim; i++) {
      const x = X[t * inDim + i];
      if (x === 0) continue;
      const wo = i * outDim;
      for (let j = 0; j < outDim; j++) Y[yo + j] += x * w[wo + j];
    }
    if (act) for (let j = 0; j < outDim; j++) Y[yo + j] = gelu(Y[yo + j]);
  }
  return Y;
}

/** Host forward pass of a snapshot (Float64, exact GELU): n × out. */
export function hostForward(s: MlpSnapshot, x: ArrayLike<number>, n: number): Float64Array {
  let h: Float64Array = Float64Array.from(x);
  const L = s.weights.length;
  for (let l = 0; l < L; l++) h = hostLinear(h, n, s.weights[l], s.biases[l], s.dims[l], s.dims[l + 1], l < L - 1);
  return h;
}

/**
 * GPTQ every layer whose spec is non-null, in order. `calib` is n × dims[0] (row-major);
 * `specs[l]` is the quantizer of linear layer l. Layers whose Cholesky fails are rounded to
 * nearest and carry a note. Awaits a macrotask between layers so a worker stays responsive.
 * `rotations[l]` quantizes layer l in its Hadamard basis, `smooth[l]` with its AWQ / SmoothQuant
 * scales (never both on one layer).
 */
export async function gptqMlp(
  snapshot: MlpSnapshot,
  calib: Float32Array,
  specs: (QuantizerSpec | null)[],
  opts: GptqOptions = {},
  onProgress?: (p: GptqProgress) => void,
  rotations: (Rotation | null)[] = [],
  smooth: (Float32Array | undefined)[] = [],
): Promise<GptqMlpResult> {
  const L = snapshot.weights.length;
  if (specs.length !== L) throw new Error(`gptqMlp: ${specs.length} layer specs for ${L} layers`);
  const d0 = snapshot.dims[0];
  if (calib.length === 0 || calib.length % d0 !== 0) throw new Error(`gptqMlp: calibration data of ${calib.length} values is not n × ${d0}`);
  const n = calib.length / d0;
  // Fail fast, before any work, on a spec a layer cannot use (e.g. a group size that does not divide 14).
  specs.forEach((s, l) => {
    if (!s) return;
    try {
      checkGptqSpec(s, quantizedShape([snapshot.dims[l], snapshot.dims[l + 1]], rotations[l])[0]);
    } catch (e) {
      throw new Error(`layer ${l} (${snapshot.dims[l]} → ${snapshot.dims[l + 1]}): ${(e as Error).message}`);
    }
  });
  const weights: Float32Array[] = [];
  const layers: GptqLayerReport[] = [];
  let X: Float64Array = Float64Array.from(calib);
  for (let l = 0; l < L; l++) {
    const t0 = performance.now();
    const [inDim, outDim] = [snapshot.dims[l], snapshot.dims[l + 1]];
    const w = snapshot.weights[l];
    const spec = specs[l];
    let report: GptqLayerReport;
    if (!spec) {
      weights.push(Float32Array.from(w));
      report = { layer: l, inDim, outDim, spec: null, localErrorRtn: 0, localErrorGptq: 0, loss: null, fallback: false, note: null, deadInputs: 0, ms: 0 };
    } else {
      const rot = rotations[l] ?? null;
      const s = smooth[l];
      // The configs refuse a rotation with AWQ / SmoothQuant (actProblems).
      if (rot && s) throw new Error(`gptqMlp: layer ${l} has both a rotation and smoothing scales`);
      // A rotated layer: GPTQ of Rᵀ·W with the Hessian of the rotated inputs X·R (Rᵀ·H·R), rotated back (R·Q);
      // its local errors are measured in the rotated basis.
      const shape = quantizedShape([inDim, outDim], rot);
      const H = rot ? rotateSymmetric(hessian(X, n, inDim), rot) : hessian(X, n, inDim);
      const wr = rot ? Float32Array.from(rotateRows(w, outDim, rot)) : w;
      let g: ReturnType<typeof gptqLayer>;
      let rtn: ArrayLike<number>;
      if (s) {
        // AWQ / SmoothQuant: GPTQ of diag(s)·W on the inputs x/s, back in the original space.
        g = gptqLayer(scaleRows(w, shape, s), shape, scaledHessian(H, s), spec, opts);
        g.q = scaleRows(g.q, shape, s, true);
        rtn = quantizeScaled(w, shape, s, (v) => quantizeWeights(v, shape, spec, opts.kmeans).values);
      } else {
        g = gptqLayer(wr, shape, H, spec, opts);
        rtn = quantizeWeights(wr, shape, spec, opts.kmeans).values;
      }
      weights.push(rot ? Float32Array.from(unrotateRows(g.q, outDim, rot)) : g.q);
      report = {
        layer: l,
        inDim,
        outDim,
        spec,
        localErrorRtn: proxyError(wr, rtn, shape, H) / 2,
        localErrorGptq: proxyError(wr, g.q, shape, H) / 2,
        loss: g.loss,
        fallback: g.fallback,
        note: g.note,
        deadInputs: g.deadInputs,
        ms: 0,
      };
    }
    if (l < L - 1) X = hostLinear(X, n, weights[l], snapshot.biases[l], inDim, outDim, true);
    report.ms = performance.now() - t0;
    layers.push(report);
    onProgress?.({ done: l + 1, layers: L, report });
    await new Promise<void>((r) => setTimeout(r, 0));
  }
  return {
    snapshot: { dims: [...snapshot.dims], weights, biases: snapshot.biases.map((b) => Float32Array.from(b)) },
    layers,
  };
}
