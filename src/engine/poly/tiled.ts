/**
 * Forward tiled QAT on the MLP: the linear layers in tiles of k consecutive layers, in order
 * (core/tiles.ts). Tile j's weights are fake-quantized (straight-through) and only that tile's
 * weights and biases train, so that its output — fed the activations of the already-quantized
 * layers before it, on the training examples — matches the FP model's activation after the same
 * layers (the GELU output a hidden tile hands on, the model's output for the last tile; mean
 * squared error). Then, optionally, `globalSteps` of ordinary QAFT of the whole model. The FP
 * model is left unchanged; the student is a copy.
 */
import { RunControl } from '../core/control';
import type { CurvePoint, Divergence } from '../core/loop';
import { tileRanges, type TileSummary } from '../core/tiles';
import { disposeMlp, forwardLayers, mlpFromSnapshot, type LayerQuant, type Mlp, type MlpSnapshot } from './model';
import { evaluate, train, type DeviceData, type TrainOptions, type TrainOutcome } from './train';

export type TiledOptions = Omit<TrainOptions, 'quant' | 'quantAt' | 'params' | 'forwardFn' | 'afterStep' | 'target' | 'testLoss' | 'steps'> & {
  /** Linear layers per tile. */
  tileK: number;
  /** Training steps per tile. */
  tileSteps: number;
  /** Steps of whole-model QAFT after the tiles (0 = none). */
  globalSteps: number;
};

export interface TileReport extends TileSummary {
  /** train = the tile's MSE to the FP activations; test = the whole quantized student's test MSE. Local steps. */
  curve: CurvePoint[];
}

export interface TiledOutcome extends TrainOutcome {
  /** The trained student (latent weights: evaluate with the quantizer, or round them). The caller disposes it. */
  student: Mlp;
  tiles: TileReport[];
  /** The global QAFT phase (null when globalSteps is 0 or the tiles were stopped / diverged). */
  global: TrainOutcome | null;
}

/** A divergence of a phase that started `offset` steps into the run, in the run's steps. */
const shifted = (d: Divergence | null, offset: number): Divergence | null => (d ? { ...d, step: offset + d.step } : null);

/**
 * Forward tiled QAT of a copy of `fp` under `layers`, on `trainData`, scored on `test`. The
 * combined curve (onPoint) has continuous steps: tile points (train = activation MSE) then the
 * global phase's (train = the task's MSE). A phase's step-0 point repeats the weights of the
 * previous phase's last point, so only the first tile's is kept.
 */
export async function trainTiled(
  fp: MlpSnapshot,
  layers: LayerQuant[],
  trainData: DeviceData,
  test: DeviceData,
  o: TiledOptions,
  onPoint: (p: CurvePoint) => void = () => {},
  control: RunControl = new RunControl(),
): Promise<TiledOutcome> {
  const ranges = tileRanges(fp.dims.length - 1, o.tileK);
  const teacher = mlpFromSnapshot(fp, false);
  const student = mlpFromSnapshot(fp);
  const curve: CurvePoint[] = [];
  const tiles: TileReport[] = [];
  const emit = (p: CurvePoint) => {
    curve.push(p);
    onPoint(p);
  };
  // While a tile trains, the test loss is the whole student's, every layer quantized.
  const testLoss = () => evaluate(student, test, layers);
  let offset = 0;
  let stopped = false;
  let diverged: Divergence | null = null;
  let global: TrainOutcome | null = null;
  try {
    for (const [j, [from, to]] of ranges.entries()) {
      const tileCurve: CurvePoint[] = [];
      const start = offset;
      const out = await train(
        student,
        trainData,
        test,
        {
          ...o,
          steps: o.tileSteps,
          quant: layers,
          params: [...student.weights.slice(from, to), ...student.biases.slice(from, to)],
          // The tile is fed the quantized layers before it (their weights do not train, so no gradient reaches them) ...
          forwardFn: (m, x, q) => forwardLayers(m, forwardLayers(m, x, 0, from, q), from, to, q),
          // ... and learns the FP model's activation after the same layers.
          target: (x) => forwardLayers(teacher, x, 0, to),
          testLoss,
        },
        (p) => {
          tileCurve.push(p);
          if (j === 0 || p.step > 0) emit({ ...p, step: start + p.step });
        },
        control,
      );
      const last = tileCurve[tileCurve.length - 1];
      tiles.push({
        tile: j,
        range: [from, to],
        l2Start: tileCurve.length ? tileCurve[0].train : NaN,
        l2End: tileCurve.length > 1 ? last.train : NaN,
        stepsDone: out.stepsDone,
        curve: tileCurve,
      });
      diverged = shifted(out.diverged, offset);
      offset += out.stepsDone;
      if (out.diverged || out.stopped || control.stopped) {
        stopped = !out.diverged;
        break;
      }
    }
    if (!stopped && !diverged && o.globalSteps > 0) {
      const start = offset;
      global = await train(
        student,
        trainData,
        test,
        { ...o, steps: o.globalSteps, seed: o.seed + 1, quant: layers },
        (p) => {
          if (p.step > 0) emit({ ...p, step: start + p.step });
        },
        control,
      );
      diverged = shifted(global.diverged, offset);
      offset += global.stepsDone;
      stopped = global.stopped;
    }
  } catch (e) {
    disposeMlp(student);
    throw e;
  } finally {
    disposeMlp(teacher);
  }
  return { stepsDone: offset, curve, stopped, diverged, student, tiles, global };
}
