/**
 * The MLP's activation calibration: AWQ / SmoothQuant scales of the quantized layers from the FP
 * model's activations, and the static activation scales (observers) of a model about to run.
 * Both on the calibration budget (the examples GPTQ calibrates on).
 */
import * as tf from '@tensorflow/tfjs';
import type { ActConfig } from '../core/config';
import { asZooSpec, type LayerQuant } from '../core/layerquant';
import { observeAmax } from '../core/observers';
import { quantizeWeights } from '../core/quantizers/host';
import { inputStats, smoothingScales } from '../core/smooth';
import { hostLinear } from './gptq';
import { disposeMlp, forwardLayers, mlpFromSnapshot, type MlpSnapshot } from './model';

/** Rows per batch of the EMA observer (the other observers pool every calibration value). */
export const CALIB_BATCH = 16;

/**
 * Set `smooth` on every quantized layer of `layers` (AWQ: α searched per layer; SmoothQuant: the
 * config's α) from the FP model's own activations on the n calibration inputs (host, Float64).
 * Returns one note per layer (its α).
 */
export function smoothMlp(fp: MlpSnapshot, calib: ArrayLike<number>, n: number, layers: LayerQuant[], a: ActConfig): string[] {
  if (a.smooth === 'none') return [];
  const notes: string[] = [];
  let X: Float64Array = Float64Array.from(calib);
  const L = fp.weights.length;
  for (let l = 0; l < L; l++) {
    const shape: [number, number] = [fp.dims[l], fp.dims[l + 1]];
    const w = layers[l].weight;
    if (w) {
      const spec = asZooSpec(w);
      const stats = inputStats(X, n, shape[0], a.smooth === 'awq');
      const r = smoothingScales(a.smooth, stats, fp.weights[l], shape, a.alpha, (v) => quantizeWeights(v, shape, spec).values);
      layers[l].smooth = r.scales;
      notes.push(a.smooth === 'awq' ? `layer ${l}: α ${r.alpha}` : `layer ${l}`);
    }
    if (l < L - 1) X = hostLinear(X, n, fp.weights[l], fp.biases[l], shape[0], shape[1], true);
  }
  const name = a.smooth === 'awq' ? 'AWQ (α searched on k/20, k = 0…19)' : `SmoothQuant (α ${a.alpha})`;
  return notes.length ? [`${name} scales from the FP activations of ${n} calibration examples: ${notes.join(', ')}.`] : [];
}

/** Whether any layer has a static activation quantizer (an observer to calibrate). */
export const needsActCalibration = (quant: readonly LayerQuant[]): boolean =>
  quant.some((l) => l.actBits > 0 && l.act !== undefined && l.act.observer !== 'dynamic');

/**
 * Calibrate the static activation quantizers of `quant` on the model `s` (its forward pass under
 * `quant`: weights fake-quantized where `quant` says so), layer by layer: layer i's observer sees
 * its inputs (divided by its smoothing scales) with every earlier layer's activations already
 * quantized by their calibrated scales. Sets `actAmax`; a no-op without static quantizers.
 */
export async function calibrateMlpActs(s: MlpSnapshot, quant: LayerQuant[], calib: Float32Array, n: number, a: ActConfig): Promise<void> {
  if (!needsActCalibration(quant)) return;
  const m = mlpFromSnapshot(s, false);
  let h: tf.Tensor = tf.tensor2d(calib.subarray(0, n * s.dims[0]), [n, s.dims[0]]);
  try {
    for (let i = 0; i < quant.length; i++) {
      const l = quant[i];
      if (l.actBits > 0 && l.act && l.act.observer !== 'dynamic') {
        const inDim = s.dims[i];
        const host = Float32Array.from((await h.data()) as Float32Array);
        if (l.smooth) for (let k = 0; k < host.length; k++) host[k] /= l.smooth[k % inDim];
        const batches: Float32Array[] = [];
        for (let r = 0; r < n; r += CALIB_BATCH) batches.push(host.subarray(r * inDim, Math.min(n, r + CALIB_BATCH) * inDim));
        l.actAmax = observeAmax(batches, a, l.actBits);
      }
      const next = tf.tidy(() => forwardLayers(m, h, i, i + 1, quant));
      h.dispose();
      h = next;
    }
  } finally {
    h.dispose();
    disposeMlp(m);
  }
}
