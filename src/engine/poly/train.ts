/**
 * Training the MLP: fixed batch shape, AdamW, the MSE loss through the (fake-quantized) forward
 * pass, on the lab's one training loop (core/loop.ts): the loss summed on the device and read
 * back every `logEvery` steps (never every step); a non-finite window stops the run as "diverged".
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data';
import { IN_DIM, OUT_DIM } from './data';
import { RunControl } from '../core/control';
import { forward, mseLoss, type LayerQuant, type Mlp } from './model';
import { refreshCodebooks } from '../core/fakequant';
import { AdamW } from '../core/optim';
import { Rng } from '../core/rng';
import { EXPLODE_FACTOR, runLoop, type CurvePoint, type Divergence, type LoopSpec } from '../core/loop';

/** A dataset uploaded to the backend once. */
export interface DeviceData {
  n: number;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

export function toDevice(d: Dataset): DeviceData {
  return { n: d.n, x: tf.tensor2d(d.x, [d.n, IN_DIM]), y: tf.tensor2d(d.y, [d.n, OUT_DIM]) };
}

export function disposeDevice(d: DeviceData): void {
  d.x.dispose();
  d.y.dispose();
}

export interface TrainOptions {
  lr: number;
  batch: number;
  steps: number;
  schedule: 'constant' | 'linear';
  weightDecay: number;
  seed: number;
  logEvery: number;
  /** Fake-quantized forward pass (QAFT / scratch); omitted = full precision. */
  quant?: LayerQuant[];
  /**
   * A quantizer schedule: the quantization step `step` (0-based) trains with; overrides
   * `quant`. Return the same array objects for the same segment (codebooks are refit on a switch).
   */
  quantAt?: (step: number) => LayerQuant[] | undefined;
  /** The trained variables; default every weight and bias of the model. */
  params?: tf.Variable[];
  /** The forward pass; default `forward` (LSQ and scale-only pass their own). */
  forwardFn?: ForwardFn;
  /** Called inside the step's tidy after the optimizer update (e.g. to keep step sizes positive). */
  afterStep?: () => void;
  /**
   * The target of a batch computed from its inputs (no gradient), in place of the data's y: e.g.
   * the FP model's activations that a tile of tiled QAT learns to reproduce.
   */
  target?: TargetFn;
  /**
   * The test loss at step 0 and at every read-back; default: the MSE of the forward pass
   * (forwardFn, quant) on the test data. Tiled QAT scores the whole quantized model while a tile trains.
   */
  testLoss?: () => Promise<number>;
}

export type ForwardFn = (m: Mlp, x: tf.Tensor, quant?: LayerQuant[]) => tf.Tensor;
/** A batch's target from its inputs. */
export type TargetFn = (x: tf.Tensor) => tf.Tensor;

export interface TrainOutcome {
  stepsDone: number;
  curve: CurvePoint[];
  stopped: boolean;
  diverged: Divergence | null;
}

const EVAL_CHUNK = 1024;

/** Mean squared error over a whole dataset (chunked, fixed chunk shape). */
export async function evaluate(m: Mlp, d: DeviceData, quant?: LayerQuant[], fwd: ForwardFn = forward): Promise<number> {
  let sum = 0;
  for (let start = 0; start < d.n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, d.n - start);
    const s = tf.tidy(() => {
      const x = tf.slice(d.x, [start, 0], [size, IN_DIM]);
      const y = tf.slice(d.y, [start, 0], [size, OUT_DIM]);
      return tf.sum(tf.squaredDifference(fwd(m, x, quant), y));
    });
    sum += (await s.data())[0];
    s.dispose();
  }
  return sum / (d.n * OUT_DIM);
}

/** Model outputs (k × 200) for the first k examples of `d`. */
export async function predict(m: Mlp, x: tf.Tensor2D, quant?: LayerQuant[]): Promise<number[][]> {
  const out = tf.tidy(() => forward(m, x, quant));
  const flat = await out.data();
  out.dispose();
  const k = x.shape[0];
  return Array.from({ length: k }, (_, i) => Array.from(flat.subarray(i * OUT_DIM, (i + 1) * OUT_DIM)));
}

/**
 * `fn` applied to the rows of `x` in chunks of a fixed shape (the last one smaller), concatenated
 * on the device: e.g. a model's outputs on a whole dataset without one huge forward pass.
 */
export function mapRows(x: tf.Tensor2D, fn: (chunk: tf.Tensor2D) => tf.Tensor): tf.Tensor2D {
  const n = x.shape[0];
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < n; start += EVAL_CHUNK) {
      const size = Math.min(EVAL_CHUNK, n - start);
      parts.push(tf.tidy(() => fn(tf.slice(x, [start, 0], [size, x.shape[1]]))));
    }
    return (parts.length === 1 ? (parts.pop() as tf.Tensor) : tf.concat(parts, 0)) as tf.Tensor2D;
  } finally {
    tf.dispose(parts);
  }
}

