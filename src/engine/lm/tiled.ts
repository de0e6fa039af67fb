/**
 * Forward tiled QAT: the blocks in tiles of k consecutive blocks, in order. Tile j's weights are
 * fake-quantized (straight-through) and only that tile's parameters train, so that its output
 * — fed the hidden states of the already-quantized prefix (embedding and earlier tiles, with
 * their quantizers) — matches the full-precision model's hidden state after the same blocks
 * (mean squared error over the residual stream). Then, optionally, `globalSteps` of ordinary
 * QAFT of the whole model. The FP model is left unchanged; the student is a copy.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl } from '../core/control';
import { tileRanges } from '../core/tiles';
import { cloneGpt, disposeGpt, gptBlock, gptEmbed, type Gpt, type GptQuant } from './gpt';
import { evaluateLm, runLmLoop, trainLm, WindowSampler, type LmCurvePoint, type LmEvalSet, type LmTrainOptions, type LmTrainOutcome } from './train';

export type TiledOptions = Omit<LmTrainOptions, 'quant' | 'params' | 'hooks' | 'afterStep' | 'steps'> & {
  /** Blocks per tile. */
  tileK: number;
  /** Training steps per tile. */
  tileSteps: number;
  /** Steps of whole-model QAFT after the tiles (0 = none). */
  globalSteps: number;
};

export interface TileReport {
  tile: number;
  /** Blocks [from, to) of the tile. */
  blocks: [number, number];
  /** Mean squared error to the FP hidden state: first batch before training, last logged window. */
  l2Start: number;
  l2End: number;
  stepsDone: number;
  /** train = the tile's MSE; val = the whole student's validation NLL under the quantizer. */
  curve: LmCurvePoint[];
}

export interface TiledOutcome extends LmTrainOutcome {
  /** The trained student (latent weights; evaluate with the quantizer). The caller disposes it. */
  student: Gpt;
  tiles: TileReport[];
  /** The global QAFT phase (null when globalSteps is 0 or the tiles were stopped / diverged). */
  global: LmTrainOutcome | null;
}

/** The trainable variables of block i (whatever fields the block has). */
export function blockParams(m: Gpt, i: number): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const v of Object.values(m.blocks[i]) as unknown[]) {
    for (const x of Array.isArray(v) ? v : [v]) if (x instanceof tf.Variable && x.trainable) out.push(x);
  }
  return out;
}

/** The residual stream after blocks [0, to) for tokens x [B, T]. */
function hiddenAfter(m: Gpt, x: tf.Tensor2D, to: number, quant?: GptQuant): tf.Tensor {
  const [B, T] = x.shape;
  let h: tf.Tensor = gptEmbed(m, x, quant);
  for (let i = 0; i < to; i++) h = gptBlock(m, i, h, B, T, quant);
  return h;
}

/**
 * Forward tiled QAT of a copy of `fp` under `quant`, on windows of `trainIds`, validated on
 * `val`. The combined curve (onPoint) has continuous steps: tile points (train = MSE) then the
 * global phase's (train = NLL; its step-0 point is left out, being the last tile point's weights).
 */
export async function trainTiled(
  fp: Gpt,
  quant: GptQuant,
  trainIds: Int32Array,
  val: LmEvalSet,
  o: TiledOptions,
  onPoint: (p: LmCurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<TiledOutcome> {
  const L = fp.config.layers;
  const T = fp.config.context;
  const ranges = tileRanges(L, o.tileK);
  const student = cloneGpt(fp);
  const curve: LmCurvePoint[] = [];
  const tiles: TileReport[] = [];
  const emit = (p: LmCurvePoint) => {
    curve.push(p);
    onPoint(p);
  };
  let offset = 0;
  let stopped = false;
  let diverged = false;
  let valNll = NaN;
  let global: LmTrainOutcome | null = null;
  try {
    const sampler = new WindowSampler(trainIds, T, o.batch, o.seed);
    for (const [j, [from, to]] of ranges.entries()) {
      const tileCurve: LmCurvePoint[] = [];
      const out = await runLmLoop(
        {
          params: Array.from({ length: to - from }, (_, k) => blockParams(student, from + k)).flat(),
          rows: o.batch,
          T,
          next: () => sampler.next(),
          loss: (x) => {
            const target = hiddenAfter(fp, x, to);
            let h = hiddenAfter(student, x, from, quant);
            for (let i = from; i < to; i++) h = gptBlock(student, i, h, o.batch, T, quant);
            return tf.mean(tf.square(tf.sub(h, target))) as tf.Scalar;
          },
          validate: () => evaluateLm(student, val, quant),
        },
        { ...o, steps: o.tileSteps },
        (p) => {
          tileCurve.push(p);
          // Each tile's step-0 point repeats the previous tile's last weights: keep only the first.
          if (j === 0 || p.step !== offset) emit(p);
        },
        control,
        offset,
      );
      const last = tileCurve[tileCurve.length - 1];
      tiles.push({
        tile: j,
        blocks: [from, to],
        l2Start: tileCurve[0].train,
        l2End: tileCurve.length > 1 ? last.train : NaN,
        stepsDone: out.stepsDone,
        curve: tileCurve,
      });
      offset += out.stepsDone;
      valNll = out.valNll;
      if (out.diverged || out.stopped || control.stopped) {
        diverged = out.diverged;
        stopped = !out.diverged;
        break;
      }
    }
    if (!stopped && !diverged && o.globalSteps > 0) {
      const start = offset;
      global = await trainLm(
        student,
        trainIds,
        val,
        { ...o, steps: o.globalSteps, seed: o.seed + 1, quant },
        (p) => {
          if (p.step > 0) emit({ ...p, step: start + p.step });
        },
        control,
      );
      offset += global.stepsDone;
      valNll = global.valNll;
      stopped = global.stopped;
      diverged = global.diverged;
    }
  } catch (e) {
    disposeGpt(student);
    throw e;
  }
  return { stepsDone: offset, curve, valNll, perplexity: Math.exp(valNll), stopped, diverged, student, tiles, global };
}
