/**
 * The training loop (src/engine/train.ts) and the experiment runner (src/engine/experiment.ts)
 * on a real backend: learning, tensor leaks, divergence, and pause / resume / stop.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerDims } from '../src/engine/core/config';
import { RunControl } from '../src/engine/core/control';
import { makeDataset } from '../src/engine/poly/data';
import { Lab } from '../src/engine/poly/lab';
import { type RunRecord } from '../src/engine/core/runs';
import { type LabEvent } from '../src/engine/core/runs';
import { disposeMlp, initMlp } from '../src/engine/poly/model';
import { disposeDevice, evaluate, toDevice, train, type DeviceData, type TrainOptions } from '../src/engine/poly/train';
import { type CurvePoint } from '../src/engine/core/loop';
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

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  lr: 1e-3,
  batch: 64,
  steps: 60,
  schedule: 'linear',
  weightDecay: 0,
  seed: 0,
  logEvery: 10,
  ...o,
});

const numTensors = () => tf.memory().numTensors;

describe('train()', () => {
  it('a tiny run (width 32, depth 2, 256 examples, 60 steps, lr 1e-3) lowers the test loss', async () => {
    const m = initMlp(layerDims({ width: 32, depth: 2 }), 0);
    const before = await evaluate(m, testData);
    const points: CurvePoint[] = [];
    const out = await train(m, trainData, testData, opts(), (p) => points.push(p));
    const after = await evaluate(m, testData);
    disposeMlp(m);

    expect(out.stepsDone).toBe(60);
    expect(out.diverged).toBeNull();
    expect(out.stopped).toBe(false);
    // A step-0 point, then one every 10 steps.
    expect(out.curve.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(points).toEqual(out.curve);
    expect(out.curve[0].test).toBeCloseTo(before, 6);
    expect(out.curve[6].test).toBeCloseTo(after, 6);
    expect(after).toBeLessThan(0.8 * before);
    expect(out.curve[6].train).toBeLessThan(out.curve[1].train);
  });

  it('the tensor count stays flat across training steps (inside one run and between runs)', async () => {
    const m = initMlp(layerDims({ width: 32, depth: 2 }), 1);
    const base = numTensors();
    // Inside one run: the count at every logged point is the same.
    const counts: number[] = [];
    await train(m, trainData, testData, opts({ steps: 40 }), () => counts.push(numTensors()));
    expect(counts).toHaveLength(5);
    expect(new Set(counts).size, `counts at steps 0..40: ${counts.join(', ')}`).toBe(1);
    expect(numTensors()).toBe(base);
    // Between runs: train the same model 20 steps, then 20 more: the same count each time.
    await train(m, trainData, testData, opts({ steps: 20, seed: 1 }), () => {});
    const afterN = numTensors();
    await train(m, trainData, testData, opts({ steps: 20, seed: 2 }), () => {});
    const after2N = numTensors();
    expect(afterN).toBe(base);
    expect(after2N).toBe(afterN);
    // Quantized (fake-quant, STE) training does not leak either.
    const quant = [0, 1, 2].map(() => ({ weight: { kind: 'lab' as const, bits: 1.58, granularity: 'row' as const }, actBits: 8 }));
    const qCounts: number[] = [];
    await train(m, trainData, testData, opts({ steps: 30, quant }), () => qCounts.push(numTensors()));
    expect(new Set(qCounts).size, `quantized counts: ${qCounts.join(', ')}`).toBe(1);
    expect(numTensors()).toBe(base);
    // Static FP8 / int activation quantizers (clipped STE) with smoothing scales on both sides do not leak either.
    const dims = layerDims({ width: 32, depth: 2 });
    const statics = [0, 1, 2].map((i) => ({
      weight: { kind: 'lab' as const, bits: 4, granularity: 'row' as const },
      actBits: 8,
      act: { format: i === 1 ? ('fp8-e4m3' as const) : ('int' as const), granularity: 'tensor' as const, observer: 'minmax' as const },
      actAmax: 2,
      smooth: Float32Array.from({ length: dims[i] }, (_, k) => 1 + (k % 3)),
    }));
    const sCounts: number[] = [];
    await train(m, trainData, testData, opts({ steps: 30, quant: statics }), () => sCounts.push(numTensors()));
    expect(new Set(sCounts).size, `static counts: ${sCounts.join(', ')}`).toBe(1);
    expect(numTensors()).toBe(base);
    disposeMlp(m);
  });

  it('a NaN in the weights marks the run diverged (non-finite) at the first read-back, with step and lr', async () => {
    const m = initMlp(layerDims({ width: 16, depth: 1 }), 2);
    const base = numTensors();
    tf.tidy(() => m.weights[0].assign(tf.mul(m.weights[0], NaN)));
    const out = await train(m, trainData, testData, opts({ steps: 30, schedule: 'constant', lr: 2e-3 }), () => {});
    expect(out.diverged).toEqual({ step: 10, lr: 2e-3, reason: 'non-finite' });
    expect(out.stepsDone).toBe(10);
    expect(out.curve).toEqual([]);
    expect(out.stopped).toBe(false);
    expect(numTensors()).toBe(base);
    disposeMlp(m);
  });
});

/** Collects events; `onPoint` runs for each point with the method of its run. */
function recorder(onPoint?: (method: string, p: CurvePoint, control: RunControl) => void, control = new RunControl()) {
  const events: LabEvent[] = [];
  const methodOf = new Map<string, string>();
  const emit = (e: LabEvent) => {
    events.push(e);
    if (e.type === 'runStart') methodOf.set(e.runId, e.method);
    if (e.type === 'point') onPoint?.(methodOf.get(e.runId) ?? '?', e.point, control);
  };
  const pointsOf = (method: string) => events.filter((e) => e.type === 'point' && methodOf.get(e.runId) === method).length;
  return { events, emit, control, pointsOf };
}

