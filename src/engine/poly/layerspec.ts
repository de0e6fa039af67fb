/**
 * What each linear layer of the MLP is quantized with, resolved from the config (no tfjs here,
 * so the page's main thread can use it for labels, storage and validation), and the settings
 * of the polynomial task that cannot work together.
 */
import type { RunMetric } from '../core/runs';
import type { Method } from '../core/methods';
import { DEFAULT_CONFIG, isLayerQuantized, layerDims, type ExperimentConfig } from '../core/config';
import {
  asZooSpec,
  learnedScaleProblemsOf,
  quantizedShape,
  rotationRefused,
  resolveWeightQuant,
  specProblemKey,
  type ConfigProblem,
  type LayerQuant,
  type WeightQuant,
} from '../core/layerquant';
import { checkSpec, specProblems, storageBits } from '../core/quantizers/spec';
import { actMethodProblems, actProblems, actSpecOf } from '../core/act';
import { nextPow2, rotationOf, type Rotation } from '../core/rotation';

/** The polynomial task's metric: mean squared error of the 200 outputs on the test set. */
export const POLY_METRIC: RunMetric = { name: 'test MSE', unit: '' };

/** The weight quantizer of linear layer `i` (null = full precision). */
export function layerWeightQuant(c: ExperimentConfig, i: number): WeightQuant | null {
  const n = c.model.depth + 1;
  const o = c.quant.overrides.find((x) => x.layer === i);
  if (o) return resolveWeightQuant(c.quant, o.bits, o.scheme);
  if (!isLayerQuantized(c.quant.layers, i, n)) return null;
  return resolveWeightQuant(c.quant, c.quant.bits, c.quant.scheme);
}

/** The rotation of linear layer `i` (null = none: rotation off, or the layer is not quantized). */
export function layerRotation(c: ExperimentConfig, i: number): Rotation | null {
  if (c.quant.rotate !== 'hadamard' || !layerWeightQuant(c, i)) return null;
  return rotationOf(layerDims(c.model)[i], c.quant.rotSeed);
}

export function layerQuant(c: ExperimentConfig): LayerQuant[] {
  return Array.from({ length: c.model.depth + 1 }, (_, i) => {
    const weight = layerWeightQuant(c, i);
    const out: LayerQuant = { weight, actBits: weight ? c.quant.actBits : 0, rotation: layerRotation(c, i) };
    const act = actSpecOf(c.act);
    if (act && out.actBits > 0) out.act = act;
    return out;
  });
}

/** Storage of a model's weights and biases in bits: quantized codes + scales, FP32 elsewhere. */
export function modelStorageBits(c: ExperimentConfig, quantized: boolean): number {
  const dims = layerDims(c.model);
  let bits = 0;
  for (let i = 0; i < dims.length - 1; i++) {
    const shape: [number, number] = [dims[i], dims[i + 1]];
    const q = quantized ? layerWeightQuant(c, i) : null;
    // A rotated layer stores its rotated weight: n × out (its inputs padded to a power of two).
    bits += q ? storageBits(asZooSpec(q), quantizedShape(shape, layerRotation(c, i))).totalBits : 32 * shape[0] * shape[1];
    bits += 32 * shape[1];
  }
  return bits;
}

