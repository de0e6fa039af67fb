/**
 * LSQ and scale-only fine-tuning of the MLP (src/engine/poly/lsq.ts; the quantizer math in
 * src/engine/core/lsq.ts): the LSQ gradients against hand-computed values, the step-size init,
 * scale-only keeping its integer codes, both beating RTN at 2 bits on a tiny config, readable
 * rejection of unsupported settings, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDataset } from '../src/engine/poly/data';
import { Lab } from '../src/engine/poly/lab';
import { type RunRecord } from '../src/engine/core/runs';
import { clampScales, disposeLearned, initLsq, initScaleOnly, learnedForward, learnedSnapshot, trainableScales } from '../src/engine/poly/lsq';
import { lsqQuantizer } from '../src/engine/core/lsq';
import { disposeMlp, initMlp } from '../src/engine/poly/model';
import { disposeDevice, toDevice, train } from '../src/engine/poly/train';
import { layerQuant } from '../src/engine/poly/layerspec';
import { useBackend } from './helpers/backend';
import { tinyConfig } from './helpers/configs';

beforeAll(async () => {
  await useBackend();
});

const W = [0.3, -1.2, 0.05, 0.9]; // [in=2, out=2], rows are inputs
const G = [1, 2, 3, 5]; // upstream gradient dL/dŵ

async function grads(s: number[], sShape: [number, number], g: number, perChannel: boolean) {
  const w = tf.tensor2d(W, [2, 2]);
  const st = tf.tensor2d(s, sShape);
  const up = tf.tensor2d(G, [2, 2]);
  // 2 bits, lab range: Qn = −2, Qp = 1.
  const q = lsqQuantizer(-2, 1, g, perChannel);
  const f = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(q(a, b), up)));
  const [dw, ds] = f([w, st]);
  const value = q(w, st);
  const out = { value: Array.from(await value.data()), dw: Array.from(await dw.data()), ds: Array.from(await ds.data()) };
  tf.dispose([w, st, up, dw, ds, value]);
  return out;
}

describe('LSQ quantizer gradients (hand-checked, 2 bits: Qn = −2, Qp = 1)', () => {
  it('per channel, s = [0.25, 0.5], N = 2 inputs, g = 1/√(2·1)', async () => {
    const g = 1 / Math.sqrt(2);
    const r = await grads([0.25, 0.5], [1, 2], g, true);
    // W/s = [[1.2, −2.4], [0.2, 1.8]] → clamp(round) = [[1, −2], [0, 1]] → ŵ = [[0.25, −1], [0, 0.5]].
    r.value.forEach((v, i) => expect(v).toBeCloseTo([0.25, -1, 0, 0.5][i], 6));
    // Only 0.2 is inside [Qn, Qp]: the STE passes its gradient (3), the clipped ones get 0.
    expect(r.dw).toEqual([0, 0, 3, 0]);
    // Channel 0: above (Qp = 1)·1 + inside (round(0.2) − 0.2 = −0.2)·3 = 0.4; channel 1: below (Qn = −2)·2 + above (1)·5 = 1. Times g.
    expect(r.ds[0]).toBeCloseTo(0.4 * g, 6);
    expect(r.ds[1]).toBeCloseTo(1 * g, 6);
  });

  it('per tensor, s = 0.5, N = 4, g = 1/√(4·1) = 0.5', async () => {
    const r = await grads([0.5], [1, 1], 0.5, false);
    // W/s = [0.6, −2.4, 0.1, 1.8]: inside (0.4)·1 + below (−2)·2 + inside (−0.1)·3 + above (1)·5 = 1.1; × 0.5.
    expect(r.ds).toHaveLength(1);
    expect(r.ds[0]).toBeCloseTo(0.55, 6);
    expect(r.dw).toEqual([1, 0, 3, 0]);
    r.value.forEach((v, i) => expect(v).toBeCloseTo([0.5, -1, 0, 0.5][i], 6));
  });
});

describe('initialisation', () => {
  it('LSQ: s0 = 2·mean|W|/√Qp per output channel; g = 1/√(N·Qp) with N the inputs of a channel', async () => {
    const c = tinyConfig({ bits: 4, width: 8, depth: 1 });
    const m = initMlp([14, 8, 200], 0);
    const ls = initLsq(m, layerQuant(c));
    const w = (await m.weights[0].data()) as Float32Array;
    const s = (await (ls.scales[0] as tf.Variable).data()) as Float32Array;
    expect(s.length).toBe(8);
    for (let j = 0; j < 8; j++) {
      let sum = 0;
      for (let i = 0; i < 14; i++) sum += Math.abs(w[i * 8 + j]);
      expect(s[j]).toBeCloseTo((2 * (sum / 14)) / Math.sqrt(7), 6);
    }
    expect(ls.layers[0]).toMatchObject({ qn: -8, qp: 7, perChannel: true });
    expect(ls.layers[0]?.g).toBeCloseTo(1 / Math.sqrt(14 * 7), 9);
    disposeLearned(ls);
    disposeMlp(m);
  });
});

describe('scale-only', () => {
  it('keeps the integer codes: round(Ŵ/s) of the trained model equals the initial RTN codes, and no tensors leak', async () => {
    const c = tinyConfig({ bits: 2 });
    const trainData = toDevice(makeDataset(256, 4, 1));
    const testData = toDevice(makeDataset(64, 4, 2));
    const m = initMlp([14, 32, 32, 200], 0);
    const base = tf.memory().numTensors;
    const ls = initScaleOnly(m, layerQuant(c));
    const codes0 = await Promise.all(ls.codes.map((t) => (t as tf.Tensor).data()));
    const s0 = await Promise.all(ls.scales.map((t) => (t as tf.Variable).data()));
    const biases0 = await Promise.all(m.biases.map((b) => b.data()));
    const out = await train(
      m,
      trainData,
      testData,
      {
        lr: 1e-3,
        batch: 64,
        steps: 30,
        schedule: 'constant',
        weightDecay: 0,
        seed: 0,
        logEvery: 10,
        params: trainableScales(ls),
        forwardFn: learnedForward(ls),
        quant: layerQuant(c),
        afterStep: () => clampScales(ls),
      },
      () => {},
    );
    expect(out.curve.at(-1)?.test).toBeLessThan(out.curve[0].test);
    const snap = await learnedSnapshot(m, ls);
    const s1 = await Promise.all(ls.scales.map((t) => (t as tf.Variable).data()));
    for (let l = 0; l < 3; l++) {
      const out = m.dims[l + 1];
      const codes = snap.weights[l].map((v, k) => Math.round(v / s1[l][k % out]) + 0);
      expect(Array.from(codes)).toEqual(Array.from(codes0[l]).map((x) => x + 0));
      expect(new Set(codes0[l]).size).toBeGreaterThan(1);
      // The scales moved; the biases did not.
      expect(Array.from(s1[l])).not.toEqual(Array.from(s0[l]));
      expect(Array.from(await m.biases[l].data())).toEqual(Array.from(biases0[l]));
    }
    disposeLearned(ls);
    expect(tf.memory().numTensors).toBe(base);
    disposeMlp(m);
    disposeDevice(trainData);
    disposeDevice(testData);
  });
});

describe('Lab: LSQ and scale-only runs', () => {
  it('at 2 bits both end below RTN test MSE; named like QAFT; no tensors leak', async () => {
    const c = tinyConfig({ bits: 2, fpSteps: 150, qaftSteps: 60, qaftLr: 1e-3 });
    const lab = new Lab();
    await lab.run(c, ['fp'], () => {});
    const base = tf.memory().numTensors;
    const runs: RunRecord[] = await lab.run(c, ['rtn', 'lsq', 'scaleonly'], () => {});
    expect(tf.memory().numTensors).toBe(base);
    const [rtn, lsq, so] = ['rtn', 'lsq', 'scaleonly'].map((k) => runs.find((r) => r.method === k) as RunRecord);
    expect(lsq.name).toBe('LSQ 2b lr 1e-3');
    expect(so.name).toBe('Scale-only 2b lr 1e-3');
    expect(lsq.status).toBe('done');
    expect(so.status).toBe('done');
    expect(lsq.bits).toBe(2);
    expect(lsq.loss as number).toBeLessThan(rtn.loss as number);
    expect(so.loss as number).toBeLessThan(rtn.loss as number);
    expect(lsq.curve.length).toBeGreaterThan(2);
    lab.dispose();
  });

  it('rejects ternary, non-auto schemes and group granularity with a readable error naming the setting', async () => {
    const lab = new Lab();
    await expect(lab.run(tinyConfig({ bits: 1.58 }), ['lsq'], () => {})).rejects.toThrow(
      /LSQ needs integer weight bits 2–8.*layer 0 has 1.58 bits \(setting "bits"\)/,
    );
    const asym = tinyConfig({ bits: 4 });
    asym.quant.scheme = 'asym';
    await expect(lab.run(asym, ['scaleonly'], () => {})).rejects.toThrow(/Scale-only fine-tuning needs integer weight bits 2–8.*setting "scheme"/);
    const grp = tinyConfig({ bits: 4 });
    grp.quant.granularity = 'group';
    grp.quant.groupSize = 2;
    await expect(lab.run(grp, ['lsq'], () => {})).rejects.toThrow(/setting "gran"/);
    lab.dispose();
  });
});