const expectFinished = (r: RunRecord, method: string) => {
  expect(r.method).toBe(method);
  expect(r.status).toBe('done');
  expect(r.diverged).toBeNull();
  expect(Number.isFinite(r.loss)).toBe(true);
  expect(r.predictions).toHaveLength(6);
  expect(r.predictions?.[0]).toHaveLength(200);
  expect(r.stepsDone).toBe(r.steps);
};

describe('Lab.run', () => {
  it('runs FP → RTN → QAFT → scratch, emits every result, and frees every tensor after dispose', async () => {
    const base = numTensors();
    const lab = new Lab();
    const c = tinyConfig();
    const rec = recorder();
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft', 'scratch'], rec.emit);
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'scratch']);
    for (const r of runs) expectFinished(r, r.method);
    expect(runs[0].bits).toBe(32);
    expect(runs[1]).toMatchObject({ bits: 1.58, lr: null, steps: 0 });
    expect(runs[2]).toMatchObject({ bits: 1.58, lr: 1e-4, steps: 60 });
    const results = rec.events.filter((e) => e.type === 'result').map((e) => (e as { run: RunRecord }).run);
    expect(results).toEqual(runs);
    expect(runs[0].curve.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    // The FP model is cached: a second call with only RTN and QAFT trains no FP run.
    expect(lab.hasFp(c)).toBe(true);
    const again = await lab.run({ ...c, quant: { ...c.quant, bits: 4 } }, ['rtn', 'qaft'], () => {});
    expect(again.map((r) => r.method)).toEqual(['rtn', 'qaft']);
    expect(again[0].bits).toBe(4);
    lab.dispose();
    expect(numTensors()).toBe(base);
  });

  it('a diverging FP run (lr 10) is marked with step and lr; the runs after it still finish', async () => {
    const base = numTensors();
    const lab = new Lab();
    const c = tinyConfig({ fpLr: 10, qaftLr: 1e-3, schedule: 'constant' });
    const rec = recorder();
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft', 'scratch'], rec.emit);
    // RTN and QAFT need the FP model: skipped with a notice; scratch runs.
    expect(runs.map((r) => r.method)).toEqual(['fp', 'scratch']);
    const [fp, scratch] = runs;
    expect(fp.status).toBe('diverged');
    expect(fp.diverged?.lr).toBe(10);
    expect(fp.diverged?.step).toBeGreaterThan(0);
    expect(fp.diverged?.step).toBeLessThanOrEqual(60);
    expect(fp.stepsDone).toBe(fp.diverged?.step);
    expect((fp.diverged?.step ?? 1) % 10).toBe(0); // detected at a read-back
    expect(['non-finite', 'exploded']).toContain(fp.diverged?.reason);
    expect(fp.loss).toBeNull();
    expect(lab.hasFp(c)).toBe(false);
    expect(rec.events.some((e) => e.type === 'notice' && /RTN, QAFT need the trained FP model/.test(e.message))).toBe(true);
    expectFinished(scratch, 'scratch');
    lab.dispose();
    expect(numTensors()).toBe(base);
  });

  it('a diverging QAFT learning rate (lr 10): FP and RTN finish, QAFT and scratch are marked diverged', async () => {
    const lab = new Lab();
    const c = tinyConfig({ qaftLr: 10, schedule: 'constant' });
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft', 'scratch'], () => {});
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'scratch']);
    expectFinished(runs[0], 'fp');
    expectFinished(runs[1], 'rtn');
    for (const r of runs.slice(2)) {
      expect(r.status, r.method).toBe('diverged');
      expect(r.diverged?.lr).toBe(10);
      expect(r.stepsDone).toBeLessThan(60);
    }
    lab.dispose();
  });
});

