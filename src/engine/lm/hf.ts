/**
 * Hugging Face checkpoints of the GPT-2 family (gpt2, distilgpt2) and the GPT-NeoX family
 * (Pythia) — config.json, model.safetensors and tokenizer.json — as the lab's Gpt, so that every
 * method runs on them. config.json's keys are checked by type (zod), and every tensor (name, shape,
 * float dtype, finite values) before any tfjs variable is made, so a bad file costs nothing but
 * its message.
 *
 * Layouts. GPT-2's Conv1D weights are [in, out], the engine's own; its c_attn columns are
 * q | k | v, heads contiguous in each, as the engine splits them. GPT-NeoX's nn.Linear weights are
 * [out, in] (transposed here), and query_key_value's rows are per head [q_h | k_h | v_h], reordered
 * here to the engine's q | k | v. Embeddings [vocab, d] become the engine's wte [d, vocab].
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { buildGpt, type Gpt, type GptConfig } from './gpt';
import { parseHfTokenizer, type HfTokenizer } from './hftokenizer';
import { parseSafetensors, type SafetensorsTensor } from './safetensors';

export type HfFamily = 'gpt2' | 'gpt-neox';

/** The three files of a checkpoint (texts of the JSON files, bytes of the weights). */
export interface HfModelFiles {
  config: string;
  weights: Uint8Array;
  tokenizer: string;
  /** A label for the model (e.g. "EleutherAI/pythia-14m"). */
  name?: string;
}

export interface HfLoadOptions {
  /** Refuse a weights file larger than this many bytes. */
  maxBytes?: number;
  /** The engine model's context (default: the checkpoint's n_positions / max_position_embeddings, at most MAX_DEFAULT_CONTEXT). */
  context?: number;
}

export interface HfModel {
  model: Gpt;
  tokenizer: HfTokenizer;
  family: HfFamily;
  name: string;
}

type Json = Record<string, unknown>;

/** A config.json field's type: its schema (null = unset, as Hugging Face writes it) and how a message says it. */
const field = (schema: z.ZodType, expected: string) => ({ schema: schema.nullish(), expected });
const POS_INT = field(z.number().int().min(1), 'a positive integer');
const POS_NUM = field(z.number().positive(), 'a positive number');
const FRACTION = field(z.number().positive().max(1), 'a number in (0, 1]');
const BOOL = field(z.boolean(), 'true or false');
const STRING = field(z.string(), 'a string');

/**
 * The config.json keys the lab reads, by type; every other key passes unchecked (a real config
 * has dozens). A value of the wrong type is refused, never coerced ("false" is not false).
 */
const CONFIG_FIELDS: Record<string, { schema: z.ZodType; expected: string }> = {
  model_type: STRING,
  architectures: field(z.array(z.string()), 'a list of strings'),
  _name_or_path: STRING,
  n_embd: POS_INT,
  hidden_size: POS_INT,
  n_layer: POS_INT,
  num_hidden_layers: POS_INT,
  n_head: POS_INT,
  num_attention_heads: POS_INT,
  vocab_size: POS_INT,
  n_positions: POS_INT,
  n_ctx: POS_INT,
  max_position_embeddings: POS_INT,
  n_inner: POS_INT,
  intermediate_size: POS_INT,
  activation_function: STRING,
  hidden_act: STRING,
  layer_norm_epsilon: POS_NUM,
  layer_norm_eps: POS_NUM,
  scale_attn_weights: BOOL,
  scale_attn_by_inverse_layer_idx: BOOL,
  tie_word_embeddings: BOOL,
  use_parallel_residual: BOOL,
  attention_bias: BOOL,
  rotary_pct: FRACTION,
  partial_rotary_factor: FRACTION,
  rotary_emb_base: POS_NUM,
  rope_theta: POS_NUM,
};
const ROPE_FIELDS = { partial_rotary_factor: FRACTION, rope_theta: POS_NUM };
const shapeOf = (fields: Record<string, { schema: z.ZodType }>) => Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema]));
const ConfigSchema = z.looseObject({
  ...shapeOf(CONFIG_FIELDS),
  rope_parameters: z.looseObject(shapeOf(ROPE_FIELDS)).nullish(),
});

