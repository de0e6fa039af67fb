/** Small experiment configs for the training tests (built from the defaults, validated). */
import { DEFAULT_CONFIG, parseConfig, type ExperimentConfig } from '../../src/engine/core/config';

export interface TinyOptions {
  width?: number;
  depth?: number;
  trainSize?: number;
  testSize?: number;
  fpSteps?: number;
  qaftSteps?: number;
  fpLr?: number;
  qaftLr?: number;
  batch?: number;
  logEvery?: number;
  bits?: ExperimentConfig['quant']['bits'];
  schedule?: 'constant' | 'linear';
}

/** A tiny comparison (seconds on wasm): width 32, depth 2, 256/64 examples, 60 steps each. */
export function tinyConfig(o: TinyOptions = {}): ExperimentConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  c.model = { width: o.width ?? 32, depth: o.depth ?? 2 };
  c.data.trainSize = o.trainSize ?? 256;
  c.data.testSize = o.testSize ?? 64;
  c.fp = { ...c.fp, steps: o.fpSteps ?? 60, lr: o.fpLr ?? 1e-3, batch: o.batch ?? 64, schedule: o.schedule ?? c.fp.schedule };
  c.qaft = { ...c.qaft, steps: o.qaftSteps ?? 60, lr: o.qaftLr ?? 1e-4, batch: o.batch ?? 64, schedule: o.schedule ?? c.qaft.schedule };
  c.quant.bits = o.bits ?? c.quant.bits;
  c.logEvery = o.logEvery ?? 10;
  return parseConfig(c);
}
