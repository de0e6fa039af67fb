/**
 * Data-free QAFT on the MLP: the FP teacher labels inputs that the task's data generator makes —
 * makeDataset with a seed that is neither the training nor the test seed, whose own targets are
 * dropped at once — and a quantized student (a copy of the teacher trained with the fake-quant
 * forward and a straight-through gradient) learns the teacher's outputs on them (MSE). The MLP
 * has no logits and samples nothing, so the language model's KL / CE losses and its temperature
 * have no counterpart here: the loss is always the MSE to the teacher's outputs. The API takes no
 * training data: the teacher, the quantizer, the options, and a test set for reporting only.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import type { CurvePoint } from '../core/loop';
import { IN_DIM, makeDataset } from './data';
import { disposeMlp, forward, mlpFromSnapshot, type LayerQuant, type Mlp, type MlpSnapshot } from './model';
import { mapRows, train, type DeviceData, type TrainOptions, type TrainOutcome } from './train';

/** Where the seed of the distillation inputs starts (then moved off the training and test seeds). */
export const DATAFREE_SEED_OFFSET = 0xdf00;

/** The generator seed of the distillation inputs: from the training seed `seed`, never one of `avoid` (the data's seeds). */
export function dataFreeSeed(seed: number, avoid: readonly number[]): number {
  let s = (seed + DATAFREE_SEED_OFFSET) % 2 ** 31;
  while (avoid.includes(s)) s = (s + 1) % 2 ** 31;
  return s;
}

export type DataFreeOptions = Omit<TrainOptions, 'quant' | 'quantAt' | 'params' | 'forwardFn' | 'afterStep' | 'target' | 'testLoss'> & {
  /** Inputs the generator makes (the teacher labels each once). */
  inputs: number;
  /** Polynomial degree of the task (the generator's input distribution depends on it). */
  degree: number;
  /** Seed of the generator (see dataFreeSeed). */
  genSeed: number;
  /** Sees the training set the student learns from (host copies): the inputs and the teacher's outputs. */
  onData?: (d: { n: number; x: Float32Array; y: Float32Array }) => void;
};

export interface DataFreeOutcome extends TrainOutcome {
  /** The trained student (latent weights: evaluate with the quantizer, or round them). The caller disposes it. */
  student: Mlp;
  /** Inputs it trained on. */
  inputs: number;
  /** Wall time of making and labelling them, ms. */
  genMs: number;
}

/** The teacher's outputs on `inputs` generator inputs: the distillation set on the device (the caller disposes it). */
async function distillationSet(teacher: MlpSnapshot, o: DataFreeOptions): Promise<DeviceData> {
  const n = o.inputs;
  // Inputs only: the generator's targets (the least-squares polynomials) are not kept.
  const { x } = makeDataset(n, o.degree, o.genSeed);
  const t = mlpFromSnapshot(teacher, false);
  const xs = tf.tensor2d(x, [n, IN_DIM]);
  let ys: tf.Tensor2D | null = null;
  try {
    ys = mapRows(xs, (chunk) => forward(t, chunk));
    if (o.onData) o.onData({ n, x: x.slice(), y: (await ys.data()) as Float32Array });
    return { n, x: xs, y: ys };
  } catch (e) {
    xs.dispose();
    ys?.dispose();
    throw e;
  } finally {
    disposeMlp(t);
  }
}

/**
 * Data-free QAFT of a copy of `teacher` (left unchanged) under `layers`. The curve's `train` is
 * the MSE to the teacher's outputs; its `test` the student's test MSE on `test` (reporting only).
 */
export async function trainDataFree(
  teacher: MlpSnapshot,
  layers: LayerQuant[],
  test: DeviceData,
  o: DataFreeOptions,
  onPoint: (p: CurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<DataFreeOutcome> {
  const t0 = performance.now();
  const set = await distillationSet(teacher, o);
  const genMs = performance.now() - t0;
  const student = mlpFromSnapshot(teacher);
  try {
    const out = await train(student, set, test, { ...o, quant: layers }, onPoint, control);
    return { ...out, student, inputs: set.n, genMs };
  } catch (e) {
    disposeMlp(student);
    throw e;
  } finally {
    set.x.dispose();
    set.y.dispose();
  }
}
