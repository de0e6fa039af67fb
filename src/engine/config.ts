/**
 * The one experiment config: a zod schema that the UI store, the share URL, the worker
 * protocol, the CLI and saved runs all use. Defaults live here and nowhere else.
 */
import { z } from 'zod';

/** Weight bit-widths offered. 1.58 = ternary absmean; 16 and 32 = full precision. */
export const BITS = [1.58, 2, 3, 4, 5, 6, 7, 8, 16, 32] as const;
export type Bits = (typeof BITS)[number];
export const isFullPrecision = (b: number): boolean => b >= 16;

export const BACKENDS = ['auto', 'webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendPref = (typeof BACKENDS)[number];

export const GRANULARITIES = ['row', 'tensor'] as const;
/** Which linear layers get quantized weights. */
export const LAYER_SETS = ['all', 'inner', 'nofirst', 'nolast'] as const;
export const SCHEDULES = ['constant', 'linear'] as const;
export const UNITS = ['steps', 'epochs'] as const;
export const METHODS = ['fp', 'rtn', 'qaft', 'scratch'] as const;
export type Method = (typeof METHODS)[number];

const lr = z.number().gt(0).lte(10);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const DataSchema = z.object({
  /** Degree of the least-squares polynomial through the 7 points. */
  degree: int(1, 6),
  trainSize: int(16, 1 << 20),
  testSize: int(8, 1 << 16),
  trainSeed: int(0, 2 ** 31 - 1),
  testSeed: int(0, 2 ** 31 - 1),
});

export const ModelSchema = z.object({
  width: int(4, 4096),
  depth: int(1, 12),
});

export const QuantSchema = z.object({
  bits: z.union(BITS.map((b) => z.literal(b)) as unknown as [z.ZodLiteral<Bits>, z.ZodLiteral<Bits>]),
  granularity: z.enum(GRANULARITIES),
  layers: z.enum(LAYER_SETS),
  /** Activation bits on each quantized layer's input (absmax per example); 0 = off. */
  actBits: int(0, 8).refine((b) => b === 0 || b >= 2, 'activation bits must be 0 (off) or 2–8'),
});

export const TrainSchema = z.object({
  lr,
  batch: int(1, 65536),
  unit: z.enum(UNITS),
  steps: int(1, 1_000_000),
  epochs: int(1, 100_000),
  schedule: z.enum(SCHEDULES),
  weightDecay: z.number().min(0).max(1),
  seed: int(0, 2 ** 31 - 1),
});

export const ExperimentSchema = z.object({
  data: DataSchema,
  model: ModelSchema,
  quant: QuantSchema,
  /** Full-precision pretraining. */
  fp: TrainSchema,
  /** QAFT, and scratch with the same budget. */
  qaft: TrainSchema,
  backend: z.enum(BACKENDS),
  /** Read the training loss back every this many steps (and evaluate the test loss). */
  logEvery: int(1, 100_000),
});

export type DataConfig = z.infer<typeof DataSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type QuantConfig = z.infer<typeof QuantSchema>;
export type TrainConfig = z.infer<typeof TrainSchema>;
export type ExperimentConfig = z.infer<typeof ExperimentSchema>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

export const DEFAULT_CONFIG: ExperimentConfig = deepFreeze({
  data: { degree: 4, trainSize: 16384, testSize: 1024, trainSeed: 1, testSeed: 2 },
  model: { width: 512, depth: 4 },
  quant: { bits: 1.58, granularity: 'row', layers: 'all', actBits: 0 },
  fp: { lr: 1e-3, batch: 256, unit: 'steps', steps: 1500, epochs: 20, schedule: 'linear', weightDecay: 0, seed: 0 },
  qaft: { lr: 1e-4, batch: 256, unit: 'steps', steps: 600, epochs: 10, schedule: 'linear', weightDecay: 0, seed: 0 },
  backend: 'auto',
  logEvery: 25,
}) as ExperimentConfig;

export function cloneConfig(c: ExperimentConfig): ExperimentConfig {
  return structuredClone(c);
}

/** Number of optimizer steps a training config runs on `trainSize` examples. */
export function totalSteps(t: TrainConfig, trainSize: number): number {
  if (t.unit === 'steps') return t.steps;
  return t.epochs * Math.max(1, Math.floor(trainSize / Math.min(t.batch, trainSize)));
}

/** Layer sizes of the MLP: 14 → width × depth → 200. */
export function layerDims(m: ModelConfig): number[] {
  return [14, ...Array<number>(m.depth).fill(m.width), 200];
}

/** Whether linear layer `i` of `n` has quantized weights under `layers`. */
export function isLayerQuantized(layers: QuantConfig['layers'], i: number, n: number): boolean {
  if (layers === 'all') return true;
  if (layers === 'inner') return i > 0 && i < n - 1;
  if (layers === 'nofirst') return i > 0;
  return i < n - 1;
}

/** The part of a config that determines the FP model: equal keys → the FP weights can be reused. */
export function fpKey(c: ExperimentConfig): string {
  return JSON.stringify([c.data, c.model, c.fp]);
}

/** Validate untrusted input (a saved run, a CLI file, a worker message). Throws a readable error. */
export function parseConfig(input: unknown): ExperimentConfig {
  const r = ExperimentSchema.safeParse(input);
  if (!r.success) {
    throw new Error(
      'Invalid experiment config: ' +
        r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  return r.data;
}

export function formatBits(b: number): string {
  return isFullPrecision(b) ? `FP${b}` : `${b}b`;
}

/** A learning rate as short, lossless scientific notation: 0.001 → "1e-3", 0.0012345 → "1.2345e-3". */
export function formatLr(x: number): string {
  const [m, ex] = x.toExponential().split('e');
  return `${m}e${Number(ex)}`;
}