describe('RunControl', () => {
  it('stop during QAFT: QAFT is "stopped" at that step, earlier runs intact, scratch not started', async () => {
    const lab = new Lab();
    const c = tinyConfig({ qaftSteps: 200 });
    const rec = recorder((method, p, control) => {
      if (method === 'qaft' && p.step === 30) control.stop();
    });
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft', 'scratch'], rec.emit, rec.control);
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft']);
    expectFinished(runs[0], 'fp');
    expectFinished(runs[1], 'rtn');
    const q = runs[2];
    expect(q.status).toBe('stopped');
    expect(q.stepsDone).toBe(30);
    expect(q.steps).toBe(200);
    expect(q.curve.at(-1)?.step).toBe(30);
    expect(Number.isFinite(q.loss)).toBe(true);
    expect(rec.events.filter((e) => e.type === 'result')).toHaveLength(3);
    lab.dispose();
  });

  it('pause holds the run between steps; resume finishes it normally', async () => {
    const lab = new Lab();
    const c = tinyConfig();
    let pausedAt = -1;
    let heldOk = false;
    const rec = recorder((method, p, control) => {
      if (method === 'qaft' && p.step === 20) {
        control.pause();
        pausedAt = rec.events.length;
        setTimeout(() => {
          heldOk = control.paused && rec.events.length === pausedAt;
          control.resume();
        }, 200);
      }
    });
    const t0 = performance.now();
    const runs = await lab.run(c, ['fp', 'qaft'], rec.emit, rec.control);
    expect(pausedAt).toBeGreaterThan(0);
    expect(heldOk).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    expect(rec.control.paused).toBe(false);
    expect(runs.map((r) => r.status)).toEqual(['done', 'done']);
    expect(runs[1].stepsDone).toBe(60);
    expect(rec.pointsOf('qaft')).toBe(7);
    lab.dispose();
  });

  it('stop while paused ends the run at once as "stopped"', async () => {
    const lab = new Lab();
    const c = tinyConfig();
    const rec = recorder((method, p, control) => {
      if (method === 'fp' && p.step === 20) {
        control.pause();
        setTimeout(() => control.stop(), 100);
      }
    });
    const runs = await lab.run(c, ['fp', 'rtn', 'qaft', 'scratch'], rec.emit, rec.control);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('stopped');
    expect(runs[0].stepsDone).toBe(20);
    expect(lab.hasFp(c)).toBe(false);
    lab.dispose();
  });
});
