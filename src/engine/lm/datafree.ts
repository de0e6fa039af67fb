/**
 * Data-free QAFT: the full-precision teacher writes its own training text — `sequences`
 * sequences of context + 1 tokens sampled from an empty prompt at `temperature` — and a
 * quantized student (a copy of the teacher trained with the fake-quant forward) learns on it,
 * either against the teacher's whole next-token distribution (KL(teacher‖student)) or its
 * sampled tokens (cross-entropy). The API takes no text: only the teacher, the quantizer, the
 * options and an evaluator, which is called for reporting (validation NLL) and never trains.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import { Rng } from '../core/rng';
import { sampleSequences } from './generate';
import { cloneGpt, disposeGpt, gptForward, gptNllSum, gptParams, type Gpt, type GptQuant } from './gpt';
import { runLmLoop, type LmBatch, type LmCurvePoint, type LmTrainOptions, type LmTrainOutcome } from './train';

/** Scores a model under a quantizer (e.g. validation NLL in nats/token); reporting only. */
export type LmEvaluator = (m: Gpt, quant?: GptQuant) => Promise<number>;

export type DataFreeOptions = Omit<LmTrainOptions, 'quant' | 'params' | 'hooks' | 'afterStep'> & {
  /** Sequences the teacher generates (each context + 1 tokens). */
  sequences: number;
  /** Sampling temperature of the teacher (0 = greedy). */
  temperature: number;
  /** 'kl': KL(teacher‖student) over the teacher's full distribution; 'ce': the generated tokens. */
  loss: 'kl' | 'ce';
  /** Seed of the generation (default: seed). */
  genSeed?: number;
  /** Sees every training batch (host copies), in order, before its step. */
  onBatch?: (b: LmBatch) => void;
  /** Generation progress: sequences done of the total. */
  onGenerate?: (done: number, total: number) => void;
};

export interface DataFreeOutcome extends LmTrainOutcome {
  /** The trained student (latent weights; evaluate with the quantizer). The caller disposes it. */
  student: Gpt;
  /** The teacher's text: `sequences` rows of `seqLength` tokens, row-major. */
  text: Int32Array;
  sequences: number;
  seqLength: number;
  /** Wall time of the generation, ms. */
  genMs: number;
}

/** Whole generated sequences as training windows: x = tokens [0, T), y = tokens [1, T + 1). */
class SequenceSampler {
  private readonly rng: Rng;
  constructor(
    private readonly text: Int32Array,
    private readonly n: number,
    private readonly T: number,
    private readonly rows: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  next(): LmBatch {
    const { T, rows } = this;
    const L = T + 1;
    const x = new Int32Array(rows * T);
    const y = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      const s = this.rng.int(this.n) * L;
      x.set(this.text.subarray(s, s + T), r * T);
      y.set(this.text.subarray(s + 1, s + L), r * T);
    }
    return { x, y };
  }
}

/** Mean over positions of KL(teacher‖student), from logits [.., vocab]. */
export function klLoss(teacherLogits: tf.Tensor, studentLogits: tf.Tensor, vocab: number): tf.Scalar {
  const lt = tf.logSoftmax(tf.reshape(teacherLogits, [-1, vocab]));
  const ls = tf.logSoftmax(tf.reshape(studentLogits, [-1, vocab]));
  const rows = lt.shape[0];
  return tf.div(tf.sum(tf.mul(tf.exp(lt), tf.sub(lt, ls))), rows) as tf.Scalar;
}

/**
 * Data-free QAFT of a copy of `teacher` (left unchanged) under `quant`. The curve's `train` is
 * the distillation loss (KL, nats/token) or the CE on the generated text; `val` is `evaluate`'s.
 */
export async function trainDataFree(
  teacher: Gpt,
  quant: GptQuant,
  evaluate: LmEvaluator,
  o: DataFreeOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<DataFreeOutcome> {
  const T = teacher.config.context;
  const V = teacher.config.vocab;
  const t0 = performance.now();
  const text = await sampleSequences(teacher, o.sequences, T, o.temperature, o.genSeed ?? o.seed, o.onGenerate, control);
  const genMs = performance.now() - t0;
  const n = text.length / (T + 1);
  const student = cloneGpt(teacher);
  try {
    if (n === 0) {
      // Stopped before a whole batch was generated: the student is the quantized teacher.
      const valNll = await evaluate(student, quant);
      return {
        stepsDone: 0,
        curve: [],
        valNll,
        perplexity: Math.exp(valNll),
        stopped: true,
        diverged: false,
        student,
        text,
        sequences: 0,
        seqLength: T + 1,
        genMs,
      };
    }
    const sampler = new SequenceSampler(text, n, T, o.batch, o.seed);
    const out = await runLmLoop(
      {
        params: gptParams(student),
        rows: o.batch,
        T,
        next: () => {
          const b = sampler.next();
          o.onBatch?.({ x: b.x.slice(), y: b.y.slice() });
          return b;
        },
        loss: (x, y) =>
          o.loss === 'kl' ? klLoss(gptForward(teacher, x), gptForward(student, x, quant), V) : (tf.div(gptNllSum(student, x, y, quant), x.size) as tf.Scalar),
        validate: () => evaluate(student, quant),
      },
      o,
      onPoint,
      control,
    );
    return { ...out, student, text, sequences: n, seqLength: T + 1, genMs };
  } catch (e) {
    disposeGpt(student);
    throw e;
  }
}
