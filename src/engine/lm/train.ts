/**
 * Training loop for the GPT: AdamW, random contiguous windows of a token array from a seeded
 * stream, fixed batch shape. The loss is summed on the device and read back every `logEvery`
 * steps; the validation NLL is measured on fixed held-out windows.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import { AdamW } from '../core/optim';
import { Rng } from '../core/rng';
import { runLoop, type LoopSpec } from '../core/loop';
import { gptNllSum, gptParams, type Gpt, type GptQuant, type LinearHooks } from './gpt';

export interface LmTrainOptions {
  steps: number;
  batch: number;
  lr: number;
  schedule: 'constant' | 'linear';
  weightDecay: number;
  seed: number;
  logEvery: number;
  /** Fake-quantized forward pass (QAFT); omitted = full precision. */
  quant?: GptQuant;
  /** The variables trained (e.g. LoRA adapters); omitted = every parameter of the model. */
  params?: tf.Variable[];
  /** Linear hooks of the training and validation forward passes (e.g. a frozen base + adapters). */
  hooks?: LinearHooks;
  /** Called after every optimizer step, inside its tidy (e.g. keep learned step sizes positive). */
  afterStep?: () => void;
}

export interface LmCurvePoint {
  step: number;
  /** Mean training NLL (nats/token) over the steps since the previous point; step 0: first batch. */
  train: number;
  /** Validation NLL (nats/token). */
  val: number;
}

export interface LmTrainOutcome {
  stepsDone: number;
  curve: LmCurvePoint[];
  /** Final validation NLL (nats/token) and its perplexity e^NLL. */
  valNll: number;
  perplexity: number;
  stopped: boolean;
  diverged: boolean;
}

/** Held-out windows: inputs and next-token targets, [n, T] each, n a multiple of the eval batch. */
export interface LmEvalSet {
  inputs: tf.Tensor2D;
  targets: tf.Tensor2D;
  batch: number;
}

/** Non-overlapping windows of `context` tokens (+1 for the targets) from `ids`, whole batches only. */
export function makeEvalSet(ids: Int32Array, context: number, batch: number): LmEvalSet {
  const windows = Math.floor((ids.length - 1) / context);
  const n = Math.floor(windows / batch) * batch;
  if (n === 0) throw new Error(`makeEvalSet: ${ids.length} tokens give fewer than ${batch} windows of ${context + 1}`);
  const x = new Int32Array(n * context);
  const y = new Int32Array(n * context);
  for (let w = 0; w < n; w++) {
    x.set(ids.subarray(w * context, (w + 1) * context), w * context);
    y.set(ids.subarray(w * context + 1, (w + 1) * context + 1), w * context);
  }
  return { inputs: tf.tensor2d(x, [n, context], 'int32'), targets: tf.tensor2d(y, [n, context], 'int32'), batch };
}

export function disposeEvalSet(e: LmEvalSet): void {
  e.inputs.dispose();
  e.targets.dispose();
}

/** Mean NLL (nats/token) over an eval set, in chunks of the eval batch (fixed shape). */
export async function evaluateLm(m: Gpt, e: LmEvalSet, quant?: GptQuant, hooks?: LinearHooks): Promise<number> {
  const [n, T] = e.inputs.shape;
  let acc: tf.Scalar = tf.scalar(0);
  for (let s = 0; s < n; s += e.batch) {
    const next = tf.tidy(() => {
      const x = tf.slice(e.inputs, [s, 0], [e.batch, T]);
      const y = tf.slice(e.targets, [s, 0], [e.batch, T]);
      return tf.add(acc, gptNllSum(m, x, y, quant, hooks)) as tf.Scalar;
    });
    acc.dispose();
    acc = next;
  }
  const total = (await acc.data())[0];
  acc.dispose();
  return total / (n * T);
}

/** A training batch: inputs and next-token targets, rows × T each (row-major). */
export interface LmBatch {
  x: Int32Array;
  y: Int32Array;
}

/** Random contiguous training windows [batch, T] and their targets, from a seeded stream. */
export class WindowSampler {
  private readonly rng: Rng;
  constructor(
    private readonly ids: Int32Array,
    private readonly context: number,
    private readonly batch: number,
    seed: number,
  ) {
    if (ids.length < context + 1) throw new Error(`WindowSampler: ${ids.length} tokens, need at least ${context + 1}`);
    this.rng = new Rng(seed);
  }
  next(): LmBatch {
    const T = this.context;
    const x = new Int32Array(this.batch * T);
    const y = new Int32Array(this.batch * T);
    for (let b = 0; b < this.batch; b++) {
      const s = this.rng.int(this.ids.length - T);
      x.set(this.ids.subarray(s, s + T), b * T);
      y.set(this.ids.subarray(s + 1, s + T + 1), b * T);
    }
    return { x, y };
  }
}

