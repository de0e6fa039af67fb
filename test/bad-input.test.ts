/**
 * Bad input never passes as a result: a checkpoint with a NaN / Infinity weight is refused naming
 * the tensor (the lab's own format and Hugging Face), config.json and checkpoint metadata values of
 * the wrong type are refused naming the key and the type, and a run whose final loss is not finite
 * ends 'diverged' whatever the method.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGpt, saveGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt, initGpt } from '../src/engine/lm/gpt';
import { hfFamily, loadHfModel, type HfModelFiles } from '../src/engine/lm/hf';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { parseSafetensors, serializeSafetensors, type SafetensorsInput } from '../src/engine/lm/safetensors';
import { useBackend } from './helpers/backend';
import { bpeTokenizerJson, gpt2Config, gpt2Tensors, neoxConfig, neoxTensors, safetensorsOf, type ModelSpec, type Tensors } from './helpers/hf-fixtures';

const CORPUS = 'the cat sat on the mat; the dog ran.\n'.repeat(4);
const GPT2_TOK = bpeTokenizerJson(CORPUS, 4, 'gpt2');
const NEOX_TOK = bpeTokenizerJson(CORPUS, 4, 'neox');
const G2: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(GPT2_TOK).vocab, nPos: 16, inner: 16 };
const NX: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(NEOX_TOK).vocab, nPos: 16, inner: 16 };
const gpt2Files = (t: Tensors = gpt2Tensors(G2, 1), extra: Record<string, unknown> = {}): HfModelFiles => ({
  config: JSON.stringify(gpt2Config(G2, extra)),
  weights: safetensorsOf(t),
  tokenizer: GPT2_TOK,
});
const neoxFiles = (t: Tensors = neoxTensors(NX, 2), extra: Record<string, unknown> = {}): HfModelFiles => ({
  config: JSON.stringify(neoxConfig(NX, 0.5, extra)),
  weights: safetensorsOf(t),
  tokenizer: NEOX_TOK,
});

/** The tensors with element `i` of `name` set to `value`. */
function poisoned(t: Tensors, name: string, i: number, value: number): Tensors {
  const out: Tensors = new Map([...t].map(([k, x]) => [k, { shape: x.shape, data: x.data.slice() }]));
  out.get(name)!.data[i] = value;
  return out;
}

beforeAll(async () => {
  await useBackend();
});

