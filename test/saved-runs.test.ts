/** Runs saved by earlier versions of the page (IndexedDB) upgrade: loss from testMse, the task's metric, the config completed. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { upgradeRun } from '../src/engine/runfile';

const oldRun = (task: 'poly' | 'lm', extra: Record<string, unknown> = {}) => ({
  id: `r-${task}`,
  name: 'QAFT 1.58b lr 1e-4',
  method: 'qaft',
  bits: 1.58,
  lr: 1e-4,
  steps: 600,
  stepsDone: 600,
  testMse: 0.0123,
  curve: [{ step: 0, train: 0.1, test: 0.2 }],
  predictions: null,
  wallMs: 1000,
  status: 'done',
  diverged: null,
  backend: 'wasm',
  createdAt: 1_700_000_000_000,
  // An old config: no `lm` block and no `task` (saved before the LM task existed).
  config: task === 'lm' ? { task: 'lm', lm: { attnBits: 2 } } : { quant: { bits: 1.58 }, model: { width: 64 } },
  ...extra,
});

describe('saved runs from earlier versions', () => {
  it('carry their loss as `loss` with the task’s metric, and a full config', () => {
    const poly = upgradeRun(oldRun('poly'))!;
    expect(poly.loss).toBe(0.0123);
    expect(poly.metric).toEqual({ name: 'test MSE', unit: '' });
    expect('testMse' in poly).toBe(false);
    expect(poly.config.model.width).toBe(64);
    expect(poly.config.lm).toEqual(DEFAULT_CONFIG.lm);
    const lm = upgradeRun(oldRun('lm'))!;
    expect(lm.metric).toEqual({ name: 'val NLL', unit: 'nats/token' });
    expect(lm.config.lm.attnBits).toBe(2);
  });

  it('keep a loss they already have, and are refused when unusable', () => {
    const r = upgradeRun(oldRun('poly', { loss: 0.5, metric: { name: 'test MSE', unit: '' }, testMse: undefined }))!;
    expect(r.loss).toBe(0.5);
    expect(upgradeRun(oldRun('poly', { method: 'bogus' }))).toBeNull();
    expect(upgradeRun(oldRun('poly', { config: { quant: { bits: 99 } } }))).toBeNull();
    expect(upgradeRun(null)).toBeNull();
  });
});