/** Check the types of the keys the lab reads; the first wrong one is an Error naming the key, its value and the type it needs. */
function checkConfigTypes(config: Json): void {
  const r = ConfigSchema.safeParse(config);
  if (r.success) return;
  const issue = r.error.issues[0];
  const path = issue.path.map(String);
  let value: unknown = config;
  for (const k of path) value = typeof value === 'object' && value !== null ? (value as Json)[k] : undefined;
  const key = path.join('.');
  const expected =
    (path[0] === 'rope_parameters'
      ? path.length === 1
        ? { expected: 'an object' }
        : ROPE_FIELDS[path[1] as keyof typeof ROPE_FIELDS]
      : CONFIG_FIELDS[path[0]]
    )?.expected ?? issue.message;
  const shown = JSON.stringify(value) ?? String(value);
  // "false" for false, "2" for 2: say that the quotes are the problem.
  const kind = issue.code === 'invalid_type' ? issue.expected : undefined;
  const quoted =
    typeof value === 'string' && (kind === 'boolean' || kind === 'number' || kind === 'int')
      ? ` (a JSON ${kind === 'boolean' ? 'boolean' : 'number'}, not a string)`
      : '';
  throw new Error(`config.json: ${key} is ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}; it must be ${expected}${quoted}`);
}

/** Parse config.json and tell its family, or say why the lab cannot load it. */
export function hfFamily(configText: string): { family: HfFamily; config: Json } {
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (e) {
    throw new Error(`config.json is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('config.json is not a JSON object');
  const config = raw as Json;
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  const type =
    typeof config.model_type === 'string'
      ? config.model_type
      : archs.some((a) => a.startsWith('GPT2'))
        ? 'gpt2'
        : archs.some((a) => a.startsWith('GPTNeoX'))
          ? 'gpt_neox'
          : undefined;
  if (type !== 'gpt2' && type !== 'gpt_neox') {
    const what = type === undefined ? 'has no model_type' : `has model_type ${JSON.stringify(type)}`;
    throw new Error(`config.json ${what}: the lab loads GPT-2 ("gpt2": gpt2, distilgpt2) and GPT-NeoX ("gpt_neox": Pythia) checkpoints`);
  }
  checkConfigTypes(config);
  return { family: type === 'gpt2' ? 'gpt2' : 'gpt-neox', config };
}

/** A positive integer field of config.json (the first of `keys` present), or `fallback`. */
function int(config: Json, keys: string[], fallback?: number): number {
  const key = keys.find((k) => config[k] !== undefined && config[k] !== null);
  const val = key === undefined ? fallback : config[key];
  if (typeof val !== 'number' || !Number.isInteger(val) || val < 1) {
    throw new Error(`config.json: ${keys[0]} ${key === undefined ? 'is missing' : `is ${JSON.stringify(val)}`}; it must be a positive integer`);
  }
  return val;
}

function num(config: Json, keys: string[], fallback: number): number {
  const key = keys.find((k) => config[k] !== undefined && config[k] !== null);
  const val = key === undefined ? fallback : config[key];
  if (typeof val !== 'number' || !Number.isFinite(val) || val <= 0)
    throw new Error(`config.json: ${key ?? keys[0]} is ${JSON.stringify(val)}; it must be a positive number`);
  return val;
}

function activation(config: Json, key: string, fallback: string): 'exact' | 'tanh' {
  const a = config[key] ?? fallback;
  if (a === 'gelu') return 'exact';
  if (a === 'gelu_new' || a === 'gelu_pytorch_tanh' || a === 'gelu_fast') return 'tanh';
  throw new Error(`config.json: ${key} ${JSON.stringify(a)} is not supported (the lab's MLP uses gelu or its tanh approximation gelu_new)`);
}

/** A tensor's data in the engine's layout and the engine shape it must have. */
interface Planned {
  shape: number[];
  make: () => tf.Tensor;
}

/** Looks up HF tensors by name, with the shape each must have, and names what is wrong. */
class TensorTable {
  constructor(
    private readonly tensors: Map<string, SafetensorsTensor>,
    private readonly prefix: string,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(this.prefix + name);
  }

  get(name: string, shape: number[], why: string): Float32Array {
    const full = this.prefix + name;
    const t = this.tensors.get(full);
    if (!t) throw new Error(`model.safetensors has no tensor "${full}" (${why}); is this checkpoint complete?`);
    if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i])) {
      throw new Error(`model.safetensors: tensor "${full}" has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}] (${why})`);
    }
    if (!(t.data instanceof Float32Array)) throw new Error(`model.safetensors: tensor "${full}" is ${t.dtype}, not a floating-point tensor`);
    return t.data;
  }
}

