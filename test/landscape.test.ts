import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDataset } from '../src/engine/poly/data';
import { l2Distance, lineProbe, radialProbe, randomDirection } from '../src/engine/poly/landscape';
import { disposeMlp, initMlp, mlpFromSnapshot, snapshotMlp, type MlpSnapshot } from '../src/engine/poly/model';
import { disposeDevice, evaluate, toDevice } from '../src/engine/poly/train';
import { useBackend } from './helpers/backend';

const dims = [14, 16, 200];

async function snap(seed: number): Promise<MlpSnapshot> {
  const m = initMlp(dims, seed);
  const s = await snapshotMlp(m);
  disposeMlp(m);
  return s;
}

async function lossOf(s: MlpSnapshot, data: ReturnType<typeof toDevice>): Promise<number> {
  const m = mlpFromSnapshot(s, false);
  const l = await evaluate(m, data);
  disposeMlp(m);
  return l;
}

describe('loss landscape probes', () => {
  beforeAll(async () => {
    await useBackend();
  });

  it('a line starts at a, ends at b, and reports L2 distances', async () => {
    const data = toDevice(makeDataset(32, 4, 7));
    const [a, b] = [await snap(1), await snap(2)];
    const before = tf.memory().numTensors;
    const pts = await lineProbe(a, b, [0, 0.5, 1], data);
    expect(tf.memory().numTensors).toBe(before);
    expect(pts[0].loss).toBeCloseTo(await lossOf(a, data), 6);
    expect(pts[2].loss).toBeCloseTo(await lossOf(b, data), 6);
    expect(pts[2].distance).toBeCloseTo(l2Distance(a, b), 4);
    expect(pts[1].distance).toBeCloseTo(l2Distance(a, b) / 2, 4);
    disposeDevice(data);
  });

  it('radial sweeps start at the centre loss along unit-norm directions, deterministically', async () => {
    const data = toDevice(makeDataset(32, 4, 7));
    const c = await snap(3);
    const dir = randomDirection(c, 5);
    const norm = Math.sqrt(dir.reduce((s, d) => s + d.reduce((t, v) => t + v * v, 0), 0));
    expect(norm).toBeCloseTo(1, 5);
    const curves = await radialProbe(c, 2, [0, 1, 4], 9, data);
    const again = await radialProbe(c, 2, [0, 1, 4], 9, data);
    expect(curves).toHaveLength(2);
    expect(curves[0].points[0].loss).toBeCloseTo(await lossOf(c, data), 6);
    expect(curves).toEqual(again);
    expect(curves[0].points[2].loss).not.toBe(curves[1].points[2].loss);
    disposeDevice(data);
  });

  it('refuses weight sets of different shapes', async () => {
    const a = await snap(1);
    const m = initMlp([14, 8, 200], 1);
    const b = await snapshotMlp(m);
    disposeMlp(m);
    expect(() => l2Distance(a, b)).toThrow(/differ in shape/);
  });
});
