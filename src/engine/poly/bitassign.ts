/** Mixed precision without tensors: per-layer sensitivity results and the greedy bit assignment. */
import type { Bits, LayerOverride } from '../core/config';

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