/** The first of `prefixes` under which `probe` exists, or an error listing a few names of the file. */
function findPrefix(tensors: Map<string, SafetensorsTensor>, prefixes: string[], probe: string, family: string): string {
  const p = prefixes.find((x) => tensors.has(x + probe));
  if (p !== undefined) return p;
  const names = [...tensors.keys()];
  const some = names
    .slice(0, 4)
    .map((n) => `"${n}"`)
    .join(', ');
  throw new Error(
    `model.safetensors has no tensor ${prefixes.map((x) => `"${x + probe}"`).join(' or ')}, so it is not a ${family} checkpoint (it has ${names.length} tensors${names.length ? `, e.g. ${some}` : ''})`,
  );
}

const asIs = (data: Float32Array, shape: number[]) => () => (shape.length === 1 ? tf.tensor1d(data) : tf.tensor2d(data, shape as [number, number]));
/** [rows, cols] data as the engine's transposed [cols, rows]. */
const transposed = (data: Float32Array, rows: number, cols: number) => () => tf.transpose(tf.tensor2d(data, [rows, cols]));

/** GPT-2: Conv1D weights [in, out]; wte [vocab, d]; learned positions; tied head unless lm_head is separate. */
function planGpt2(config: Json, tensors: Map<string, SafetensorsTensor>, context?: number): { gpt: GptConfig; plan: Map<string, Planned> } {
  const d = int(config, ['n_embd', 'hidden_size']);
  const layers = int(config, ['n_layer', 'num_hidden_layers']);
  const heads = int(config, ['n_head', 'num_attention_heads']);
  const vocab = int(config, ['vocab_size']);
  const nPos = int(config, ['n_positions', 'n_ctx', 'max_position_embeddings']);
  const f = int(config, ['n_inner'], 4 * d);
  if (config.scale_attn_by_inverse_layer_idx === true) throw new Error('config.json: scale_attn_by_inverse_layer_idx is true, which the lab does not support');
  if (config.scale_attn_weights === false) throw new Error('config.json: scale_attn_weights is false, which the lab does not support');
  const tied = config.tie_word_embeddings !== false;
  const ctx = checkContext(context, nPos, 'n_positions');
  const gpt: GptConfig = {
    vocab,
    context: ctx,
    layers,
    heads,
    dModel: d,
    norm: 'layer',
    gelu: activation(config, 'activation_function', 'gelu_new'),
    normEps: num(config, ['layer_norm_epsilon'], 1e-5),
    mlpHidden: f,
    untiedHead: !tied,
  };
  const t = new TensorTable(tensors, findPrefix(tensors, ['transformer.', ''], 'wte.weight', 'GPT-2'));
  const plan = new Map<string, Planned>();
  const put = (name: string, shape: number[], make: () => tf.Tensor) => plan.set(name, { shape, make });
  const vec = (engine: string, hf: string, n: number, why: string) => put(engine, [n], asIs(t.get(hf, [n], why), [n]));
  const mat = (engine: string, hf: string, rows: number, cols: number, why: string) =>
    put(engine, [rows, cols], asIs(t.get(hf, [rows, cols], why), [rows, cols]));
  const emb = `vocab_size ${vocab} × n_embd ${d}`;
  put('wte', [d, vocab], transposed(t.get('wte.weight', [vocab, d], emb), vocab, d));
  const wpe = t.get('wpe.weight', [nPos, d], `n_positions ${nPos} × n_embd ${d}`);
  put('wpe', [ctx, d], asIs(wpe.subarray(0, ctx * d), [ctx, d]));
  for (let i = 0; i < layers; i++) {
    const h = `h.${i}.`;
    const ln = (engine: string, hf: string) => {
      vec(`h${i}.${engine}.gain`, `${h}${hf}.weight`, d, `n_embd ${d}`);
      vec(`h${i}.${engine}.bias`, `${h}${hf}.bias`, d, `n_embd ${d}`);
    };
    ln('norm1', 'ln_1');
    mat(`h${i}.attn.qkv.w`, `${h}attn.c_attn.weight`, d, 3 * d, `n_embd ${d} × 3·n_embd`);
    vec(`h${i}.attn.qkv.b`, `${h}attn.c_attn.bias`, 3 * d, `3·n_embd`);
    mat(`h${i}.attn.out.w`, `${h}attn.c_proj.weight`, d, d, `n_embd ${d} × n_embd`);
    vec(`h${i}.attn.out.b`, `${h}attn.c_proj.bias`, d, `n_embd ${d}`);
    ln('norm2', 'ln_2');
    mat(`h${i}.mlp.fc.w`, `${h}mlp.c_fc.weight`, d, f, `n_embd ${d} × n_inner ${f}`);
    vec(`h${i}.mlp.fc.b`, `${h}mlp.c_fc.bias`, f, `n_inner ${f}`);
    mat(`h${i}.mlp.proj.w`, `${h}mlp.c_proj.weight`, f, d, `n_inner ${f} × n_embd ${d}`);
    vec(`h${i}.mlp.proj.b`, `${h}mlp.c_proj.bias`, d, `n_embd ${d}`);
  }
  vec('normF.gain', 'ln_f.weight', d, `n_embd ${d}`);
  vec('normF.bias', 'ln_f.bias', d, `n_embd ${d}`);
  headBias(put, new TensorTable(tensors, ''), 'lm_head.bias', vocab);
  if (!tied) {
    const head = new TensorTable(tensors, '').get('lm_head.weight', [vocab, d], `tie_word_embeddings is false: ${emb}`);
    put('head', [d, vocab], transposed(head, vocab, d));
  }
  return { gpt, plan };
}

