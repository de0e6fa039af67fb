/** Mixed precision: how much the test loss rises when only one layer is quantized (RTN). */
import { cloneConfig, layerDims, type Bits, type ExperimentConfig } from '../core/config';
import type { LayerSensitivity, SensitivityResult } from './bitassign';
import { disposeMlp, mlpFromSnapshot, type MlpSnapshot } from './model';
import { evaluate, type DeviceData } from './train';
import { layerQuant } from './layerspec';
import { rtnSnapshot } from './weightquant';

/** Quantize one layer at a time with the config's quantizer at each of `bits`; evaluate. */
export async function layerSensitivity(
  fp: MlpSnapshot,
  c: ExperimentConfig,
  bits: Bits[],
  test: DeviceData,
  onProgress?: (done: number, total: number) => void,
): Promise<SensitivityResult> {
  const dims = layerDims(c.model);
  const n = dims.length - 1;
  const evalSnapshot = async (s: MlpSnapshot) => {
    const m = mlpFromSnapshot(s, false);
    try {
      return await evaluate(m, test);
    } finally {
      disposeMlp(m);
    }
  };
  const fpLoss = await evalSnapshot(fp);
  const layers: LayerSensitivity[] = [];
  let done = 0;
  for (let i = 0; i < n; i++) {
    const entry: LayerSensitivity = { layer: i, weights: dims[i] * dims[i + 1], loss: {} };
    for (const b of bits) {
      const only = cloneConfig(c);
      only.quant.overrides = [];
      only.quant.bits = b;
      only.quant.layers = 'all';
      const lq = layerQuant(only).map((l, j) => (j === i ? l : { ...l, weight: null }));
      entry.loss[b] = await evalSnapshot(await rtnSnapshot(fp, lq));
      onProgress?.(++done, n * bits.length);
    }
    layers.push(entry);
  }
  return { fpLoss, bits, layers };
}

export { assignBits, type LayerSensitivity, type SensitivityResult } from './bitassign';
