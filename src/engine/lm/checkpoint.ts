/**
 * The lab's GPT checkpoint: a safetensors file of the model's variables (F32, named after the
 * engine's fields: "wte", "wpe", "h0.wqkv", "h0.norm1.0", …, "normF.0", "headBias") with
 * `__metadata__` { format: 'qaft-lab-gpt/1', config: JSON GptConfig, chars: JSON array of the
 * char tokenizer's characters, and every other key of the caller's meta as JSON }.
 * The config is stored whole, so optional GptConfig fields pass through unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config';
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

const POSITIVE = ['vocab', 'context', 'layers', 'heads', 'dModel'] as const;

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
  for (const k of POSITIVE) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 1) fail(`the config's "${k}" is ${JSON.stringify(o[k])}, not a positive integer`);
  }
  if (o.norm !== 'rms' && o.norm !== 'layer') fail(`the config's "norm" is ${JSON.stringify(o.norm)}, not "rms" or "layer"`);
  if (o.bitnet !== undefined && typeof o.bitnet !== 'boolean') fail(`the config's "bitnet" is ${JSON.stringify(o.bitnet)}, not true or false`);
  if ((o.dModel as number) % (o.heads as number) !== 0) fail(`the config's dModel ${o.dModel} is not divisible by its heads ${o.heads}`);
  return o as unknown as GptConfig;
}

const shapeStr = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Read a checkpoint written by `saveGpt`. Throws an Error naming the file for anything malformed:
 * not safetensors, another format, a bad config or characters, tensors missing, extra or of the
 * wrong shape. Nothing is left allocated when it throws.
 */
export function loadGpt(bytes: Uint8Array, opts: LoadGptOptions = {}): { model: Gpt; meta: GptCheckpointMeta & { format: string } } {
  const file = opts.name ?? 'the checkpoint';
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  const { tensors, metadata } = parseSafetensors(bytes, { name: file, maxBytes: opts.maxBytes });
  const format = metadata.format;
  if (format === undefined) {
    fail(`this safetensors file is not a QAFT Lab GPT checkpoint (its metadata has no "format": "${GPT_CHECKPOINT_FORMAT}"); Hugging Face checkpoints are loaded with the model source "Hugging Face"`);
  }
  if (format !== GPT_CHECKPOINT_FORMAT) fail(`the checkpoint format is "${format}"; this lab reads "${GPT_CHECKPOINT_FORMAT}"`);
  const config = parseConfig(metadata.config, fail);

  const meta: GptCheckpointMeta & { format: string } = { format };
  for (const [k, val] of Object.entries(metadata)) {
    if (RESERVED.has(k)) continue;
    try {
      meta[k] = JSON.parse(val);
    } catch {
      if (k === 'chars') fail(`the metadata's "chars" is not valid JSON`);
      meta[k] = val;
    }
  }
  if (meta.chars !== undefined) checkChars(meta.chars, config.vocab, (msg) => new Error(`${file}: ${msg}`));

  // Check the sizes the config implies against the file before allocating the model.
  const expect = (name: string, shape: number[]) => {
    const t = tensors.get(name);
    if (!t) fail(`the tensor "${name}" is missing`);
    if (shapeStr(t!.shape) !== shapeStr(shape)) fail(`the tensor "${name}" has shape ${shapeStr(t!.shape)}, but the config (${config.layers} layers, dModel ${config.dModel}, vocab ${config.vocab}, context ${config.context}) needs ${shapeStr(shape)}`);
  };
  expect('wte', [config.dModel, config.vocab]);
  expect('wpe', [config.context, config.dModel]);
  expect(`h${config.layers - 1}.wqkv`, [config.dModel, 3 * config.dModel]);

  const model = initGpt(config, 0);
  try {
    const named = gptNamedVariables(model);
    const missing = named.filter(([n]) => !tensors.has(n)).map(([n]) => n);
    if (missing.length) fail(`${missing.length} tensor${missing.length > 1 ? 's are' : ' is'} missing: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`);
    const known = new Set(named.map(([n]) => n));
    const extra = [...tensors.keys()].filter((n) => !known.has(n));
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