/** GPT-NeoX: Linear weights [out, in]; per-head interleaved q/k/v; rotary positions; parallel residual. */
function planNeox(config: Json, tensors: Map<string, SafetensorsTensor>, context?: number): { gpt: GptConfig; plan: Map<string, Planned> } {
  const d = int(config, ['hidden_size']);
  const layers = int(config, ['num_hidden_layers']);
  const heads = int(config, ['num_attention_heads']);
  const vocab = int(config, ['vocab_size']);
  const nPos = int(config, ['max_position_embeddings'], 2048);
  const f = int(config, ['intermediate_size'], 4 * d);
  if (d % heads !== 0) throw new Error(`config.json: hidden_size ${d} is not divisible by num_attention_heads ${heads}`);
  if (config.rope_scaling !== undefined && config.rope_scaling !== null) throw new Error('config.json: rope_scaling is set, which the lab does not support');
  const rope = (typeof config.rope_parameters === 'object' && config.rope_parameters !== null ? config.rope_parameters : {}) as Json;
  const pct = num({ ...rope, ...config }, ['rotary_pct', 'partial_rotary_factor'], 0.25);
  const base = num({ ...rope, ...config }, ['rotary_emb_base', 'rope_theta'], 10000);
  const hd = d / heads;
  const rd = Math.floor(hd * pct);
  if (rd < 2 || rd % 2 !== 0)
    throw new Error(`config.json: rotary_pct ${pct} of the head size ${hd} gives ${rd} rotary dims; the lab needs an even number ≥ 2`);
  const tied = config.tie_word_embeddings === true;
  const ctx = checkContext(context, nPos, 'max_position_embeddings');
  const gpt: GptConfig = {
    vocab,
    context: ctx,
    layers,
    heads,
    dModel: d,
    norm: 'layer',
    positions: 'rotary',
    rotaryPct: pct,
    rotaryBase: base,
    parallelResidual: config.use_parallel_residual !== false,
    gelu: activation(config, 'hidden_act', 'gelu'),
    normEps: num(config, ['layer_norm_eps'], 1e-5),
    mlpHidden: f,
    untiedHead: !tied,
  };
  const prefix = findPrefix(tensors, ['gpt_neox.', ''], 'embed_in.weight', 'GPT-NeoX');
  const t = new TensorTable(tensors, prefix);
  const noBias = config.attention_bias === false;
  const plan = new Map<string, Planned>();
  const put = (name: string, shape: number[], make: () => tf.Tensor) => plan.set(name, { shape, make });
  const vec = (engine: string, hf: string, n: number, why: string) => put(engine, [n], asIs(t.get(hf, [n], why), [n]));
  /** An nn.Linear [out, in] as the engine's [in, out]. */
  const lin = (engine: string, hf: string, inp: number, out: number, why: string) => put(engine, [inp, out], transposed(t.get(hf, [out, inp], why), out, inp));
  const bias = (engine: string, hf: string, n: number, why: string) => (noBias && !t.has(hf) ? put(engine, [n], () => tf.zeros([n])) : vec(engine, hf, n, why));
  const emb = `vocab_size ${vocab} × hidden_size ${d}`;
  put('wte', [d, vocab], transposed(t.get('embed_in.weight', [vocab, d], emb), vocab, d));
  put('wpe', [0, d], () => tf.zeros([0, d]));
  for (let i = 0; i < layers; i++) {
    const h = `layers.${i}.`;
    const ln = (engine: string, hf: string) => {
      vec(`h${i}.${engine}.gain`, `${h}${hf}.weight`, d, `hidden_size ${d}`);
      vec(`h${i}.${engine}.bias`, `${h}${hf}.bias`, d, `hidden_size ${d}`);
    };
    ln('norm1', 'input_layernorm');
    const qkvW = t.get(`${h}attention.query_key_value.weight`, [3 * d, d], `3·hidden_size × hidden_size ${d}`);
    put(`h${i}.attn.qkv.w`, [d, 3 * d], transposed(neoxQkvRows(qkvW, heads, hd, d), 3 * d, d));
    const qkvB =
      noBias && !t.has(`${h}attention.query_key_value.bias`) ? new Float32Array(3 * d) : t.get(`${h}attention.query_key_value.bias`, [3 * d], '3·hidden_size');
    put(`h${i}.attn.qkv.b`, [3 * d], asIs(neoxQkvRows(qkvB, heads, hd, 1), [3 * d]));
    lin(`h${i}.attn.out.w`, `${h}attention.dense.weight`, d, d, `hidden_size ${d} × hidden_size`);
    bias(`h${i}.attn.out.b`, `${h}attention.dense.bias`, d, `hidden_size ${d}`);
    ln('norm2', 'post_attention_layernorm');
    lin(`h${i}.mlp.fc.w`, `${h}mlp.dense_h_to_4h.weight`, d, f, `intermediate_size ${f} × hidden_size ${d}`);
    vec(`h${i}.mlp.fc.b`, `${h}mlp.dense_h_to_4h.bias`, f, `intermediate_size ${f}`);
    lin(`h${i}.mlp.proj.w`, `${h}mlp.dense_4h_to_h.weight`, f, d, `hidden_size ${d} × intermediate_size ${f}`);
    vec(`h${i}.mlp.proj.b`, `${h}mlp.dense_4h_to_h.bias`, d, `hidden_size ${d}`);
  }
  vec('normF.gain', 'final_layer_norm.weight', d, `hidden_size ${d}`);
  vec('normF.bias', 'final_layer_norm.bias', d, `hidden_size ${d}`);
  headBias(put, new TensorTable(tensors, ''), 'embed_out.bias', vocab);
  if (!tied) {
    const head = new TensorTable(tensors, '').get('embed_out.weight', [vocab, d], `tie_word_embeddings is false: ${emb}`);
    put('head', [d, vocab], transposed(head, vocab, d));
  }
  return { gpt, plan };
}

