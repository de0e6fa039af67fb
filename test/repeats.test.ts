/** Repeats: every run over N seeds (training data, init, batch order; the test set stays), mean ± 95 % interval, and whether a difference exceeds the seed noise. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../src/engine/core/config';
import { planItems, repeatConfig, seedless, seedsOf } from '../src/engine/core/plans';
import type { RunRecord } from '../src/engine/core/runs';
import { compareGroups, curveBand, groupRepeats, summarize, t975 } from '../src/engine/core/stats';
import { parseParams } from '../src/engine/url';
import { pageRepeatKey, repeatRuns } from '../src/ui/select';

let t = 0;
/** A finished QAFT run of `config` with final loss `loss` (created after every earlier one). */
const run = (config: ExperimentConfig, loss: number, name = 'QAFT 2b lr 1e-4'): RunRecord => ({
  id: `r${t}`,
  name,
  method: 'qaft',
  bits: 2,
  lr: 1e-4,
  steps: 30,
  stepsDone: 30,
  loss,
  metric: { name: 'test MSE', unit: '' },
  curve: [],
  predictions: null,
  wallMs: 1,
  status: 'done',
  diverged: null,
  backend: 'cpu',
  createdAt: ++t,
  config,
});

describe('repeats', () => {
  it('a plan runs once per seed, repeat after repeat, with the seeds moved and the test set kept', () => {
    const { config, messages } = parseParams('v=1&repeats=3&sweep_bits=4,2&sweep_lr=1e-4');
    expect(messages).toEqual([]);
    const items = planItems(config, 'ptq');
    expect(items).toHaveLength(6);
    expect(items.map((i) => [i.config.quant.bits, i.config.data.trainSeed, i.config.fp.seed, i.config.qaft.seed])).toEqual([
      [4, 1, 0, 0],
      [2, 1, 0, 0],
      [4, 2, 1, 1],
      [2, 2, 1, 1],
      [4, 3, 2, 2],
      [2, 3, 2, 2],
    ]);
    for (const i of items) expect(i.config.data.testSeed).toBe(DEFAULT_CONFIG.data.testSeed);
    // The language model keeps its FP model (lmFp.seed) and moves the fine-tuning's and the sample's seeds.
    const lm = repeatConfig({ ...DEFAULT_CONFIG, task: 'lm' }, 2);
    expect([lm.lmFp.seed, lm.lmQaft.seed, lm.lm.sampleSeed]).toEqual([0, 2, 2]);
    expect(repeatConfig(DEFAULT_CONFIG, 0)).toEqual(DEFAULT_CONFIG);
  });

  it('summarizes with Student’s t and compares with Welch’s interval', () => {
    expect(t975(1)).toBe(12.706);
    expect(t975(2)).toBe(4.303);
    expect(t975(100)).toBe(1.96);
    const s = summarize([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.sd).toBe(1);
    expect(s.ci95).toBeCloseTo(4.303 / Math.sqrt(3), 12);
    expect(summarize([5]).ci95).toBeNaN();
    // Far apart with little noise: larger than the noise; overlapping: within it.
    expect(compareGroups(summarize([1, 1.1, 0.9]), summarize([2, 2.1, 1.9])).significant).toBe(true);
    const d = compareGroups(summarize([1, 2, 3]), summarize([1.5, 2.5, 3.5]));
    expect(d.diff).toBe(-0.5);
    expect(d.significant).toBe(false);
    // Welch with equal variances and n: df = 4, half-width t(4)·sqrt(2/3).
    expect(d.ci95).toBeCloseTo(2.776 * Math.sqrt(2 / 3), 12);
  });

  it('a band over repeated curves aligns them by step; a curve counts only where it logged', () => {
    const a = [
      { step: 0, value: 1 },
      { step: 10, value: 0.5 },
      { step: 20, value: 0.25 },
    ];
    const b = [
      { step: 0, value: 3 },
      { step: 10, value: 0.7 },
      { step: 15, value: 0.6 },
    ];
    const c = [
      { step: 0, value: 2 },
      { step: 10, value: NaN },
      { step: 20, value: 0.35 },
    ];
    const band = curveBand([a, b, c]);
    expect(band.map((p) => [p.step, p.n, p.min, p.max])).toEqual([
      [0, 3, 1, 3],
      [10, 2, 0.5, 0.7],
      [15, 1, 0.6, 0.6],
      [20, 2, 0.25, 0.35],
    ]);
    expect(band[0].mean).toBe(2);
    expect(band[0].ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 12);
    expect(band[1].mean).toBeCloseTo(0.6, 12);
    expect(band[2].ci95).toBeNaN();
    expect(curveBand([])).toEqual([]);
  });

  it('runs repeat each other when only the seeds differ; a re-run with the same seeds replaces the earlier one', () => {
    const base = parseParams('v=1&bits=2&repeats=3').config;
    expect(seedless(repeatConfig(base, 2))).toEqual(seedless(base));
    expect(seedsOf(repeatConfig(base, 2))).not.toBe(seedsOf(base));
    const other = { ...base, qaft: { ...base.qaft, steps: 60 } };
    const groups = groupRepeats([
      run(base, 1),
      run(repeatConfig(base, 1), 2),
      run(repeatConfig(base, 2), 3),
      // The same seeds as repeat 1 again: it replaces that run.
      run(repeatConfig(base, 1), 5),
      // The same name but other settings: a group of its own.
      run(other, 9),
    ]);
    expect(groups.map((g) => [g.n, g.losses])).toEqual([
      [3, [1, 3, 5]],
      [1, [9]],
    ]);
  });

  it('a sweep cell takes its repeats at its own bit-width: runs of other bit-widths with the same seeds do not replace them', () => {
    const base = parseParams('v=1&repeats=3&sweep_bits=4,2').config;
    const at = (k: number, bits: 4 | 2): ExperimentConfig => ({ ...repeatConfig(base, k), quant: { ...base.quant, bits } });
    const runs = [0, 1, 2].flatMap((k) => [run(at(k, 4), 0.1 + k), run(at(k, 2), 0.5 + k)]);
    const cell = (bits: number) => repeatRuns(runs, 'qaft', base, { bits: true, lr: true }, (r) => r.config.quant.bits === bits).map((r) => r.loss);
    expect(cell(4)).toEqual([0.1, 1.1, 2.1]);
    expect(cell(2)).toEqual([0.5, 1.5, 2.5]);
  });

  it('on the page, FP runs of a comparison and of a sweep (other quantizer bits, same seeds) are one model over its seeds', () => {
    const base = parseParams('v=1&repeats=2').config;
    const fp = (k: number, bits: 4 | 1.58, loss: number): RunRecord => ({
      ...run({ ...repeatConfig(base, k), quant: { ...base.quant, bits } }, loss, 'FP lr 1e-3'),
      method: 'fp',
    });
    const runs = [fp(0, 1.58, 1), fp(1, 1.58, 2), fp(0, 4, 1), fp(1, 4, 2)];
    expect(groupRepeats(runs).map((g) => g.n)).toEqual([2, 2]);
    const page = groupRepeats(runs, pageRepeatKey);
    expect(page.map((g) => [g.n, g.runIds])).toEqual([[2, [runs[2].id, runs[3].id]]]);
  });
});
