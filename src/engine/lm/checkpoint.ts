/**
 * The lab's GPT checkpoint: a safetensors file of the model's variables (F32, named after the
 * engine's fields: "wte", "wpe", "h0.wqkv", "h0.norm1.0", …, "normF.0", "headBias") with
 * `__metadata__` { format: 'qaft-lab-gpt/1', config: JSON GptConfig, chars: JSON array of the
 * char tokenizer's characters, and every other key of the caller's meta as JSON }.
 * The config is stored whole, so optional GptConfig fields pass through unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TrainConfig } from '../core/config';
import { initGpt, disposeGpt, type Gpt, type GptConfig } from './gpt';
import { parseSafetensors, serializeSafetensors, type SafetensorsInput, type SafetensorsTensor } from './safetensors';

export const GPT_CHECKPOINT_FORMAT = 'qaft-lab-gpt/1';

/** What a checkpoint says about itself besides its weights (all optional; any other JSON keys pass through). */
export interface GptCheckpointMeta {
  /** The char tokenizer's characters in id order (length = vocab). */
  chars?: string[];
  /** The lab's `lm` settings the model was trained with. */
  lm?: Record<string, unknown>;
  /** The lab's `lmFp` settings the model was trained with. */
  lmFp?: TrainConfig;
  valFraction?: number;
  corpusSha256?: string;
  /** Final validation NLL (nats/token). */
  valNll?: number;
  [key: string]: unknown;
}

export interface LoadGptOptions {
  /** The file's name (or URL) for error messages. */
  name?: string;
  /** Refuse files larger than this. */
  maxBytes?: number;
}

/**
 * Suffixes of the tensors a quantized export (export.ts) adds next to a weight: its codes and
 * per-group parameters. The loader reads the weights and skips these.
 */
export const QUANT_TENSOR_SUFFIXES = ['.qweight', '.scales', '.zeros', '.scale_codes', '.tensor_scale', '.codebook'] as const;
const isQuantTensor = (name: string) => QUANT_TENSOR_SUFFIXES.some((s) => name.endsWith(s));

/** Keys the format itself writes. */
const RESERVED = new Set(['format', 'config']);

/**
 * The model's variables with their checkpoint names, in field order, found by walking the Gpt's
 * fields (a field that is a variable or an array of variables; blocks as "h{i}.{field}"; the
 * mask is a plain tensor and not saved), so variables added to the model later are saved and
 * loaded without changes here.
 */
export function gptNamedVariables(m: Gpt): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [];
  const walk = (prefix: string, obj: object) => {
    for (const [k, val] of Object.entries(obj)) {
      if (prefix === '' && k === 'blocks') m.blocks.forEach((b, i) => walk(`h${i}.`, b));
      else if (val instanceof tf.Variable) out.push([prefix + k, val]);
      else if (Array.isArray(val) && val.length > 0 && val.every((x) => x instanceof tf.Variable)) {
        val.forEach((x: tf.Variable, i) => out.push([`${prefix}${k}.${i}`, x]));
      }
    }
  };
  walk('', m);
  return out;
}

/** A checkpoint of `m` (weights read back from the device) with `meta` in its metadata. */
export async function saveGpt(m: Gpt, meta: GptCheckpointMeta = {}): Promise<Uint8Array> {
  for (const k of Object.keys(meta)) {
    if (RESERVED.has(k)) throw new Error(`saveGpt: the meta key "${k}" is written by the checkpoint format itself`);
  }
  if (meta.chars !== undefined) checkChars(meta.chars, m.config.vocab, (msg) => new Error(`saveGpt: ${msg}`));
  const named = gptNamedVariables(m);
  const values = await Promise.all(named.map(([, v]) => v.data()));
  const tensors: SafetensorsInput[] = named.map(([name, v], i) => {
    const data = values[i];
    if (data instanceof Float32Array) return { name, dtype: 'F32', shape: v.shape, data };
    if (data instanceof Int32Array) return { name, dtype: 'I32', shape: v.shape, data };
    throw new Error(`saveGpt: variable ${name} has dtype ${v.dtype}, which the checkpoint cannot store`);
  });
  const metadata: Record<string, string> = { format: GPT_CHECKPOINT_FORMAT, config: JSON.stringify(m.config) };
  for (const [k, val] of Object.entries(meta)) {
    if (val === undefined) continue;
    metadata[k] = JSON.stringify(val);
  }
  return serializeSafetensors(tensors, metadata);
}

function checkChars(chars: unknown, vocab: number, err: (msg: string) => Error): asserts chars is string[] {
  if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string' && Array.from(c).length === 1)) {
    throw err('"chars" is not a list of single characters');
  }
  if (chars.length !== vocab) throw err(`"chars" lists ${chars.length} characters but the model's vocabulary is ${vocab}`);
  if (new Set(chars).size !== chars.length) throw err('"chars" lists a character twice');
}

