/**
 * Operations on a layer's quantizer choice (layerspec.ts) that need tensors: fake-quant for
 * training, k-means codebook refresh, RTN of a snapshot.
 */
import * as tf from '@tensorflow/tfjs';
import type { MlpSnapshot } from './model';
import { fakeQuantWeight, quantizeWeight } from '../core/quant';
import { fakeQuant, quantizeWeights } from '../core/quantizers';
import type { LayerQuant } from './layerspec';

export * from './layerspec';

/** Fake-quantized weight with a straight-through gradient. */
export function fakeQuantLayer(w: tf.Tensor, l: LayerQuant): tf.Tensor {
  const q = l.weight;
  if (!q) return w;
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

/** Round-to-nearest of a snapshot's weights (biases kept). */
export async function rtnSnapshot(s: MlpSnapshot, layers: LayerQuant[]): Promise<MlpSnapshot> {
  const weights = await Promise.all(
    s.weights.map(async (w, i) => {
      const q = layers[i].weight;
      const shape: [number, number] = [s.dims[i], s.dims[i + 1]];
      if (!q) return w.slice();
      if (q.kind === 'zoo') return quantizeWeights(w, shape, q.spec).values;
      const t = tf.tidy(() => quantizeWeight(tf.tensor2d(w, shape), q));
      const out = (await t.data()) as Float32Array;
      t.dispose();
      return out;
    }),
  );
  return { dims: [...s.dims], weights, biases: s.biases.map((b) => b.slice()) };
}

