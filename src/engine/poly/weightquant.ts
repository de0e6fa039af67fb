/** Round-to-nearest of the MLP's weights (RTN, the baseline of every comparison). */
import type { MlpSnapshot } from './model';
import { rtnWeights } from '../core/fakequant';
import type { LayerQuant } from '../core/layerquant';
import { scaleRows } from '../core/smooth';

/** Round-to-nearest of a snapshot's weights (biases kept); a rotated layer is rounded in its rotated basis and rotated back, a smoothed one in its scaled space. */
export async function rtnSnapshot(s: MlpSnapshot, layers: LayerQuant[]): Promise<MlpSnapshot> {
  const weights = await Promise.all(
    s.weights.map(async (w, i) => {
      const q = layers[i].weight;
      if (!q) return w.slice();
      const sm = layers[i].smooth;
      const shape: [number, number] = [s.dims[i], s.dims[i + 1]];
      if (!sm) return rtnWeights(w, shape, q, layers[i].rotation);
      // AWQ / SmoothQuant: the weight is quantized in the scaled space, diag(1/s)·Q(diag(s)·W) (never with a rotation: actProblems).
      return scaleRows(await rtnWeights(scaleRows(w, shape, sm), shape, q), shape, sm, true);
    }),
  );
  return { dims: [...s.dims], weights, biases: s.biases.map((b) => b.slice()) };
}