/** Batch index order: a fresh seeded permutation per epoch, whole batches only. */
class Batcher {
  private perm: Int32Array;
  private pos = 0;
  private rng: Rng;
  constructor(
    private readonly n: number,
    private readonly batch: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    this.perm = this.rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  }
  /** The indices the next call to next() will return. */
  peek(): Int32Array {
    if (this.pos + this.batch > this.n) {
      this.rng.shuffle(this.perm);
      this.pos = 0;
    }
    return this.perm.subarray(this.pos, this.pos + this.batch);
  }
  next(): Int32Array {
    if (this.pos + this.batch > this.n) {
      this.rng.shuffle(this.perm);
      this.pos = 0;
    }
    const idx = this.perm.subarray(this.pos, this.pos + this.batch);
    this.pos += this.batch;
    return idx;
  }
}

/** What one optimizer step works on. */
export interface StepContext {
  m: Mlp;
  params: tf.Variable[];
  opt: AdamW;
  data: DeviceData;
  forwardFn?: ForwardFn;
  quant?: LayerQuant[];
  afterStep?: () => void;
  target?: TargetFn;
}

/** The inputs of the examples `idx` and their targets (the data's y, or `target` of the inputs). Call inside a tidy. */
function batchOf(data: DeviceData, idx: Int32Array, target?: TargetFn): { xb: tf.Tensor; yb: tf.Tensor } {
  const it = tf.tensor1d(idx, 'int32');
  const xb = tf.gather(data.x, it);
  return { xb, yb: target ? target(xb) : tf.gather(data.y, it) };
}

/**
 * One optimizer step on the examples `idx`: gather the batch on the device, gradients of the
 * MSE loss through the (fake-quantized) forward pass, AdamW update. Returns acc + loss (the
 * running sum stays on the device; `acc` itself is not disposed). train() and the bench share it.
 */
export function trainStep(s: StepContext, idx: Int32Array, lr: number, acc: tf.Scalar): tf.Scalar {
  const fwd = s.forwardFn ?? forward;
  return tf.tidy(() => {
    const { xb, yb } = batchOf(s.data, idx, s.target);
    const { value, grads } = tf.variableGrads(() => mseLoss(fwd(s.m, xb, s.quant), yb), s.params);
    s.opt.step(
      s.params.map((p) => grads[p.name]),
      lr,
    );
    s.afterStep?.();
    return tf.add(acc, value) as tf.Scalar;
  });
}

/**
 * Train the MLP on `trainData` with the shared loop (core/loop.ts runLoop): seeded batches of a
 * fixed shape, the (fake-quantized, scheduled) forward pass, AdamW; the test MSE at every read-back.
 */
export async function train(
  m: Mlp,
  trainData: DeviceData,
  testData: DeviceData,
  o: TrainOptions,
  onPoint: (p: CurvePoint) => void,
  control: RunControl = new RunControl(),
): Promise<TrainOutcome> {
  const batch = Math.min(o.batch, trainData.n);
  const params = o.params ?? [...m.weights, ...m.biases];
  const fwd = o.forwardFn ?? forward;
  const quantAt = o.quantAt ?? (() => o.quant);
  // The quantization of the steps in the current read-back window (refit codebooks on a switch).
  let quant = quantAt(0);
  const opt = new AdamW(params, { weightDecay: o.weightDecay });
  const batcher = new Batcher(trainData.n, batch, o.seed);
  const testLoss = o.testLoss ?? (() => evaluate(m, testData, quant, fwd));
  const spec: LoopSpec = {
    steps: o.steps,
    lr: o.lr,
    schedule: o.schedule,
    logEvery: o.logEvery,
    explodeFactor: EXPLODE_FACTOR,
    async start() {
      // k-means codebooks follow the weights: refit at the start and at every read-back.
      if (quant) await refreshCodebooks(quant, m.weights);
      // Step 0: the loss before any update (on the first batch and the test set).
      const first = batcher.peek();
      const l0 = tf.tidy(() => {
        const { xb, yb } = batchOf(trainData, first, o.target);
        return mseLoss(fwd(m, xb, quant), yb);
      });
      const train0 = (await l0.data())[0];
      l0.dispose();
      return { train: train0, test: await testLoss() };
    },
    async beforeStep(step) {
      const q = quantAt(step);
      if (q !== quant && q) await refreshCodebooks(q, m.weights);
      quant = q;
    },
    step: (lr, acc) => trainStep({ m, params, opt, data: trainData, forwardFn: fwd, quant, afterStep: o.afterStep, target: o.target }, batcher.next(), lr, acc),
    async evaluate() {
      // The test loss with the quantization the window trained with.
      if (quant) await refreshCodebooks(quant, m.weights);
      return testLoss();
    },
  };
  try {
    const out = await runLoop(spec, onPoint, control);
    return { stepsDone: out.stepsDone, curve: out.curve, stopped: out.stopped, diverged: out.diverged };
  } finally {
    opt.dispose();
  }
}