/**
 * The output head's bias: Hugging Face's heads have none (zeros), but a checkpoint the lab exported
 * after training it carries "lm_head.bias" / "embed_out.bias" (export.ts), read here.
 */
function headBias(put: (name: string, shape: number[], make: () => tf.Tensor) => void, t: TensorTable, name: string, vocab: number): void {
  if (t.has(name)) {
    const b = t.get(name, [vocab], `vocab_size ${vocab}`);
    put('headBias', [vocab], asIs(b, [vocab]));
  } else put('headBias', [vocab], () => tf.zeros([vocab]));
}

/**
 * NeoX's query_key_value output rows, grouped per head as [q_h | k_h | v_h] (view(H, 3·hd)),
 * reordered to q | k | v with heads contiguous in each; each row has `width` values.
 */
export function neoxQkvRows(data: Float32Array, heads: number, hd: number, width: number): Float32Array {
  const d = heads * hd;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 3; j++) {
      const src = (h * 3 * hd + j * hd) * width;
      out.set(data.subarray(src, src + hd * width), (j * d + h * hd) * width);
    }
  }
  return out;
}

/** The engine context a checkpoint gets when none is asked for, at most (its causal mask is context² floats). */
export const MAX_DEFAULT_CONTEXT = 4096;

function checkContext(context: number | undefined, nPos: number, key: string): number {
  if (context === undefined) return Math.min(nPos, MAX_DEFAULT_CONTEXT);
  if (!Number.isInteger(context) || context < 1) throw new Error(`The context must be a positive integer, got ${context}`);
  if (context > nPos) throw new Error(`The context ${context} exceeds the checkpoint's ${key} (${nPos})`);
  return context;
}