/** A field of the stored GptConfig / metadata: its schema and how a message says the type it needs. */
const field = (schema: z.ZodType, expected: string) => ({ schema, expected });
const POS_INT = field(z.number().int().min(1), 'a positive integer');
const BOOL = field(z.boolean(), 'true or false');
/** The largest context a checkpoint may declare (the causal mask is context² floats). */
export const MAX_CHECKPOINT_CONTEXT = 8192;

/** GptConfig by type: the sizes and norm are required, the options optional; unknown keys pass through. */
const CONFIG_FIELDS: Record<string, { schema: z.ZodType; expected: string; optional?: boolean }> = {
  vocab: POS_INT,
  context: field(z.number().int().min(1).max(MAX_CHECKPOINT_CONTEXT), `a positive integer up to ${MAX_CHECKPOINT_CONTEXT}`),
  layers: POS_INT,
  heads: POS_INT,
  dModel: POS_INT,
  norm: field(z.enum(['rms', 'layer']), '"rms" or "layer"'),
  bitnet: { ...BOOL, optional: true },
  positions: { ...field(z.enum(['learned', 'rotary']), '"learned" or "rotary"'), optional: true },
  rotaryPct: { ...field(z.number().positive().max(1), 'a number in (0, 1]'), optional: true },
  rotaryBase: { ...field(z.number().positive(), 'a positive number'), optional: true },
  parallelResidual: { ...BOOL, optional: true },
  gelu: { ...field(z.enum(['exact', 'tanh']), '"exact" or "tanh"'), optional: true },
  normEps: { ...field(z.number().positive(), 'a positive number'), optional: true },
  untiedHead: { ...BOOL, optional: true },
  mlpHidden: { ...POS_INT, optional: true },
  embedLookup: { ...field(z.enum(['onehot', 'gather']), '"onehot" or "gather"'), optional: true },
};
const ConfigSchema = z.looseObject(Object.fromEntries(Object.entries(CONFIG_FIELDS).map(([k, f]) => [k, f.optional ? f.schema.optional() : f.schema])));

/** The metadata keys the lab reads, by type (each stored as JSON; all optional; other keys pass through). */
const META_FIELDS: Record<string, { schema: z.ZodType; expected: string }> = {
  chars: field(z.array(z.string()), 'a list of single characters'),
  lm: field(z.record(z.string(), z.unknown()), 'an object'),
  lmFp: field(z.record(z.string(), z.unknown()), 'an object'),
  valFraction: field(z.number(), 'a number'),
  corpusSha256: field(z.string(), 'a string'),
  // JSON writes a NaN as null.
  valNll: field(z.number().nullable(), 'a number'),
};
const MetaSchema = z.looseObject(Object.fromEntries(Object.entries(META_FIELDS).map(([k, f]) => [k, f.schema.optional()])));

/** The first problem of a failed parse: 'the <what>'s "key" is <value>, not <expected>', or 'the <what> has no "key"'. */
function typeProblem(error: z.ZodError, value: Record<string, unknown>, fields: Record<string, { expected: string }>, what: string): string {
  const issue = error.issues[0];
  const key = String(issue.path[0] ?? '');
  const expected = fields[key]?.expected ?? issue.message;
  if (!Object.hasOwn(value, key)) return `the ${what} has no "${key}" (${expected})`;
  const shown = JSON.stringify(value[key]) ?? String(value[key]);
  return `the ${what}'s "${key}" is ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}, not ${expected}`;
}

