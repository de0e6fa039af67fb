/**
 * What the page matches runs by (src/ui/select.ts settingsKey) and how it draws and counts them
 * (src/ui/runs.ts), for the MLP's QA-LoRA, data-free QAFT and tiled QAT: each depends on exactly
 * the settings it reads.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { methodDef, type Method } from '../src/engine/core/methods';
import { runName } from '../src/engine/tasks';
import { trainIsTaskLoss } from '../src/ui/runs';
import { settingsKey } from '../src/ui/select';

const base = (): ExperimentConfig => cloneConfig(DEFAULT_CONFIG);
const changed = (m: Method, edit: (c: ExperimentConfig) => void): boolean => {
  const c = base();
  edit(c);
  return settingsKey(m, c) !== settingsKey(m, base());
};

describe('settingsKey of the MLP methods that read the lm settings', () => {
  it('QA-LoRA: rank, alpha, the QAFT settings and the budget; not the data-free or tile settings', () => {
    expect(changed('qalora', (c) => (c.lm.loraRank = 4))).toBe(true);
    expect(changed('qalora', (c) => (c.lm.loraAlpha = 8))).toBe(true);
    expect(changed('qalora', (c) => (c.qaft.steps = 10))).toBe(true);
    expect(changed('qalora', (c) => (c.data.budget = 128))).toBe(true);
    expect(changed('qalora', (c) => (c.quant.bits = 3))).toBe(true);
    expect(changed('qalora', (c) => (c.lm.dfSequences = 16))).toBe(false);
    expect(changed('qalora', (c) => (c.lm.tileK = 2))).toBe(false);
  });

  it('data-free: df_n and the QAFT settings; not the budget, nor df_temp / df_loss (no counterpart on the MLP)', () => {
    expect(changed('datafree', (c) => (c.lm.dfSequences = 16))).toBe(true);
    expect(changed('datafree', (c) => (c.qaft.lr = 1e-3))).toBe(true);
    expect(changed('datafree', (c) => (c.data.budget = 128))).toBe(false);
    expect(changed('datafree', (c) => (c.lm.dfTemperature = 0.5))).toBe(false);
    expect(changed('datafree', (c) => (c.lm.dfLoss = 'ce'))).toBe(false);
    expect(changed('datafree', (c) => (c.lm.loraRank = 4))).toBe(false);
  });

  it('tiled: k, steps per tile, global steps, the budget and the QAFT optimizer; not the QAFT length', () => {
    expect(changed('tiled', (c) => (c.lm.tileK = 2))).toBe(true);
    expect(changed('tiled', (c) => (c.lm.tileSteps = 10))).toBe(true);
    expect(changed('tiled', (c) => (c.lm.tileGlobal = 0))).toBe(true);
    expect(changed('tiled', (c) => (c.data.budget = 128))).toBe(true);
    expect(changed('tiled', (c) => (c.qaft.lr = 1e-3))).toBe(true);
    expect(changed('tiled', (c) => (c.qaft.steps = 10))).toBe(false);
    expect(changed('tiled', (c) => (c.qaft.unit = 'epochs'))).toBe(false);
    expect(changed('tiled', (c) => (c.lm.loraRank = 4))).toBe(false);
  });

  it('the sweep view can still ignore bits and learning rate', () => {
    for (const m of ['qalora', 'datafree', 'tiled'] as const) {
      const a = base();
      const b = base();
      b.quant.bits = 3;
      b.qaft.lr = 1e-2;
      expect(settingsKey(m, a, { bits: true, lr: true }), m).toBe(settingsKey(m, b, { bits: true, lr: true }));
    }
  });
});

describe('names and curves', () => {
  it('run names of the MLP', () => {
    const c = base();
    c.qaft.lr = 1e-4;
    expect(runName('qalora', c)).toBe('QA-LoRA 1.58b r8 lr 1e-4');
    expect(runName('datafree', c)).toBe('Data-free QAFT 1.58b lr 1e-4');
    expect(runName('tiled', c)).toBe('Tiled QAT 1.58b k1 lr 1e-4');
    for (const m of ['qalora', 'datafree', 'tiled'] as const) expect(methodDef(m).tasks).toEqual(['poly', 'lm']);
  });

  it('the train curve is the task loss except data-free’s distillation loss and the tiles’ L2', () => {
    const c = base(); // 100 steps per tile, 100 global
    const planned = 5 * 100 + 100;
    expect(trainIsTaskLoss('qalora', c, planned, 50)).toBe(true);
    expect(trainIsTaskLoss('datafree', c, planned, 50)).toBe(false);
    expect(trainIsTaskLoss('tiled', c, planned, 500)).toBe(false);
    expect(trainIsTaskLoss('tiled', c, planned, 510)).toBe(true);
  });
});