/**
 * Load a checkpoint's three files as the engine's Gpt, its tokenizer, family and name. Anything
 * wrong with the files is a plain Error with a message for the user (a TypeError or RangeError
 * from below, e.g. an allocation that fails, becomes one too, with the original as its cause).
 */
export async function loadHfModel(files: HfModelFiles, opts: HfLoadOptions = {}): Promise<HfModel> {
  try {
    return await loadHfModelUnchecked(files, opts);
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw e;
    throw new Error(`The checkpoint${files.name ? ` ${files.name}` : ''} could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function loadHfModelUnchecked(files: HfModelFiles, opts: HfLoadOptions): Promise<HfModel> {
  const { family, config } = hfFamily(files.config);
  const tokenizer = parseHfTokenizer(files.tokenizer);
  const { tensors } = parseSafetensors(files.weights, { maxBytes: opts.maxBytes, name: 'model.safetensors', requireFinite: true });
  const { gpt, plan } = family === 'gpt2' ? planGpt2(config, tensors, opts.context) : planNeox(config, tensors, opts.context);
  if (tokenizer.vocab > gpt.vocab)
    throw new Error(
      `tokenizer.json has ${tokenizer.vocab} token ids, but the model's embedding has only ${gpt.vocab} rows (vocab_size): the files do not belong together`,
    );
  const model = buildGpt(gpt, (name, shape) => {
    const p = plan.get(name);
    if (!p) throw new Error(`loadHfModel: no tensor planned for ${name} [${shape.join(', ')}]`);
    return p.make();
  });
  const label = typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : family;
  return { model, tokenizer, family, name: files.name ?? label };
}

/** Download progress of one of the three files. */
export interface HfFetchProgress {
  file: 'config.json' | 'tokenizer.json' | 'model.safetensors';
  loaded: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

/**
 * The folder URL of a checkpoint: a huggingface.co repository page ("…/owner/repo" or
 * "…/owner/repo/tree/rev") becomes its "…/resolve/rev/" folder; other URLs get a trailing slash.
 */
export function hfFolderUrl(url: string): string {
  const u = url.trim();
  const m = /^(https?:\/\/(?:www\.)?huggingface\.co)\/([^/?#]+)\/([^/?#]+)(?:\/tree\/([^/?#]+))?\/?$/i.exec(u);
  if (m && !['datasets', 'spaces', 'api'].includes(m[2])) return `${m[1]}/${m[2]}/${m[3]}/resolve/${m[4] ?? 'main'}/`;
  return u.endsWith('/') ? u : `${u}/`;
}

/** A short label for a checkpoint URL: "owner/repo" on huggingface.co, else the folder's last segment. */
export function hfNameOf(url: string): string {
  const m = /huggingface\.co\/([^/]+)\/([^/]+)\//i.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  const parts = url
    .replace(/[?#].*$/, '')
    .split('/')
    .filter(Boolean);
  return parts[parts.length - 1] ?? url;
}

const HINTS: Record<number, string> = {
  401: 'the repository is gated or private, and the lab sends no credentials',
  403: 'access is forbidden (a gated or private repository?)',
  404: 'no such file: the folder must hold config.json, model.safetensors and tokenizer.json (sharded or .bin-only checkpoints are not supported)',
};

/**
 * Why a fetch failed, in one line: Node's fetch throws TypeError "fetch failed" with the reason
 * (e.g. "getaddrinfo ENOTFOUND x.invalid", "connect ECONNREFUSED 127.0.0.1:9") as its cause.
 */
export function fetchFailure(e: unknown): string {
  const err = e as { message?: unknown; cause?: unknown } | null;
  const cause = err?.cause as { message?: unknown; code?: unknown; errors?: { message?: unknown }[] } | undefined;
  const parts = [cause?.message, cause?.code, cause?.errors?.[0]?.message, err?.message];
  const first = parts.find((p) => typeof p === 'string' && p.trim() !== '') as string | undefined;
  return (first ?? String(e)).split('\n')[0];
}

async function fetchFile(
  url: string,
  file: HfFetchProgress['file'],
  fetchFn: typeof fetch,
  maxBytes: number,
  onProgress?: (p: HfFetchProgress) => void,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    // fetch fails with a TypeError; a plain Error comes from a fetchFn that has said what is wrong (Node's site paths).
    if (e instanceof Error && e.constructor === Error) throw e;
    throw new Error(`Could not reach ${url}: ${fetchFailure(e)} (offline, a wrong host, or the server does not allow cross-origin requests)`);
  }
  if (!res.ok) {
    const hint = HINTS[res.status];
    throw new Error(`Fetching ${file} from ${url} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${hint ? ` — ${hint}` : ''}`);
  }
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  const limit = `the lab's limit of ${(maxBytes / 2 ** 20).toFixed(0)} MiB`;
  if (total !== null && total > maxBytes) throw new Error(`${file} at ${url} is ${(total / 2 ** 20).toFixed(1)} MiB, over ${limit}`);
  onProgress?.({ file, loaded: 0, total });
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > maxBytes) throw new Error(`${file} at ${url} is over ${limit}`);
    onProgress?.({ file, loaded: bytes.length, total });
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    let part: ReadableStreamReadResult<Uint8Array>;
    try {
      part = await reader.read();
    } catch (e) {
      throw new Error(`The download of ${file} from ${url} failed after ${loaded} bytes${total !== null ? ` of ${total}` : ''}: ${fetchFailure(e)}`);
    }
    const { done, value } = part;
    if (done) break;
    loaded += value.length;
    if (loaded > maxBytes) {
      await reader.cancel();
      throw new Error(`${file} at ${url} is over ${limit}; the download was stopped`);
    }
    chunks.push(value);
    onProgress?.({ file, loaded, total });
  }
  if (total !== null && loaded !== total) throw new Error(`The download of ${file} from ${url} was cut short: ${loaded} of ${total} bytes`);
  const out = new Uint8Array(loaded);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/**
 * Fetch config.json, tokenizer.json and model.safetensors from a folder URL (e.g.
 * https://huggingface.co/EleutherAI/pythia-14m/resolve/main/). config.json is checked first, so an
 * unsupported model is refused before its weights are downloaded.
 */
export async function fetchHfModel(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
  onProgress?: (p: HfFetchProgress) => void,
  opts: { maxBytes?: number } = {},
): Promise<HfModelFiles & { name: string }> {
  const folder = hfFolderUrl(baseUrl);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const jsonLimit = 64 * 2 ** 20;
  const config = text(await fetchFile(`${folder}config.json`, 'config.json', fetchFn, jsonLimit, onProgress));
  hfFamily(config);
  const tokenizer = text(await fetchFile(`${folder}tokenizer.json`, 'tokenizer.json', fetchFn, jsonLimit, onProgress));
  const weights = await fetchFile(`${folder}model.safetensors`, 'model.safetensors', fetchFn, opts.maxBytes ?? Number.MAX_SAFE_INTEGER, onProgress);
  return { config, tokenizer, weights, name: hfNameOf(folder) };
}