function parseConfig(text: string | undefined, fail: (msg: string) => never): GptConfig {
  if (text === undefined) fail('the metadata has no "config" (the model\'s GptConfig)');
  let c: unknown;
  try {
    c = JSON.parse(text!);
  } catch (e) {
    fail(`the metadata's "config" is not valid JSON (${(e as Error).message})`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) fail('the metadata\'s "config" is not a JSON object');
  const o = c as Record<string, unknown>;
  const r = ConfigSchema.safeParse(o);
  if (!r.success) fail(typeProblem(r.error, o, CONFIG_FIELDS, 'config'));
  if ((o.dModel as number) % (o.heads as number) !== 0) fail(`the config's dModel ${o.dModel} is not divisible by its heads ${o.heads}`);
  return r.data as unknown as GptConfig;
}

const shapeStr = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Read a checkpoint written by `saveGpt`. Throws an Error naming the file for anything malformed:
 * not safetensors, another format, a config or metadata value of the wrong type, bad characters,
 * tensors missing, extra, of the wrong shape or holding NaN / Infinity. Nothing is left allocated
 * when it throws, and it throws nothing but plain Errors (a failure from below, such as an
 * allocation, becomes one, with the original as its cause).
 */
export function loadGpt(bytes: Uint8Array, opts: LoadGptOptions = {}): { model: Gpt; meta: GptCheckpointMeta & { format: string } } {
  const file = opts.name ?? 'the checkpoint';
  try {
    return loadGptUnchecked(bytes, file, opts);
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw e;
    throw new Error(`${file}: could not be loaded (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

function loadGptUnchecked(bytes: Uint8Array, file: string, opts: LoadGptOptions): { model: Gpt; meta: GptCheckpointMeta & { format: string } } {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  const { tensors, metadata } = parseSafetensors(bytes, { name: file, maxBytes: opts.maxBytes, requireFinite: true });
  const format = metadata.format;
  if (format === undefined) {
    fail(
      `this safetensors file is not a QAFT Lab GPT checkpoint (its metadata has no "format": "${GPT_CHECKPOINT_FORMAT}"); Hugging Face checkpoints are loaded with the model source "Hugging Face"`,
    );
  }
  if (format !== GPT_CHECKPOINT_FORMAT) fail(`the checkpoint format is "${format}"; this lab reads "${GPT_CHECKPOINT_FORMAT}"`);
  const config = parseConfig(metadata.config, fail);

  const raw: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(metadata)) {
    if (RESERVED.has(k)) continue;
    try {
      raw[k] = JSON.parse(val);
    } catch {
      if (k === 'chars') fail(`the metadata's "chars" is not valid JSON`);
      raw[k] = val;
    }
  }
  const checked = MetaSchema.safeParse(raw);
  if (!checked.success) fail(typeProblem(checked.error, raw, META_FIELDS, 'metadata'));
  const meta: GptCheckpointMeta & { format: string } = { format, ...raw };
  if (meta.chars !== undefined) checkChars(meta.chars, config.vocab, (msg) => new Error(`${file}: ${msg}`));

  // Check the sizes the config implies against the file before allocating the model.
  const expect = (name: string, shape: number[]) => {
    const t = tensors.get(name);
    if (!t) fail(`the tensor "${name}" is missing`);
    if (shapeStr(t!.shape) !== shapeStr(shape))
      fail(
        `the tensor "${name}" has shape ${shapeStr(t!.shape)}, but the config (${config.layers} layers, dModel ${config.dModel}, vocab ${config.vocab}, context ${config.context}) needs ${shapeStr(shape)}`,
      );
  };
  const rotary = config.positions === 'rotary';
  expect('wte', [config.dModel, config.vocab]);
  expect('wpe', [rotary ? 0 : config.context, config.dModel]);
  expect(`h${config.layers - 1}.wqkv`, [config.dModel, 3 * config.dModel]);
  // The big matrices the config implies must be in the file too (a config that asks for more is not allocated).
  const d = config.dModel;
  const f = config.mlpHidden ?? 4 * d;
  const needed = d * config.vocab * (config.untiedHead ? 2 : 1) + (rotary ? 0 : config.context * d) + config.layers * (4 * d * d + 2 * d * f);
  let held = 0;
  for (const [n, t] of tensors) if (!isQuantTensor(n)) held += t.data.length;
  if (needed > held)
    fail(
      `the config (${config.layers} layers, dModel ${d}, MLP ${f}, vocab ${config.vocab}) needs at least ${needed.toLocaleString('en-US')} weights, but the file holds ${held.toLocaleString('en-US')}`,
    );

  const model = initGpt(config, 0);
  try {
    const named = gptNamedVariables(model);
    const missing = named.filter(([n]) => !tensors.has(n)).map(([n]) => n);
    if (missing.length)
      fail(`${missing.length} tensor${missing.length > 1 ? 's are' : ' is'} missing: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`);
    const known = new Set(named.map(([n]) => n));
    const extra = [...tensors.keys()].filter((n) => !known.has(n) && !isQuantTensor(n));
    if (extra.length) fail(`the file has tensors this model does not: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', …' : ''}`);
    for (const [name, v] of named) {
      const t = tensors.get(name) as SafetensorsTensor;
      if (shapeStr(t.shape) !== shapeStr(v.shape)) fail(`the tensor "${name}" has shape ${shapeStr(t.shape)}; the model needs ${shapeStr(v.shape)}`);
      if (!(t.data instanceof Float32Array) && v.dtype === 'float32') fail(`the tensor "${name}" is ${t.dtype}, not a float tensor`);
    }
    for (const [name, v] of named) {
      const t = tensors.get(name) as SafetensorsTensor;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, v.dtype)));
    }
  } catch (e) {
    disposeGpt(model);
    throw e;
  }
  return { model, meta };
}