/** One AdamW step on a window batch; returns acc + mean loss (acc is not disposed). */
export function lmTrainStep(
  m: Gpt,
  params: tf.Variable[],
  opt: AdamW,
  batch: { x: Int32Array; y: Int32Array },
  rows: number,
  lr: number,
  acc: tf.Scalar,
  quant?: GptQuant,
  hooks?: LinearHooks,
): tf.Scalar {
  const T = batch.x.length / rows;
  return tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [rows, T], 'int32');
    const y = tf.tensor2d(batch.y, [rows, T], 'int32');
    const { value, grads } = tf.variableGrads(() => tf.div(gptNllSum(m, x, y, quant, hooks), rows * T) as tf.Scalar, params);
    opt.step(
      params.map((p) => grads[p.name]),
      lr,
    );
    return tf.add(acc, value) as tf.Scalar;
  });
}

/** What a custom LM training loop trains, on what, and how it is scored (see runLmLoop). */
export interface LmLoopSpec {
  /** The variables updated by AdamW. */
  params: tf.Variable[];
  /** Batch shape: rows × T tokens. */
  rows: number;
  T: number;
  /** The next training batch (called once per step, in order; the first batch also scores step 0). */
  next: () => LmBatch;
  /** Mean training loss of a batch; called inside tf.tidy (and under the gradient tape for updates). */
  loss: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar;
  /** Validation NLL (nats/token) of the current weights, at step 0 and every read-back. */
  validate: () => Promise<number>;
  /** Called after every optimizer step, inside its tidy. */
  afterStep?: () => void;
}

export type LmLoopOptions = Pick<LmTrainOptions, 'steps' | 'lr' | 'schedule' | 'weightDecay' | 'logEvery'>;

/**
 * The LM training loop with a custom loss, batches and trained variables: AdamW, the loss
 * summed on the device and read back every `logEvery` steps, validation at each read-back,
 * divergence (a non-finite loss or validation) stops it, pause/stop between read-backs.
 * Curve points are reported with `stepOffset` added (the learning-rate schedule uses the local step).
 */
export async function runLmLoop(
  spec: LmLoopSpec,
  o: LmLoopOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
  stepOffset = 0,
): Promise<LmTrainOutcome> {
  const { params, rows, T } = spec;
  const opt = new AdamW(params, { weightDecay: o.weightDecay });
  const toTensors = (b: LmBatch) => [tf.tensor2d(b.x, [rows, T], 'int32'), tf.tensor2d(b.y, [rows, T], 'int32')] as const;
  // The first batch scores step 0 and is also the first step's batch.
  let pending: LmBatch | null = null;
  const loop: LoopSpec = {
    steps: o.steps,
    lr: o.lr,
    schedule: o.schedule,
    logEvery: o.logEvery,
    keepNonFiniteStart: true,
    async start() {
      const first = spec.next();
      pending = first;
      const l0 = tf.tidy(() => spec.loss(...toTensors(first)));
      const train = (await l0.data())[0];
      l0.dispose();
      return { train, test: await spec.validate() };
    },
    step(lr, acc) {
      const batch: LmBatch = pending ?? spec.next();
      pending = null;
      return tf.tidy(() => {
        const [x, y] = toTensors(batch);
        const { value, grads } = tf.variableGrads(() => spec.loss(x, y), params);
        opt.step(
          params.map((p) => grads[p.name]),
          lr,
        );
        spec.afterStep?.();
        return tf.add(acc, value) as tf.Scalar;
      });
    },
    evaluate: () => spec.validate(),
  };
  try {
    const out = await runLoop(loop, (p) => onPoint({ step: p.step, train: p.train, val: p.test }), control, stepOffset);
    let valNll = out.diverged ? NaN : out.lastTest;
    // A stop between read-backs: validate the weights as they are.
    if (!out.diverged && out.stepsDone % o.logEvery !== 0 && out.stepsDone !== o.steps) valNll = await spec.validate();
    const curve = out.curve.map((p) => ({ step: p.step, train: p.train, val: p.test }));
    return { stepsDone: out.stepsDone, curve, valNll, perplexity: Math.exp(valNll), stopped: out.stopped, diverged: out.diverged !== null };
  } finally {
    opt.dispose();
  }
}

/**
 * Train `m` in place on `trainIds` (windows of the model's context), validating on `val`.
 * `onPoint` is called at step 0 and at every read-back. `o.params` / `o.hooks` restrict the
 * update to some variables and hook the linears (QA-LoRA); by default every parameter trains.
 */
export async function trainLm(
  m: Gpt,
  trainIds: Int32Array,
  val: LmEvalSet,
  o: LmTrainOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<LmTrainOutcome> {
  const T = m.config.context;
  const sampler = new WindowSampler(trainIds, T, o.batch, o.seed);
  const spec: LmLoopSpec = {
    params: o.params ?? gptParams(m),
    rows: o.batch,
    T,
    next: () => sampler.next(),
    loss: (x, y) => tf.div(gptNllSum(m, x, y, o.quant, o.hooks), o.batch * T) as tf.Scalar,
    validate: () => evaluateLm(m, val, o.quant, o.hooks),
    afterStep: o.afterStep,
  };
  return runLmLoop(spec, o, onPoint, control);
}
