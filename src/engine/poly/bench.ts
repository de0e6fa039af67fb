/**
 * The benchmarked MLP training step (the Node benchmark's and the speed page's): the engine's own
 * trainStep (poly/train.ts: gather a batch from the device dataset, gradients of
 * mseLoss(forward(...)), AdamW step, loss summed on the device) on the bench model.
 */
import * as tf from '@tensorflow/tfjs';
import { cloneConfig, DEFAULT_CONFIG, layerDims, type Bits } from '../core/config';
import { lossSumRun, type StepRun } from '../core/measure';
import { FORMAT_INFO, isFormatScheme, type FormatScheme } from '../core/quantizers/formats';
import { makeDataset } from './data';
import { layerQuant } from './layerspec';
import { disposeMlp, initMlp, type LayerQuant, type Mlp } from './model';
import { AdamW } from '../core/optim';
import { Rng } from '../core/rng';
import { disposeDevice, toDevice, trainStep, type DeviceData } from './train';
import { lrAt } from '../core/loop';

/** The benchmarked model and optimizer settings (those of torch_polyfit_bench.py). */
export const BENCH_MODEL = { width: 512, depth: 4 } as const;
export const BENCH_LR = 1e-3;
/** torch.optim.AdamW's default weight decay, which the PyTorch reference uses. */
export const BENCH_WEIGHT_DECAY = 0.01;
/** Examples on the device to draw batches from (≥ the largest batch). */
const DATA_SIZE = 8192;
/** Precomputed batch index orders, cycled (the host-side shuffle is not what is measured). */
const N_ORDERS = 8;

/** 'fp', the lab's 1.58-bit ternary, or a format scheme (FP8 per channel, MX and NVFP4 with their blocks). */
export type BenchBits = 'fp' | 1.58 | FormatScheme;

/** Whether `b` names a point the bench can measure. */
export function isBenchBits(b: unknown): b is BenchBits {
  return b === 'fp' || b === 1.58 || isFormatScheme(b);
}

export interface BenchRun extends StepRun {
  params: tf.Variable[];
}

/** The per-layer quantization the lab uses for QAFT at `bits` (all layers, row scale, no activation quant). */
export function benchQuant(bits: BenchBits): LayerQuant[] | undefined {
  if (bits === 'fp') return undefined;
  const c = cloneConfig(DEFAULT_CONFIG);
  c.model = { ...BENCH_MODEL };
  if (bits === 1.58) c.quant = { ...c.quant, bits, layers: 'all', actBits: 0 };
  else {
    // A format: its own bits, FP8 with a scale per output channel, the block formats with their block (resolveWeightQuant).
    const info = FORMAT_INFO[bits];
    c.quant = { ...c.quant, bits: info.bits as Bits, scheme: bits, granularity: info.kind === 'fp8' ? 'row' : 'group', layers: 'all', actBits: 0 };
  }
  return layerQuant(c);
}

let dataCache: { backend: string; d: DeviceData } | null = null;

function deviceData(): DeviceData {
  const backend = tf.getBackend();
  if (!dataCache || dataCache.backend !== backend) {
    if (dataCache) disposeDevice(dataCache.d);
    dataCache = { backend, d: toDevice(makeDataset(DATA_SIZE, 4, 1)) };
  }
  return dataCache.d;
}

export function disposeBenchData(): void {
  if (dataCache) disposeDevice(dataCache.d);
  dataCache = null;
}

export function makeRun(bits: BenchBits, batch: number, totalSteps: number): BenchRun {
  const data = deviceData();
  if (batch > data.n) throw new Error(`batch ${batch} > ${data.n} examples`);
  const dims = layerDims({ ...BENCH_MODEL });
  const m: Mlp = initMlp(dims, 0);
  const quant = benchQuant(bits);
  const params = [...m.weights, ...m.biases];
  const opt = new AdamW(params, { weightDecay: BENCH_WEIGHT_DECAY });
  const rng = new Rng(7);
  const orders = Array.from({ length: N_ORDERS }, () => rng.shuffle(Int32Array.from({ length: data.n }, (_, i) => i)).slice(0, batch));
  const sched = { lr: BENCH_LR, schedule: 'linear' as const };
  const run = lossSumRun(
    (k, acc) => trainStep({ m, params, opt, data, quant }, orders[k % N_ORDERS], lrAt(sched, k, totalSteps), acc),
    () => {
      opt.dispose();
      disposeMlp(m);
    },
  );
  return { ...run, params };
}
