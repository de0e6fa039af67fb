/**
 * The one experiment config: a zod schema that the UI store, the share URL, the worker
 * protocol, the CLI and saved runs all use. Defaults live here and nowhere else.
 */
import { z } from 'zod';
import { CLIPS, SCHEMES } from './quantizers/spec';
import { quote } from './text';

/** Weight bit-widths offered. 1 = binary, 1.58 = ternary absmean; 16 and 32 = full precision. */
export const BITS = [1, 1.58, 2, 3, 4, 5, 6, 7, 8, 16, 32] as const;
export type Bits = (typeof BITS)[number];
export const isFullPrecision = (b: number): boolean => b >= 16;

export const BACKENDS = ['auto', 'webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendPref = (typeof BACKENDS)[number];

/** Per output channel, per tensor, per group of inputs within a channel, per block of the flattened tensor. */
export const GRANULARITIES = ['row', 'tensor', 'group', 'block'] as const;
/** 'auto': ternary absmean at 1.58, binary at 1, symmetric absmax W·(2^(B−1)−1)/max|W| otherwise. */
export const QUANT_SCHEMES = ['auto', ...SCHEMES] as const;
export type QuantScheme = (typeof QUANT_SCHEMES)[number];
/** Which linear layers get quantized weights. */
export const LAYER_SETS = ['all', 'inner', 'nofirst', 'nolast'] as const;
export const SCHEDULES = ['constant', 'linear'] as const;
export const UNITS = ['steps', 'epochs'] as const;
/** The experiments: the polynomial-fit MLP toy, or language modelling with a small transformer. */
export const TASKS = ['poly', 'lm'] as const;
export type Task = (typeof TASKS)[number];
/** LM model: the lab's own tiny GPT (config below), a Hugging Face checkpoint (GPT-2 / GPT-NeoX family) from a URL, or from files dropped on the page (not in the URL). */
export const LM_SOURCES = ['tiny', 'hf', 'files'] as const;
/** LM text: the corpus the project ships, the user's own text (dropped or pasted; not in the URL), or a text URL. */
export const CORPORA = ['builtin', 'own', 'url'] as const;
export const LM_NORMS = ['rms', 'layer'] as const;
export const DISTILL_LOSSES = ['kl', 'ce'] as const;
/** Rotation of the quantized layers' input spaces (core/rotation.ts): none, or a randomized Walsh–Hadamard (QuaRot). */
export const ROTATIONS = ['none', 'hadamard'] as const;
export type RotationKind = (typeof ROTATIONS)[number];

const lr = z.number().gt(0).lte(10);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const DataSchema = z.object({
  /** Degree of the least-squares polynomial through the 7 points. */
  degree: int(1, 6),
  trainSize: int(16, 1 << 20),
  /**
   * Data budget after FP pretraining: the first N training examples are GPTQ's calibration
   * set and QAFT's (and scratch's) whole training set. 0 = all training examples.
   */
  budget: int(0, 1 << 20),
  testSize: int(8, 1 << 16),
  trainSeed: int(0, 2 ** 31 - 1),
  testSeed: int(0, 2 ** 31 - 1),
});

export const ModelSchema = z.object({
  width: int(4, 4096),
  depth: int(1, 12),
});

const bitsSchema = z.union(BITS.map((b) => z.literal(b)) as unknown as [z.ZodLiteral<Bits>, z.ZodLiteral<Bits>], {
  error: `bits must be one of ${BITS.join(', ')}`,
});

/** Mixed precision: one layer (0 = first linear layer) with its own bits and scheme. */
export const LayerOverrideSchema = z.object({
  layer: int(0, 12),
  bits: bitsSchema,
  scheme: z.enum(QUANT_SCHEMES),
});
export type LayerOverride = z.infer<typeof LayerOverrideSchema>;

/** One entry of a gradual bit reduction: `bits` from fraction `at` of the run on. */
export const BitStepSchema = z.object({
  bits: bitsSchema.refine((b) => !isFullPrecision(b), 'schedule bits must be quantized (1–8)'),
  at: z.number().min(0).lt(1),
});
export type BitStep = z.infer<typeof BitStepSchema>;

/** Empty (off), or starting at 0 with strictly increasing fractions in [0, 1). */
export const BitScheduleSchema = z
  .array(BitStepSchema)
  .max(8)
  .refine((s) => s.length === 0 || s[0].at === 0, 'the first entry must start at 0 (e.g. 8@0,4@0.5)')
  .refine((s) => s.every((e, i) => i === 0 || e.at > s[i - 1].at), 'the fractions must increase (e.g. 8@0,4@0.3,2@0.6)');

export const QuantSchema = z.object({
  bits: bitsSchema,
  scheme: z.enum(QUANT_SCHEMES),
  granularity: z.enum(GRANULARITIES),
  /** Elements per group (granularity 'group') or block ('block'). */
  groupSize: int(1, 4096),
  /** 'mse': scale chosen by a search over shrink factors (GPTQ's quant.py). */
  clip: z.enum(CLIPS),
  overrides: z.array(LayerOverrideSchema).max(13),
  layers: z.enum(LAYER_SETS),
  /** Activation bits on each quantized layer's input (absmax per example); 0 = off. */
  actBits: int(0, 8).refine((b) => b === 0 || b >= 2, 'activation bits must be 0 (off) or 2–8'),
  /** QAFT / scratch: full precision for the first this many steps, then fake-quantized. */
  delay: int(0, 1_000_000),
  /** QAFT / scratch: gradual bit reduction (empty = off); the run ends at the last entry's bits. */
  bitSchedule: BitScheduleSchema,
  /**
   * 'hadamard': every quantized layer is quantized in a randomized Hadamard basis of its inputs
   * (the MLP online; the transformer folded through RMSNorm where exact, online elsewhere).
   */
  rotate: z.enum(ROTATIONS),
  /** Seed of the rotations' random signs. */
  rotSeed: int(0, 2 ** 31 - 1),
});

/** Activation observers: 'dynamic' = absmax of each example/token (or of the batch tensor) at run time; the others calibrate one static scale per tensor on the data budget (act.ts). */
export const ACT_OBSERVERS = ['dynamic', 'minmax', 'percentile', 'mse', 'ema'] as const;
/** Activation scale granularity: per example / token, or per tensor. */
export const ACT_GRANULARITIES = ['token', 'tensor'] as const;
/** Activation element format: symmetric integer of quant.actBits bits, or FP8 (actBits 8). */
export const ACT_FORMATS = ['int', 'fp8-e4m3', 'fp8-e5m2'] as const;
/** Per-input-channel scale migration before quantizing: AWQ (α searched) or SmoothQuant (α given). */
export const SMOOTHINGS = ['none', 'awq', 'smoothquant'] as const;

/** How activations are quantized (when quant.actBits > 0), and AWQ / SmoothQuant. */
export const ActSchema = z.object({
  observer: z.enum(ACT_OBSERVERS),
  granularity: z.enum(ACT_GRANULARITIES),
  format: z.enum(ACT_FORMATS),
  /** Percentile observer: the percentile of |x| taken as the clipping value. */
  percentile: z.number().gte(50).lte(100),
  /** EMA observer: m ← decay·m + (1 − decay)·(batch max |x|). */
  emaDecay: z.number().min(0).lt(1),
  smooth: z.enum(SMOOTHINGS),
  /** SmoothQuant's migration strength α. */
  alpha: z.number().min(0).max(1),
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

export const GptqSchema = z.object({
  /** Damping as a fraction of mean(diag H). */
  damp: z.number().gt(0).lte(1),
  blockSize: int(1, 4096),
  actOrder: z.boolean(),
});

/** A grid of QAFT runs (learning rates × bit-widths); the bit list also drives "PTQ vs QAFT". */
export const SweepSchema = z.object({
  bits: z.array(bitsSchema).min(1).max(11),
  lrs: z.array(lr).min(1).max(12),
});

/** Language modelling with a small decoder-only transformer (task 'lm'). */
export const LmSchema = z.object({
  source: z.enum(LM_SOURCES),
  /**
   * Start from the pretrained checkpoint shipped in public/ when the model, corpus and FP
   * settings match it (the demo starts at once); otherwise the FP model is pretrained here.
   */
  pretrained: z.boolean(),
  /** source 'hf': folder URL holding config.json, model.safetensors and tokenizer.json. */
  hfUrl: z.string().max(1000),
  layers: int(1, 24),
  heads: int(1, 32),
  dModel: int(8, 2048),
  /** Context length (tokens per sequence). */
  context: int(8, 2048),
  norm: z.enum(LM_NORMS),
  /** BitNet-style layout: a parameter-free RMSNorm on the input of every block linear. */
  bitnet: z.boolean(),
  corpus: z.enum(CORPORA),
  /** corpus 'url': a plain-text file fetched by the browser (or Node). */
  corpusUrl: z.string().max(2000),
  /** Fraction of the text (its end) held out for validation. */
  valFraction: z.number().min(0.02).max(0.5),
  /** Weight bits per component (16/32 = full precision); scheme and granularity come from `quant`. */
  embedBits: bitsSchema,
  attnBits: bitsSchema,
  mlpBits: bitsSchema,
  headBits: bitsSchema,
  /** QA-LoRA: adapter rank and scale numerator (the update is x·A·B·alpha/rank). */
  loraRank: int(1, 256),
  loraAlpha: z.number().gt(0).max(4096),
  /** Data-free QAFT: sequences the FP model generates from an empty prompt, their temperature, and the loss. */
  dfSequences: int(1, 1 << 16),
  dfTemperature: z.number().gt(0).max(5),
  dfLoss: z.enum(DISTILL_LOSSES),
  /** Forward tiled QAT: k blocks per tile, steps per tile, then this many global QAFT steps (0 = none). */
  tileK: int(1, 24),
  tileSteps: int(1, 1_000_000),
  tileGlobal: int(0, 1_000_000),
  /** Text samples: the prompt, characters/tokens generated, temperature (0 = greedy) and seed. */
  prompt: z.string().max(500),
  sampleLength: int(1, 2000),
  sampleTemp: z.number().min(0).max(5),
  sampleSeed: int(0, 2 ** 31 - 1),
});

export const ExperimentSchema = z.object({
  /** Which experiment: the polynomial-fit MLP ('poly') or language modelling ('lm'). */
  task: z.enum(TASKS),
  lm: LmSchema,
  /** LM FP pretraining and LM QAFT (also QA-LoRA, data-free and the tiles' training settings). */
  lmFp: TrainSchema,
  lmQaft: TrainSchema,
  data: DataSchema,
  model: ModelSchema,
  quant: QuantSchema,
  /** Activation quantizer (observer, granularity, format) and AWQ / SmoothQuant. */
  act: ActSchema,
  gptq: GptqSchema,
  sweep: SweepSchema,
  /** Full-precision pretraining. */
  fp: TrainSchema,
  /** QAFT, and scratch with the same budget. */
  qaft: TrainSchema,
  backend: z.enum(BACKENDS),
  /** Read the training loss back every this many steps (and evaluate the test loss). */
  logEvery: int(1, 100_000),
  /**
   * Repeat every run over this many seeds (repeat k adds k to the training data, init and batch
   * seeds; the test set stays), so a difference can be told from seed noise (mean ± 95 % interval).
   */
  repeats: int(1, 20),
});

export type DataConfig = z.infer<typeof DataSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type QuantConfig = z.infer<typeof QuantSchema>;
export type GptqConfig = z.infer<typeof GptqSchema>;
export type ActConfig = z.infer<typeof ActSchema>;
export type SweepConfig = z.infer<typeof SweepSchema>;
export type TrainConfig = z.infer<typeof TrainSchema>;
export type ExperimentConfig = z.infer<typeof ExperimentSchema>;
export type LmConfig = z.infer<typeof LmSchema>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

export const DEFAULT_CONFIG: ExperimentConfig = deepFreeze({
  task: 'poly',
  lm: {
    source: 'tiny',
    pretrained: true,
    hfUrl: '',
    layers: 4,
    heads: 4,
    dModel: 128,
    context: 64,
    norm: 'rms',
    bitnet: false,
    corpus: 'builtin',
    corpusUrl: '',
    valFraction: 0.1,
    embedBits: 32,
    attnBits: 3,
    mlpBits: 3,
    headBits: 32,
    loraRank: 8,
    loraAlpha: 16,
    dfSequences: 256,
    dfTemperature: 1,
    dfLoss: 'kl',
    tileK: 1,
    tileSteps: 100,
    tileGlobal: 100,
    prompt: 'The ',
    sampleLength: 200,
    sampleTemp: 0.8,
    sampleSeed: 0,
  },
  lmFp: { lr: 3e-3, batch: 16, unit: 'steps', steps: 1500, epochs: 1, schedule: 'linear', weightDecay: 0.01, seed: 0 },
  lmQaft: { lr: 5e-4, batch: 32, unit: 'steps', steps: 300, epochs: 1, schedule: 'linear', weightDecay: 0, seed: 0 },
  data: { degree: 4, trainSize: 16384, budget: 0, testSize: 1024, trainSeed: 1, testSeed: 2 },
  model: { width: 512, depth: 4 },
  quant: {
    bits: 1.58,
    scheme: 'auto',
    granularity: 'row',
    groupSize: 64,
    clip: 'none',
    overrides: [],
    layers: 'all',
    actBits: 0,
    delay: 0,
    bitSchedule: [],
    rotate: 'none',
    rotSeed: 0,
  },
  act: { observer: 'dynamic', granularity: 'token', format: 'int', percentile: 99.9, emaDecay: 0.9, smooth: 'none', alpha: 0.5 },
  gptq: { damp: 0.01, blockSize: 128, actOrder: false },
  sweep: { bits: [8, 6, 4, 3, 2], lrs: [1e-6, 1e-5, 1e-4, 1e-3] },
  fp: { lr: 1e-3, batch: 256, unit: 'steps', steps: 1500, epochs: 20, schedule: 'linear', weightDecay: 0, seed: 0 },
  qaft: { lr: 1e-4, batch: 256, unit: 'steps', steps: 600, epochs: 10, schedule: 'linear', weightDecay: 0, seed: 0 },
  backend: 'auto',
  logEvery: 25,
  repeats: 1,
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

function deepMerge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
  return out;
}

/**
 * A config from an older version of the lab, or a partial one: settings it lacks take their
 * defaults, then it is validated like any other (throws a readable error).
 */
export function upgradeConfig(input: unknown): ExperimentConfig {
  return parseConfig(deepMerge(DEFAULT_CONFIG, input));
}

/** Validate untrusted input (a saved run, a CLI file, a worker message). Throws a readable error. */
export function parseConfig(input: unknown): ExperimentConfig {
  const r = ExperimentSchema.safeParse(input);
  if (!r.success) {
    throw new Error('Invalid experiment config: ' + r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
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

export function formatBitSchedule(s: readonly BitStep[]): string {
  return s.map((e) => `${e.bits}@${e.at}`).join(',');
}

/**
 * Read "8@0,4@0.3,2@0.6" (bits@fraction, comma-separated; '' = off) into unvalidated entries,
 * or a reason it is not of that form. Validate the result with BitScheduleSchema.
 */
export function readBitSchedule(raw: string): { value: { bits: number; at: number }[] } | { error: string } {
  if (raw.trim() === '') return { value: [] };
  const num = (t: string | undefined) => (t === undefined || t.trim() === '' ? NaN : Number(t));
  const out: { bits: number; at: number }[] = [];
  for (const part of raw.split(',')) {
    const [bits, at, ...extra] = part.split('@');
    if (extra.length || !Number.isFinite(num(bits)) || !Number.isFinite(num(at)))
      return { error: `entries are bits@fraction, e.g. 8@0,4@0.3,2@0.6, not ${quote(part)}` };
    out.push({ bits: num(bits), at: num(at) });
  }
  return { value: out };
}