/** Settings of the polynomial task that cannot work together, each with the URL key to blame. */
export function polyProblems(c: ExperimentConfig): ConfigProblem[] {
  const out: ConfigProblem[] = actProblems(c);
  const dims = layerDims(c.model);
  const n = dims.length - 1;
  for (const o of c.quant.overrides) {
    if (o.layer >= n) out.push({ key: 'lq', also: ['depth'], message: `layer override ${o.layer} does not exist: the model has layers 0–${n - 1}.` });
  }
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const q = layerWeightQuant(c, i);
    if (!q || q.kind !== 'zoo') continue;
    const override = c.quant.overrides.some((o) => o.layer === i);
    const problems = specProblems(q.spec);
    for (const { field, message } of problems) {
      // An override's own bits and scheme are in lq; granularity, group and clipping are shared.
      const key = override && (field === 'bits' || field === 'scheme') ? 'lq' : specProblemKey(field);
      if (!seen.has(message)) out.push({ key, also: ['scheme', 'bits', 'gran', 'group', 'clip', 'lq'], message: `${message}.` });
      seen.add(message);
    }
    if (problems.length) continue;
    try {
      checkSpec(q.spec, quantizedShape([dims[i], dims[i + 1]], layerRotation(c, i))[0]);
    } catch (e) {
      const hint = i === 0 ? ' (the first layer has only 14 inputs: quantize all but the first layer, or use block granularity)' : '';
      out.push({
        key: c.quant.groupSize !== DEFAULT_CONFIG.quant.groupSize ? 'group' : 'gran',
        also: ['gran', 'group', 'layers'],
        message: `layer ${i} (${dims[i]} inputs): ${(e as Error).message}${hint}`,
      });
    }
  }
  if (c.quant.rotate === 'hadamard' && c.quant.actBits > 0) {
    const padded = dims.slice(0, -1).findIndex((d, i) => layerRotation(c, i) !== null && nextPow2(d) !== d);
    if (padded >= 0)
      out.push({
        key: 'rot',
        also: ['abits', 'layers'],
        message: `quantized activations in a rotated basis need a power-of-two input width; layer ${padded} has ${dims[padded]} inputs (padded to ${nextPow2(dims[padded])} for its weights): quantize all but the first layer (layers=nofirst) or turn activation quantization off.`,
      });
  }
  // Each bit-width of a gradual schedule must work with the other quantizer settings too.
  const own = new Set(out.map((p) => p.message));
  for (const e of c.quant.bitSchedule) {
    if (e.bits === c.quant.bits) continue;
    const at = { ...c, quant: { ...c.quant, bits: e.bits, bitSchedule: [] } };
    for (const p of polyProblems(at)) {
      const message = `bit schedule at ${e.bits} bits: ${p.message}`;
      if (own.has(p.message) || own.has(message)) continue;
      own.add(message);
      out.push({ key: 'bitsched', message });
    }
  }
  return out;
}

/**
 * Why LSQ and scale-only fine-tuning cannot run on these settings (empty = they can): both
 * need symmetric integer weights of 2–8 bits with one scale per output channel or per tensor.
 */
export function learnedScaleProblems(c: ExperimentConfig, method: 'lsq' | 'scaleonly'): string[] {
  const targets = Array.from({ length: c.model.depth + 1 }, (_, i) => ({
    name: `layer ${i}`,
    weight: layerWeightQuant(c, i),
    bitsKey: 'bits',
    key: c.quant.overrides.some((o) => o.layer === i) ? 'lq' : undefined,
  }));
  return learnedScaleProblemsOf(method, c.quant, targets);
}

/** Why QA-LoRA cannot run on these settings (empty = it can): its adapters sit on quantized layers, so it needs one. */
export function qaLoraProblems(c: ExperimentConfig): string[] {
  const n = c.model.depth + 1;
  for (let i = 0; i < n; i++) if (layerWeightQuant(c, i)) return [];
  return ['QA-LoRA needs a quantized base: no layer has quantized weights at these settings (setting "bits", "layers" or "lq").'];
}

/** Why `method` cannot run on these settings beyond the task's own problems (polyProblems); empty = it can. */
export function polyMethodProblems(c: ExperimentConfig, method: Method): string[] {
  const out = actMethodProblems(c, method);
  if ((method === 'lsq' || method === 'scaleonly') && c.quant.rotate !== 'none') out.push(rotationRefused(method));
  else if (method === 'lsq' || method === 'scaleonly') out.push(...learnedScaleProblems(c, method));
  if (method === 'qalora') out.push(...qaLoraProblems(c));
  return out;
}
