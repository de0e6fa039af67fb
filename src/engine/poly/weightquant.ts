/** Round-to-nearest of the MLP's weights (RTN, the baseline of every comparison). */
import * as tf from '@tensorflow/tfjs';
import type { MlpSnapshot } from './model';
import { quantizeWeight } from '../core/quant';
import { quantizeWeights } from '../core/quantizers';
import type { LayerQuant } from '../core/layerquant';
import { scaleRows } from '../core/smooth';

/** Round-to-nearest of a snapshot's weights (biases kept). */
export async function rtnSnapshot(s: MlpSnapshot, layers: LayerQuant[]): Promise<MlpSnapshot> {
  const weights = await Promise.all(
    s.weights.map(async (w, i) => {
      const q = layers[i].weight;
      const shape: [number, number] = [s.dims[i], s.dims[i + 1]];
      if (!q) return w.slice();
      const sm = layers[i].smooth;
      // AWQ / SmoothQuant: the weight is quantized in the scaled space, diag(1/s)·Q(diag(s)·W).
      const src = sm ? scaleRows(w, shape, sm) : w;
      let out: Float32Array;
      if (q.kind === 'zoo') out = quantizeWeights(src, shape, q.spec).values as Float32Array;
      else {
        const t = tf.tidy(() => quantizeWeight(tf.tensor2d(src, shape), q));
        out = (await t.data()) as Float32Array;
        t.dispose();
      }
      return sm ? scaleRows(out, shape, sm, true) : out;
    }),
  );
  return { dims: [...s.dims], weights, biases: s.biases.map((b) => b.slice()) };
}
