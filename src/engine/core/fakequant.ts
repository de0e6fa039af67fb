/**
 * Operations on a layer's quantizer (layerquant.ts) that need tensors, for every task: fake-quant
 * with a straight-through gradient for training, and the k-means codebook refresh.
 */
import * as tf from '@tensorflow/tfjs';
import { fakeQuantAct } from './actquant';
import { fakeQuantWeight, quantizeWeight } from './quant';
import { fakeQuant, quantizeWeights } from './quantizers';
import { quantizedShape, type LayerQuant, type WeightQuant } from './layerquant';
import { rotateRows, unrotateRows, type Rotation } from './rotation';
import { rotatedActivation, rotatedFakeQuant } from './rotation-tf';

/**
 * Fake-quantized weight with a straight-through gradient, in the layer's rotated basis when it has
 * one (rotated back). With AWQ / SmoothQuant scales s (one per input, the rows of W [in, out]) the
 * quantizer sees diag(s)·W: diag(1/s)·Q(diag(s)·W). (The configs refuse a rotation with smoothing.)
 */
export function fakeQuantLayer(w: tf.Tensor, l: LayerQuant): tf.Tensor {
  const q = l.weight;
  if (!q) return w;
  if (!l.smooth) return fakeQuantPlain(w, l);
  const s = tf.tensor2d(l.smooth, [l.smooth.length, 1]);
  return tf.div(fakeQuantPlain(tf.mul(w, s), l), s);
}

function fakeQuantPlain(w: tf.Tensor, l: LayerQuant): tf.Tensor {
  const q = l.weight!;
  const fq = (x: tf.Tensor) => (q.kind === 'lab' ? fakeQuantWeight(x, q) : fakeQuant(x, q.spec, { codebook: l.codebook }));
  return l.rotation ? rotatedFakeQuant(w, l.rotation, fq) : fq(w);
}

/**
 * A layer's input as its forward pass uses it: fake-quantized as the layer says (actquant.ts) when it
 * quantizes activations, in its rotated basis when it has one (rotated back).
 */
export function fakeQuantLayerInput(x: tf.Tensor, l: LayerQuant): tf.Tensor {
  if (!(l.actBits > 0)) return x;
  return l.rotation ? rotatedActivation(x, l.rotation, (t) => fakeQuantAct(t, l)) : fakeQuantAct(x, l);
}

/**
 * Round-to-nearest of a weight [in, out] on the host: the quantized values, and the k-means
 * levels when the quantizer fits them (host Lloyd). With a rotation, Rᵀ·W [n, out] is quantized
 * and R·q(Rᵀ·W) returned (the weight in the layer's own basis).
 */
export async function rtnWeights(w: Float32Array, shape: readonly [number, number], q: WeightQuant, rotation?: Rotation | null): Promise<Float32Array> {
  const qs = quantizedShape(shape, rotation);
  const src = rotation ? Float32Array.from(rotateRows(w, shape[1], rotation)) : w;
  let out: Float32Array;
  if (q.kind === 'zoo') out = quantizeWeights(src, qs, q.spec).values;
  else {
    const t = tf.tidy(() => quantizeWeight(tf.tensor2d(src, qs), q));
    out = (await t.data()) as Float32Array;
    t.dispose();
  }
  return rotation ? Float32Array.from(unrotateRows(out, shape[1], rotation)) : out;
}

const needsCodebook = (l: LayerQuant) => l.weight?.kind === 'zoo' && l.weight.spec.scheme === 'kmeans';

/** Fit the k-means codebooks of `layers` to the current weights (host Lloyd); a no-op otherwise. */
export async function refreshCodebooks(layers: LayerQuant[], weights: tf.Tensor[]): Promise<void> {
  for (const [i, l] of layers.entries()) {
    if (!needsCodebook(l) || l.weight?.kind !== 'zoo') continue;
    const spec = l.weight.spec;
    const shape = weights[i].shape as [number, number];
    const outDim = shape[1];
    const raw = (await weights[i].data()) as Float32Array;
    // A rotated layer's levels are fitted to its rotated weight, which is what they quantize.
    const host = l.rotation ? Float32Array.from(rotateRows(raw, outDim, l.rotation)) : raw;
    const { codebook } = quantizeWeights(host, quantizedShape(shape, l.rotation), spec);
    const K = 2 ** spec.bits;
    l.codebook?.dispose();
    l.codebook = spec.granularity === 'row' ? tf.tensor2d(codebook as Float32Array, [outDim, K]) : tf.tensor1d(codebook as Float32Array);
  }
}

export function disposeCodebooks(layers: LayerQuant[]): void {
  for (const l of layers) {
    l.codebook?.dispose();
    l.codebook = undefined;
  }
}
