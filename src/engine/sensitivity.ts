/**
 * Mixed precision: how much the test loss rises when only one layer is quantized (RTN), and
 * a greedy assignment of bits per layer under an average-bits budget.
 */
import { cloneConfig, layerDims, type Bits, type ExperimentConfig, type LayerOverride } from './config';
import { disposeMlp, mlpFromSnapshot, type MlpSnapshot } from './model';
import { evaluate, type DeviceData } from './train';
import { layerQuant, rtnSnapshot } from './weightquant';

export interface LayerSensitivity {
  layer: number;
  /** Number of weights in the layer. */
  weights: number;
  /** Test loss with only this layer quantized at each bit-width (FP elsewhere). */
  loss: Partial<Record<number, number>>;
}

export interface SensitivityResult {
  fpLoss: number;
  bits: Bits[];
  layers: LayerSensitivity[];
}

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

/**
 * Greedy bit allocation: start every layer at the highest bit-width, then repeatedly lower the
 * layer whose next step down costs the least loss increase per bit saved, until the weighted
 * average bits per weight is at most `avgBits`. Returns per-layer overrides for the config.
 */
export function assignBits(s: SensitivityResult, avgBits: number): { overrides: LayerOverride[]; averageBits: number } {
  const ladder = [...s.bits].sort((a, b) => b - a);
  const level = s.layers.map(() => 0);
  const total = s.layers.reduce((t, l) => t + l.weights, 0);
  const average = () => s.layers.reduce((t, l, i) => t + l.weights * ladder[level[i]], 0) / total;
  const lossAt = (i: number, k: number) => s.layers[i].loss[ladder[k]] ?? Infinity;
  while (average() > avgBits + 1e-9) {
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < s.layers.length; i++) {
      if (level[i] + 1 >= ladder.length) continue;
      const saved = s.layers[i].weights * (ladder[level[i]] - ladder[level[i] + 1]);
      const cost = (lossAt(i, level[i] + 1) - lossAt(i, level[i])) / saved;
      if (cost < bestCost) {
        bestCost = cost;
        best = i;
      }
    }
    if (best < 0) break; // every layer is at the lowest bit-width
    level[best] += 1;
  }
  return {
    overrides: s.layers.map((l, i) => ({ layer: l.layer, bits: ladder[level[i]], scheme: 'auto' as const })),
    averageBits: average(),
  };
}
