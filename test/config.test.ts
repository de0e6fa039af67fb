/** The config schema and its helpers (src/engine/config.ts). */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  cloneConfig,
  formatBits,
  formatLr,
  isLayerQuantized,
  layerDims,
  parseConfig,
  totalSteps,
  type ExperimentConfig,
  type TrainConfig,
} from '../src/engine/core/config';
import { fpKey } from '../src/engine/tasks';

/** The default config with one change applied to a deep copy (typed loosely: it may be invalid). */
function withChange(change: (c: Record<string, Record<string, unknown>>) => void): unknown {
  const c = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, Record<string, unknown>>;
  change(c);
  return c;
}

describe('parseConfig', () => {
  it('accepts the defaults and returns an equal copy', () => {
    const c = parseConfig(structuredClone(DEFAULT_CONFIG));
    expect(c).toEqual(DEFAULT_CONFIG);
  });

  const bad: { name: string; input: unknown; message: RegExp }[] = [
    { name: 'not an object', input: null, message: /\(root\)/ },
    { name: 'a string', input: 'width=64', message: /\(root\)/ },
    { name: 'missing group', input: withChange((c) => delete c.model), message: /model/ },
    { name: 'width too small', input: withChange((c) => (c.model.width = 2)), message: /model\.width/ },
    { name: 'depth not an integer', input: withChange((c) => (c.model.depth = 2.5)), message: /model\.depth/ },
    { name: 'wrong type', input: withChange((c) => (c.model.width = '64')), message: /model\.width/ },
    { name: 'degree 9', input: withChange((c) => (c.data.degree = 9)), message: /data\.degree/ },
    { name: 'bits not offered', input: withChange((c) => (c.quant.bits = 1.5)), message: /quant\.bits/ },
    { name: 'bad granularity', input: withChange((c) => (c.quant.granularity = 'diagonal')), message: /quant\.granularity/ },
    { name: 'bad layer set', input: withChange((c) => (c.quant.layers = 'some')), message: /quant\.layers/ },
    { name: 'activation bits 1', input: withChange((c) => (c.quant.actBits = 1)), message: /quant\.actBits: activation bits must be 0 \(off\) or 2–8/ },
    { name: 'lr 0', input: withChange((c) => (c.fp.lr = 0)), message: /fp\.lr/ },
    { name: 'lr negative', input: withChange((c) => (c.qaft.lr = -1e-3)), message: /qaft\.lr/ },
    { name: 'lr NaN', input: withChange((c) => (c.qaft.lr = NaN)), message: /qaft\.lr/ },
    { name: 'weight decay above 1', input: withChange((c) => (c.qaft.weightDecay = 2)), message: /qaft\.weightDecay/ },
    { name: 'bad unit', input: withChange((c) => (c.fp.unit = 'minutes')), message: /fp\.unit/ },
    { name: 'bad backend', input: withChange((c) => ((c as Record<string, unknown>).backend = 'tpu')), message: /backend/ },
    { name: 'logEvery 0', input: withChange((c) => ((c as Record<string, unknown>).logEvery = 0)), message: /logEvery/ },
  ];
  for (const t of bad) {
    it(`rejects ${t.name} with a readable message naming the path`, () => {
      let msg = '';
      try {
        parseConfig(t.input);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toMatch(/^Invalid experiment config: /);
      expect(msg).toMatch(t.message);
    });
  }

  it('lists every problem at once', () => {
    const input = withChange((c) => {
      c.model.width = 2;
      c.data.degree = 0;
    });
    expect(() => parseConfig(input)).toThrow(/model\.width: .*; data\.degree: |data\.degree: .*; model\.width: /);
  });
});

describe('totalSteps', () => {
  const t = (o: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_CONFIG.qaft, ...o });
  it('steps unit: the step count', () => {
    expect(totalSteps(t({ unit: 'steps', steps: 123, epochs: 9 }), 4096)).toBe(123);
  });
  it('epochs unit: epochs × whole batches per epoch', () => {
    expect(totalSteps(t({ unit: 'epochs', epochs: 3, batch: 256 }), 4096)).toBe(48);
    expect(totalSteps(t({ unit: 'epochs', epochs: 3, batch: 256 }), 1000)).toBe(9); // floor(1000/256) = 3
    expect(totalSteps(t({ unit: 'epochs', epochs: 2, batch: 100 }), 1000)).toBe(20);
  });
  it('epochs unit: a batch larger than the data set is one step per epoch', () => {
    expect(totalSteps(t({ unit: 'epochs', epochs: 5, batch: 4096 }), 1000)).toBe(5);
  });
});

describe('isLayerQuantized', () => {
  const pattern = (layers: ExperimentConfig['quant']['layers'], n: number) => Array.from({ length: n }, (_, i) => isLayerQuantized(layers, i, n));
  it('all / inner / nofirst / nolast on 4 linear layers', () => {
    expect(pattern('all', 4)).toEqual([true, true, true, true]);
    expect(pattern('inner', 4)).toEqual([false, true, true, false]);
    expect(pattern('nofirst', 4)).toEqual([false, true, true, true]);
    expect(pattern('nolast', 4)).toEqual([true, true, true, false]);
  });
  it('two layers (depth 1): inner quantizes nothing', () => {
    expect(pattern('all', 2)).toEqual([true, true]);
    expect(pattern('inner', 2)).toEqual([false, false]);
    expect(pattern('nofirst', 2)).toEqual([false, true]);
    expect(pattern('nolast', 2)).toEqual([true, false]);
  });
});

describe('helpers', () => {
  it('layerDims: 14 → width × depth → 200', () => {
    expect(layerDims({ width: 64, depth: 2 })).toEqual([14, 64, 64, 200]);
    expect(layerDims({ width: 16, depth: 1 })).toEqual([14, 16, 200]);
  });
  it('fpKey changes with data, model and fp settings, not with quantization or QAFT settings', () => {
    const a = cloneConfig(DEFAULT_CONFIG);
    const b = cloneConfig(DEFAULT_CONFIG);
    b.quant.bits = 4;
    b.qaft.lr = 1e-2;
    b.logEvery = 5;
    expect(fpKey(b)).toBe(fpKey(a));
    b.fp.steps = 10;
    expect(fpKey(b)).not.toBe(fpKey(a));
    const c = cloneConfig(DEFAULT_CONFIG);
    c.data.trainSeed = 9;
    expect(fpKey(c)).not.toBe(fpKey(a));
  });
  it('formatLr and formatBits', () => {
    expect(formatLr(1e-3)).toBe('1e-3');
    expect(formatLr(3e-4)).toBe('3e-4');
    expect(formatLr(2.5e-5)).toBe('2.5e-5');
    expect(formatLr(10)).toBe('1e1');
    expect(formatBits(1.58)).toBe('1.58b');
    expect(formatBits(4)).toBe('4b');
    expect(formatBits(32)).toBe('FP32');
  });
  it('cloneConfig is deep', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model.width = 8;
    expect(DEFAULT_CONFIG.model.width).toBe(512);
  });
});
