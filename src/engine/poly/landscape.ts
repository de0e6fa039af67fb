/**
 * Loss-landscape probes: the test loss along straight lines between weight sets (FP→RTN,
 * FP→GPTQ, FP→QAFT, RTN→QAFT …) and along random directions from a centre (radial sweeps,
 * x = L2 distance in weight space). Points are evaluated with the full-precision forward pass
 * on the given weights: the quantized models are simply points in weight space.
 */
import * as tf from '@tensorflow/tfjs';
import { mlpFromSnapshot, disposeMlp, type MlpSnapshot } from './model';
import { Rng } from '../core/rng';
import { evaluate, type DeviceData } from './train';

export interface LinePoint {
  /** Interpolation coefficient: 0 = start, 1 = end (may extend beyond). */
  t: number;
  /** L2 distance from the start in weight space (weights and biases). */
  distance: number;
  loss: number;
}

export interface RadialCurve {
  direction: number;
  points: { distance: number; loss: number }[];
}

function checkSameShape(a: MlpSnapshot, b: MlpSnapshot): void {
  if (a.dims.join() !== b.dims.join()) throw new Error(`Weight sets differ in shape: ${a.dims.join('×')} vs ${b.dims.join('×')}`);
}

/** All parameters of a snapshot as one list of arrays (weights then biases). */
function flat(s: MlpSnapshot): Float32Array[] {
  return [...s.weights, ...s.biases];
}

export function l2Distance(a: MlpSnapshot, b: MlpSnapshot): number {
  checkSameShape(a, b);
  const fa = flat(a);
  const fb = flat(b);
  let s = 0;
  for (let k = 0; k < fa.length; k++) for (let i = 0; i < fa[k].length; i++) s += (fa[k][i] - fb[k][i]) ** 2;
  return Math.sqrt(s);
}

/** Evaluates many weight sets with one model whose variables are overwritten in place. */
class Prober {
  private readonly model;
  constructor(template: MlpSnapshot) {
    this.model = mlpFromSnapshot(template, false);
  }
  async loss(params: Float32Array[], data: DeviceData): Promise<number> {
    const n = this.model.weights.length;
    tf.tidy(() => {
      for (let i = 0; i < n; i++) {
        this.model.weights[i].assign(tf.tensor2d(params[i], this.model.weights[i].shape as [number, number]));
        this.model.biases[i].assign(tf.tensor1d(params[n + i]));
      }
    });
    return evaluate(this.model, data);
  }
  dispose(): void {
    disposeMlp(this.model);
  }
}

/** Test loss at (1−t)·a + t·b for each t. */
export async function lineProbe(
  a: MlpSnapshot,
  b: MlpSnapshot,
  ts: number[],
  data: DeviceData,
  onProgress?: (done: number, total: number) => void,
): Promise<LinePoint[]> {
  checkSameShape(a, b);
  const fa = flat(a);
  const fb = flat(b);
  const dist = l2Distance(a, b);
  const prober = new Prober(a);
  const out: LinePoint[] = [];
  try {
    for (const [j, t] of ts.entries()) {
      const p = fa.map((x, k) => x.map((v, i) => (1 - t) * v + t * fb[k][i]));
      out.push({ t, distance: Math.abs(t) * dist, loss: await prober.loss(p, data) });
      onProgress?.(j + 1, ts.length);
    }
  } finally {
    prober.dispose();
  }
  return out;
}

/** Random Gaussian direction over all parameters, scaled to unit L2 norm. */
export function randomDirection(template: MlpSnapshot, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const gauss = () => {
    // Box–Muller from the seeded uniform stream.
    const u = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const dir = flat(template).map((x) => Float32Array.from({ length: x.length }, gauss));
  let norm = 0;
  for (const d of dir) for (const v of d) norm += v * v;
  norm = Math.sqrt(norm);
  for (const d of dir) for (let i = 0; i < d.length; i++) d[i] /= norm;
  return dir;
}

/** Test loss at centre + r·dₖ for k random unit directions and each distance r. */
export async function radialProbe(
  centre: MlpSnapshot,
  directions: number,
  distances: number[],
  seed: number,
  data: DeviceData,
  onProgress?: (done: number, total: number) => void,
): Promise<RadialCurve[]> {
  const c = flat(centre);
  const prober = new Prober(centre);
  const out: RadialCurve[] = [];
  const total = directions * distances.length;
  try {
    for (let k = 0; k < directions; k++) {
      const dir = randomDirection(centre, seed * 1000 + k);
      const points: RadialCurve['points'] = [];
      for (const r of distances) {
        const p = c.map((x, j) => x.map((v, i) => v + r * dir[j][i]));
        points.push({ distance: r, loss: await prober.loss(p, data) });
        onProgress?.(k * distances.length + points.length, total);
      }
      out.push({ direction: k, points });
    }
  } finally {
    prober.dispose();
  }
  return out;
}
