/** Repeats: every run over N seeds (training data, init, batch order; the test set stays), mean ± 95 % interval, and whether a difference exceeds the seed noise. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { planItems, repeatConfig } from '../src/engine/core/plans';
import { compareGroups, summarize, t975 } from '../src/engine/core/stats';
import { parseParams } from '../src/engine/url';

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
});
