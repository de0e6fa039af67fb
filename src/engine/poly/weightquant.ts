/** Round-to-nearest of the MLP's weights (RTN, the baseline of every comparison). */
import * as tf from '@tensorflow/tfjs';
import type { MlpSnapshot } from './model';
import { quantizeWeight } from '../core/quant';
import { quantizeWeights } from '../core/quantizers';
import type { LayerQuant } from '../core/layerquant';

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
