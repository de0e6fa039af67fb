/** Round-to-nearest of the MLP's weights (RTN, the baseline of every comparison). */
import type { MlpSnapshot } from './model';
import { rtnWeights } from '../core/fakequant';
import type { LayerQuant } from '../core/layerquant';

/** Round-to-nearest of a snapshot's weights (biases kept); a rotated layer is rounded in its rotated basis and rotated back. */
export async function rtnSnapshot(s: MlpSnapshot, layers: LayerQuant[]): Promise<MlpSnapshot> {
  const weights = await Promise.all(
    s.weights.map(async (w, i) => {
      const q = layers[i].weight;
      if (!q) return w.slice();
      return rtnWeights(w, [s.dims[i], s.dims[i + 1]], q, layers[i].rotation);
    }),
  );
  return { dims: [...s.dims], weights, biases: s.biases.map((b) => b.slice()) };
}
