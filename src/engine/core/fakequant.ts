/**
 * Operations on a layer's quantizer (layerquant.ts) that need tensors, for every task: fake-quant
 * with a straight-through gradient for training, and the k-means codebook refresh.
 */
import * as tf from '@tensorflow/tfjs';
import { fakeQuantWeight } from './quant';
import { fakeQuant, quantizeWeights } from './quantizers';
import type { LayerQuant } from './layerquant';

/**
 * Fake-quantized weight with a straight-through gradient. With AWQ / SmoothQuant scales s (one per
 * input, the rows of W [in, out]) the quantizer sees diag(s)·W: diag(1/s)·Q(diag(s)·W).
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
  if (q.kind === 'lab') return fakeQuantWeight(w, q);
  return fakeQuant(w, q.spec, { codebook: l.codebook });
}

const needsCodebook = (l: LayerQuant) => l.weight?.kind === 'zoo' && l.weight.spec.scheme === 'kmeans';

/** Fit the k-means codebooks of `layers` to the current weights (host Lloyd); a no-op otherwise. */
export async function refreshCodebooks(layers: LayerQuant[], weights: tf.Tensor[]): Promise<void> {
  for (const [i, l] of layers.entries()) {
    if (!needsCodebook(l) || l.weight?.kind !== 'zoo') continue;
    const spec = l.weight.spec;
    const [inDim, outDim] = weights[i].shape as [number, number];
    const host = (await weights[i].data()) as Float32Array;
    const { codebook } = quantizeWeights(host, [inDim, outDim], spec);
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
