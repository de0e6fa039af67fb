/**
 * Quantizer schedules (src/engine/schedule.ts, train.ts quantAt): delayed fake-quant and
 * gradual bit reduction — URL round trip and rejection, the step → segment function, the
 * switch observed in a real run, and no tensor leaks across switches.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, layerDims, parseConfig } from '../src/engine/core/config';
import { makeDataset } from '../src/engine/poly/data';
import { Lab } from '../src/engine/poly/lab';
import { type RunRecord } from '../src/engine/core/runs';
import { disposeMlp, initMlp, type LayerQuant } from '../src/engine/poly/model';
import { quantSegments, segmentAt } from '../src/engine/core/schedule';
import { disposeDevice, evaluate, toDevice, train, type DeviceData } from '../src/engine/poly/train';
import { configToParams, parseParams } from '../src/engine/url';
import { layerQuant } from '../src/engine/poly/layerspec';
import { useBackend } from './helpers/backend';
import { tinyConfig } from './helpers/configs';

let trainData: DeviceData;
let testData: DeviceData;
beforeAll(async () => {
  await useBackend();
  trainData = toDevice(makeDataset(256, 4, 1));
  testData = toDevice(makeDataset(64, 4, 2));
});
afterAll(() => {
  disposeDevice(trainData);
  disposeDevice(testData);
});

describe('schedule settings in the share URL', () => {
  it('qdelay and bitsched round-trip readably', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.bits = 2;
    c.quant.delay = 50;
    c.quant.bitSchedule = [
      { bits: 8, at: 0 },
      { bits: 4, at: 0.3 },
      { bits: 2, at: 0.6 },
    ];
    const q = configToParams(c);
    expect(decodeURIComponent(q)).toContain('qdelay=50');
    expect(decodeURIComponent(q)).toContain('bitsched=8@0,4@0.3,2@0.6');
    const p = parseParams(q);
    expect(p.messages).toEqual([]);
    expect(p.config).toEqual(c);
    // Written by hand, unescaped.
    expect(parseParams('v=1&bitsched=8@0,4@0.3,2@0.6&qdelay=7').config.quant).toMatchObject({ delay: 7, bitSchedule: c.quant.bitSchedule });
  });

  it.each([
    ['bitsched=4@0.1,2@0.5', 'start at 0'],
    ['bitsched=8@0,4@0.5,2@0.4', 'increase'],
    ['bitsched=8@0,4@0.5,2@0.5', 'increase'],
    ['bitsched=8@0,4@1', '1'],
    ['bitsched=8@0,16@0.5', 'quantized'],
    ['bitsched=8@0,9@0.5', 'bitsched'],
    ['bitsched=8,4', 'bits@fraction'],
    ['bitsched=8@0@1', 'bits@fraction'],
    ['qdelay=-1', 'qdelay'],
    ['qdelay=2.5', 'qdelay'],
    ['qdelay=abc', 'qdelay'],
  ])('%s is rejected with a message naming the key, and the default is kept', (query, why) => {
    const p = parseParams(`v=1&${query}`);
    const key = query.split('=')[0];
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toContain(`"${key}`);
    expect(p.messages[0]).toContain(why);
    expect(p.config.quant.delay).toBe(0);
    expect(p.config.quant.bitSchedule).toEqual([]);
  });

  it('a schedule bit-width that does not fit the other quantizer settings is blamed on bitsched', () => {
    const p = parseParams('v=1&bits=4&scheme=nf4&bitsched=8@0,4@0.5');
    expect(p.messages.some((m) => m.startsWith('"bitsched"') && m.includes('8 bits'))).toBe(true);
    expect(p.config.quant.bitSchedule).toEqual([]);
    expect(p.config.quant.scheme).toBe('nf4');
  });
});

describe('quantSegments / segmentAt', () => {
  const cfg = (delay: number, sched: [number, number][]) => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.bits = 4;
    c.quant.delay = delay;
    c.quant.bitSchedule = sched.map(([bits, at]) => ({ bits, at })) as typeof c.quant.bitSchedule;
    return parseConfig(c);
  };
  const bitsAt = (c: ReturnType<typeof cfg>, total: number) => {
    const s = quantSegments(c, total);
    return Array.from({ length: total }, (_, i) => s[segmentAt(s, i)].bits);
  };

  it('no schedule: quant.bits from step 0', () => {
    expect(quantSegments(cfg(0, []), 100)).toEqual([{ start: 0, bits: 4 }]);
  });

  it('delay N: steps 0..N−1 full precision, then quantized', () => {
    expect(quantSegments(cfg(30, []), 100)).toEqual([
      { start: 0, bits: null },
      { start: 30, bits: 4 },
    ]);
    const b = bitsAt(cfg(3, []), 6);
    expect(b).toEqual([null, null, null, 4, 4, 4]);
  });

  it('8@0,4@0.3,2@0.6 over 10 steps: 8 for steps 0–2, 4 for 3–5, 2 for 6–9', () => {
    expect(
      bitsAt(
        cfg(0, [
          [8, 0],
          [4, 0.3],
          [2, 0.6],
        ]),
        10,
      ),
    ).toEqual([8, 8, 8, 4, 4, 4, 2, 2, 2, 2]);
  });

  it('a delay postpones the bit schedule; entries landing on one step keep the later one', () => {
    expect(
      quantSegments(
        cfg(5, [
          [8, 0],
          [4, 0.3],
          [2, 0.6],
        ]),
        10,
      ),
    ).toEqual([
      { start: 0, bits: null },
      { start: 5, bits: 4 },
      { start: 6, bits: 2 },
    ]);
    // A delay as long as the run: all steps full precision; the final segment (never trained) still says the bits.
    const s = quantSegments(cfg(50, []), 10);
    expect(s).toEqual([
      { start: 0, bits: null },
      { start: 10, bits: 4 },
    ]);
    expect(segmentAt(s, 9)).toBe(0);
  });
});

describe('training with a schedule', () => {
  it('switches at the right step: the quantizer used by each step, and the curve (FP eval before the delay ends)', async () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model = { width: 32, depth: 2 };
    c.quant.bits = 2;
    const q2 = layerQuant(c);
    const m = initMlp(layerDims(c.model), 3);
    const fp0 = await evaluate(m, testData);
    const q0 = await evaluate(m, testData, q2);
    const calls: (LayerQuant[] | undefined)[] = [];
    const quantAt = (step: number) => {
      const q = step < 20 ? undefined : q2;
      calls[step] = q;
      return q;
    };
    const out = await train(
      m,
      trainData,
      testData,
      { lr: 1e-3, batch: 64, steps: 40, schedule: 'constant', weightDecay: 0, seed: 0, logEvery: 10, quantAt },
      () => {},
    );
    expect(calls.slice(0, 40).map((q) => (q ? 2 : null))).toEqual([...Array(20).fill(null), ...Array(20).fill(2)]);
    // Step 0 evaluated without quantization (the first window is FP), the last with 2 bits.
    expect(out.curve[0].test).toBeCloseTo(fp0, 6);
    expect(out.curve[0].test).not.toBeCloseTo(q0, 3);
    expect(out.curve.at(-1)?.test).toBeCloseTo(await evaluate(m, testData, q2), 6);
    disposeMlp(m);
  });

  it('the tensor count stays flat across segment switches (inside a run and after it)', async () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.model = { width: 32, depth: 2 };
    c.quant.scheme = 'kmeans'; // codebooks: tensors per segment, refit on each switch
    c.quant.granularity = 'row';
    const lists = [8, 4, 2].map((bits) => layerQuant({ ...c, quant: { ...c.quant, bits: bits as 8 } }));
    const m = initMlp(layerDims(c.model), 4);
    const base = tf.memory().numTensors;
    const counts: number[] = [];
    const quantAt = (s: number) => (s < 10 ? undefined : lists[Math.min(2, Math.floor((s - 10) / 10))]);
    await train(m, trainData, testData, { lr: 1e-3, batch: 64, steps: 40, schedule: 'constant', weightDecay: 0, seed: 0, logEvery: 10, quantAt }, () =>
      counts.push(tf.memory().numTensors),
    );
    // Inside the run (optimizer state on top of base): codebooks appear as each list is first
    // used (3 layers each), and nothing else; after the run only the codebooks remain.
    const c0 = counts[0];
    expect(counts).toEqual([c0, c0, c0 + 3, c0 + 6, c0 + 9]);
    expect(tf.memory().numTensors).toBe(base + 9);
    for (const l of lists) for (const q of l) q.codebook?.dispose();
    expect(tf.memory().numTensors).toBe(base);
    disposeMlp(m);
  });

  it('a Lab run with bitsched: RunRecord.bits is the final bits, and no tensors leak', async () => {
    const c = tinyConfig({ bits: 8, qaftSteps: 30, fpSteps: 30 });
    c.quant.bitSchedule = [
      { bits: 8, at: 0 },
      { bits: 4, at: 0.3 },
      { bits: 2, at: 0.6 },
    ];
    c.quant.delay = 5;
    const lab = new Lab();
    await lab.run(c, ['fp'], () => {});
    const base = tf.memory().numTensors;
    const runs: RunRecord[] = await lab.run(c, ['qaft', 'scratch', 'rtn'], () => {});
    expect(tf.memory().numTensors).toBe(base);
    const [qaft, scratch, rtn] = ['qaft', 'scratch', 'rtn'].map((k) => runs.find((r) => r.method === k) as RunRecord);
    expect(qaft.bits).toBe(2);
    expect(scratch.bits).toBe(2);
    expect(qaft.name).toBe('QAFT 8→4→2b lr 1e-4 delay 5');
    expect(qaft.layerQuant).toEqual(['int2 absmax row', 'int2 absmax row', 'int2 absmax row']);
    // RTN is unaffected: it uses quant.bits.
    expect(rtn.bits).toBe(8);
    expect(qaft.status).toBe('done');
    expect(Number.isFinite(qaft.loss)).toBe(true);
    lab.dispose();
  });
});
