/** Plans, the probes behind the PTQ-vs-QAFT views, sensitivity and bit assignment, GPTQ in the Lab. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { Lab } from '../src/engine/poly/lab';
import { type LabEvent } from '../src/engine/core/runs';
import { planItems } from '../src/engine/core/plans';
import { assignBits, type SensitivityResult } from '../src/engine/poly/sensitivity';
import { histograms, landscape, sensitivity } from '../src/engine/poly/views';
import { modelStorageBits } from '../src/engine/poly/layerspec';
import { configProblems } from '../src/engine/tasks';
import { useBackend } from './helpers/backend';

function small(over: (c: ExperimentConfig) => void = () => {}): ExperimentConfig {
  const c = cloneConfig(DEFAULT_CONFIG);
  c.model = { width: 32, depth: 2 };
  c.data = { ...c.data, trainSize: 512, testSize: 64, budget: 64 };
  c.fp = { ...c.fp, steps: 80, batch: 64 };
  c.qaft = { ...c.qaft, steps: 40, batch: 32, lr: 1e-3 };
  c.logEvery = 20;
  over(c);
  return c;
}

describe('plans', () => {
  it('sweep: RTN once per bit-width and QAFT at every learning rate; ptq: RTN, GPTQ, QAFT and GPTQ-initialized QAFT per bit-width', () => {
    const c = small((x) => (x.sweep = { bits: [4, 2], lrs: [1e-4, 1e-3, 1e-2] }));
    const sweep = planItems(c, 'sweep');
    expect(sweep).toHaveLength(6);
    expect(sweep.map((i) => [i.config.quant.bits, i.config.qaft.lr, i.methods.join('+')])).toEqual([
      [4, 1e-4, 'rtn+qaft'],
      [4, 1e-3, 'qaft'],
      [4, 1e-2, 'qaft'],
      [2, 1e-4, 'rtn+qaft'],
      [2, 1e-3, 'qaft'],
      [2, 1e-2, 'qaft'],
    ]);
    const ptq = planItems(c, 'ptq');
    expect(ptq.map((i) => [i.config.quant.bits, i.methods.join('+')])).toEqual([
      [4, 'rtn+gptq+qaft+gptq-qaft'],
      [2, 'rtn+gptq+qaft+gptq-qaft'],
    ]);
  });
});

describe('quantizer settings that do not fit together', () => {
  it('a group size that does not divide the first layer names the granularity (or the group key when set)', () => {
    const c = small((x) => (x.quant.granularity = 'group'));
    // 64 divides neither the first layer's 14 inputs nor the hidden width 32.
    expect(new Set(configProblems(c).map((p) => p.key))).toEqual(new Set(['gran']));
    expect(configProblems(c)[0].message).toMatch(/14 inputs.*does not divide/);
    c.quant.groupSize = 8;
    expect(configProblems(c)[0].key).toBe('group');
    c.quant.layers = 'nofirst';
    expect(configProblems(c)).toEqual([]);
  });

  it('a scheme that does not take the bit-width, and an override of a missing layer', () => {
    expect(configProblems(small((x) => (x.quant.scheme = 'asym')))[0]).toMatchObject({ key: 'scheme' });
    expect(configProblems(small((x) => (x.quant.overrides = [{ layer: 7, bits: 8, scheme: 'auto' }])))[0]).toMatchObject({ key: 'lq' });
  });

  it('storage: a quantized model is smaller than FP, and 8-bit first/last overrides cost more than all-2-bit', () => {
    const fp = modelStorageBits(small(), false);
    const q2 = modelStorageBits(
      small((x) => (x.quant.bits = 2)),
      true,
    );
    const mixed = modelStorageBits(
      small(
        (x) => (
          (x.quant.bits = 2),
          (x.quant.overrides = [
            { layer: 0, bits: 8, scheme: 'auto' },
            { layer: 2, bits: 8, scheme: 'auto' },
          ])
        ),
      ),
      true,
    );
    expect(q2).toBeLessThan(fp / 8);
    expect(mixed).toBeGreaterThan(q2);
  });
});

describe('bit assignment under an average-bits budget', () => {
  const s: SensitivityResult = {
    fpLoss: 1,
    bits: [8, 4, 2],
    layers: [
      { layer: 0, weights: 100, loss: { 8: 1, 4: 1.5, 2: 5 } },
      { layer: 1, weights: 1000, loss: { 8: 1, 4: 1.01, 2: 1.1 } },
      { layer: 2, weights: 100, loss: { 8: 1, 4: 1.2, 2: 3 } },
    ],
  };
  it('lowers the cheap, large layer first and meets the budget', () => {
    const r = assignBits(s, 3);
    expect(r.averageBits).toBeLessThanOrEqual(3);
    expect(r.overrides.find((o) => o.layer === 1)?.bits).toBe(2);
    expect(r.overrides.find((o) => o.layer === 0)?.bits).toBeGreaterThan(2);
  });
  it('an impossible budget ends with every layer at the lowest bit-width', () => {
    const r = assignBits(s, 1);
    expect(r.overrides.map((o) => o.bits)).toEqual([2, 2, 2]);
  });
});

describe('GPTQ, probes and views in the Lab', () => {
  beforeAll(async () => {
    await useBackend();
  });

  it('runs the PTQ plan at int3: GPTQ local errors below RTN, every run carries storage, examples and layer errors; probes work and free their tensors', async () => {
    const base = tf.memory().numTensors;
    const lab = new Lab();
    const c = small((x) => (x.sweep.bits = [3]));
    const events: LabEvent[] = [];
    const runs = await lab.runPlan(c, 'ptq', [], (e) => events.push(e));
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'gptq', 'qaft', 'gptq-qaft']);
    const [, rtn, gptq, qaft, gq] = runs;
    expect(events.some((e) => e.type === 'stage')).toBe(true);
    // GPTQ-initialized QAFT: one start, its GPTQ stage under its own id, then its curve from GPTQ's weights.
    expect(events.filter((e) => e.type === 'runStart' && e.runId === gq.id)).toHaveLength(1);
    expect(events.some((e) => e.type === 'stage' && e.runId === gq.id)).toBe(true);
    expect(gq.curve[0].test).toBeCloseTo(gptq.loss as number, 4);
    expect(gq.examples).toBe(64);
    for (const r of [rtn, gptq, qaft, gq]) {
      expect(r.layerErrors).toHaveLength(3);
      expect(r.storageBits).toBeGreaterThan(0);
      expect(r.loss).toBeGreaterThan(0);
    }
    expect(gptq.examples).toBe(64);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(gptq.layerErrors as number[])).toBeLessThan(sum(rtn.layerErrors as number[]));

    const cq = runs[3].config;
    const land = await landscape(lab, cq, {
      lines: [
        ['fp', rtn.id],
        ['fp', 'missing-run'],
      ],
      ts: [0, 0.5, 1],
      directions: 2,
      distances: [0, 1],
      seed: 1,
    });
    expect(land.lines).toHaveLength(1);
    expect(land.missing).toEqual(['missing-run']);
    expect(land.lines[0].points[2].loss).toBeCloseTo(rtn.loss as number, 5);
    expect(land.radial).toHaveLength(2);

    const h = histograms(lab, cq, rtn.id, 20);
    expect(h).toHaveLength(3);
    expect(h[1].fp.reduce((a, b) => a + b, 0)).toBe(32 * 32);
    expect(h[1].quantized.reduce((a, b) => a + b, 0)).toBe(32 * 32);
    expect(h[1].levels).toBeNull(); // int3 per output channel: 32 scales × 7 levels is more than one grid
    const t = await lab.run({ ...cq, quant: { ...cq.quant, granularity: 'tensor' } }, ['rtn'], () => {});
    const ht = histograms(lab, cq, t[0].id, 20);
    expect(ht[1].levels?.length).toBeLessThanOrEqual(7); // one per-tensor int3 grid

    const sens = await sensitivity(lab, cq, [8, 2]);
    expect(sens.layers).toHaveLength(3);
    for (const l of sens.layers) expect(l.loss[2]).toBeGreaterThanOrEqual((l.loss[8] as number) - 1e-6);

    lab.dispose();
    expect(tf.memory().numTensors).toBe(base);
  });

  it('k-means QAFT trains with codebooks refitted on the host and frees them', async () => {
    const base = tf.memory().numTensors;
    const lab = new Lab();
    const c = small((x) => ((x.quant.bits = 2), (x.quant.scheme = 'kmeans'), (x.quant.granularity = 'row')));
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft'], () => {});
    const [, rtn, qaft] = runs;
    expect(qaft.status).toBe('done');
    expect(qaft.loss).toBeLessThan(rtn.loss as number);
    lab.dispose();
    expect(tf.memory().numTensors).toBe(base);
  });
});