describe('non-finite weights', () => {
  it('a Hugging Face checkpoint with a NaN or Infinity weight is refused naming the tensor and the element', async () => {
    const before = tf.memory().numTensors;
    await expect(loadHfModel(gpt2Files(poisoned(gpt2Tensors(G2, 1), 'h.0.attn.c_attn.weight', 17, NaN)))).rejects.toThrow(
      /^model\.safetensors: tensor "h\.0\.attn\.c_attn\.weight" holds non-finite values \(NaN at element 17\); the checkpoint is damaged\.$/,
    );
    const twice = poisoned(poisoned(neoxTensors(NX, 2), 'embed_out.weight', 3, -Infinity), 'embed_out.weight', 9, Infinity);
    await expect(loadHfModel(neoxFiles(twice))).rejects.toThrow(
      /tensor "embed_out\.weight" holds non-finite values \(-Infinity at element 3, and 1 more of the [\d,]+\)/,
    );
    // A tensor the lab does not use (GPT-2's attention mask buffer) is checked too: the file is damaged.
    const withBuffer = new Map(gpt2Tensors(G2, 1)).set('h.0.attn.masked_bias', { shape: [1], data: Float32Array.of(NaN) });
    await expect(loadHfModel(gpt2Files(withBuffer))).rejects.toThrow(/tensor "h\.0\.attn\.masked_bias" holds non-finite values/);
    expect(tf.memory().numTensors).toBe(before);
    // The codec itself still decodes such values when asked to (the format allows them).
    const raw = parseSafetensors(safetensorsOf(withBuffer));
    expect(Number.isNaN(raw.tensors.get('h.0.attn.masked_bias')!.data[0])).toBe(true);
  });

  it("the lab's own checkpoint with a NaN weight is refused naming the tensor", async () => {
    const m = initGpt({ vocab: 8, context: 8, layers: 2, heads: 2, dModel: 8, norm: 'rms' }, 1);
    const good = await saveGpt(m);
    disposeGpt(m);
    const { tensors, metadata } = parseSafetensors(good);
    const list: SafetensorsInput[] = [...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: (t.data as Float32Array).slice() }));
    list.find((t) => t.name === 'h1.wfc')!.data[5] = NaN;
    const before = tf.memory().numTensors;
    expect(() => loadGpt(serializeSafetensors(list, metadata), { name: 'ckpt.safetensors' })).toThrow(
      'ckpt.safetensors: tensor "h1.wfc" holds non-finite values (NaN at element 5); the checkpoint is damaged.',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('config values by type (zod)', () => {
  it('config.json\'s "use_parallel_residual": "false" is refused naming the key and the type, not read as true', async () => {
    expect(() => hfFamily(JSON.stringify(neoxConfig(NX, 0.5, { use_parallel_residual: 'false' })))).toThrow(
      'config.json: use_parallel_residual is "false"; it must be true or false (a JSON boolean, not a string)',
    );
    const before = tf.memory().numTensors;
    await expect(loadHfModel(neoxFiles(undefined, { use_parallel_residual: 'false' }))).rejects.toThrow(
      /use_parallel_residual is "false"; it must be true or false/,
    );
    await expect(loadHfModel(gpt2Files(undefined, { tie_word_embeddings: 0 }))).rejects.toThrow(
      'config.json: tie_word_embeddings is 0; it must be true or false',
    );
    await expect(loadHfModel(gpt2Files(undefined, { n_head: '2' }))).rejects.toThrow(
      'config.json: n_head is "2"; it must be a positive integer (a JSON number, not a string)',
    );
    await expect(loadHfModel(neoxFiles(undefined, { rotary_pct: 1.5 }))).rejects.toThrow('config.json: rotary_pct is 1.5; it must be a number in (0, 1]');
    await expect(loadHfModel(neoxFiles(undefined, { rope_parameters: { rope_theta: 'big' } }))).rejects.toThrow(
      'config.json: rope_parameters.rope_theta is "big"; it must be a positive number',
    );
    // JSON reads 1e400 as Infinity, which is no positive number.
    const huge = { ...gpt2Files(), config: JSON.stringify(gpt2Config(G2, { layer_norm_epsilon: 1234.5 })).replace('1234.5', '1e400') };
    await expect(loadHfModel(huge)).rejects.toThrow('config.json: layer_norm_epsilon is null; it must be a positive number');
    expect(tf.memory().numTensors).toBe(before);
    // A real boolean false is read as false (a sequential residual).
    const { model } = await loadHfModel(neoxFiles(undefined, { use_parallel_residual: false }));
    expect(model.config.parallelResidual).toBe(false);
    disposeGpt(model);
  });

  it('real GPT-2, distilgpt2 and Pythia configs (with their many other keys and nulls) pass the type check', () => {
    const gpt2 = {
      activation_function: 'gelu_new',
      architectures: ['GPT2LMHeadModel'],
      attn_pdrop: 0.1,
      bos_token_id: 50256,
      embd_pdrop: 0.1,
      eos_token_id: 50256,
      initializer_range: 0.02,
      layer_norm_epsilon: 1e-5,
      model_type: 'gpt2',
      n_ctx: 1024,
      n_embd: 768,
      n_head: 12,
      n_layer: 12,
      n_positions: 1024,
      resid_pdrop: 0.1,
      summary_activation: null,
      summary_first_dropout: 0.1,
      summary_proj_to_labels: true,
      summary_type: 'cls_index',
      summary_use_proj: true,
      task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
      vocab_size: 50257,
    };
    const distil = { ...gpt2, _name_or_path: 'distilgpt2', _num_labels: 1, n_layer: 6, id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 }, n_inner: null };
    const pythia = {
      architectures: ['GPTNeoXForCausalLM'],
      bos_token_id: 0,
      classifier_dropout: 0.1,
      eos_token_id: 0,
      hidden_act: 'gelu',
      hidden_size: 128,
      initializer_range: 0.02,
      intermediate_size: 512,
      layer_norm_eps: 1e-5,
      max_position_embeddings: 2048,
      model_type: 'gpt_neox',
      num_attention_heads: 4,
      num_hidden_layers: 6,
      rotary_emb_base: 10000,
      rotary_pct: 0.25,
      tie_word_embeddings: false,
      torch_dtype: 'float16',
      transformers_version: '4.24.0',
      use_cache: true,
      use_parallel_residual: true,
      vocab_size: 50304,
      rope_scaling: null,
      attention_bias: true,
      attention_dropout: 0,
      hidden_dropout: 0,
    };
    const newer = { ...pythia, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.25 } };
    for (const c of [gpt2, distil]) expect(hfFamily(JSON.stringify(c)).family).toBe('gpt2');
    for (const c of [pythia, newer]) expect(hfFamily(JSON.stringify(c)).family).toBe('gpt-neox');
  });

  it("the lab's own checkpoint metadata is checked by type", async () => {
    const m = initGpt({ vocab: 4, context: 8, layers: 1, heads: 2, dModel: 8, norm: 'rms' }, 1);
    const good = await saveGpt(m, { chars: ['a', 'b', 'c', 'd'] });
    disposeGpt(m);
    const { tensors, metadata } = parseSafetensors(good);
    const list: SafetensorsInput[] = [...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data as Float32Array }));
    const load = (md: Record<string, string>) => () => loadGpt(serializeSafetensors(list, md), { name: 'c.safetensors' });
    const config = JSON.parse(metadata.config) as Record<string, unknown>;
    expect(load({ ...metadata, config: JSON.stringify({ ...config, bitnet: 'false' }) })).toThrow(
      'c.safetensors: the config\'s "bitnet" is "false", not true or false',
    );
    expect(load({ ...metadata, config: JSON.stringify({ ...config, heads: '2' }) })).toThrow('the config\'s "heads" is "2", not a positive integer');
    expect(load({ ...metadata, config: JSON.stringify({ ...config, context: 1e6 }) })).toThrow(
      /the config's "context" is 1000000, not a positive integer up to 8192/,
    );
    const { vocab: _v, ...noVocab } = config;
    expect(load({ ...metadata, config: JSON.stringify(noVocab) })).toThrow('the config has no "vocab" (a positive integer)');
    // A config asking for far more weights than the file holds is refused before anything is allocated.
    expect(load({ ...metadata, config: JSON.stringify({ ...config, mlpHidden: 1e9 }) })).toThrow(/needs at least [\d,]+ weights, but the file holds [\d,]+/);
    expect(load({ ...metadata, valFraction: '"0.1"' })).toThrow('the metadata\'s "valFraction" is "0.1", not a number');
    expect(load({ ...metadata, lmFp: '[1, 2]' })).toThrow('the metadata\'s "lmFp" is [1,2], not an object');
    expect(load({ ...metadata, chars: '"abcd"' })).toThrow('the metadata\'s "chars" is "abcd", not a list of single characters');
  });
});
