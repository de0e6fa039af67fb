/**
 * Test fixtures for Hugging Face checkpoints, made in the test (no network): tiny random GPT-2
 * and GPT-NeoX checkpoints with the real tensor names and layouts, their config.json, a small
 * byte-level BPE tokenizer.json trained here, and reference forward passes in plain Float64
 * TypeScript written from the Hugging Face modeling code (independent of the engine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src/engine/core/rng';
import { parseHfTokenizer } from '../../src/engine/lm/hftokenizer';
import { serializeSafetensors, type SafetensorsInput } from '../../src/engine/lm/safetensors';

export interface RawTensor {
  shape: number[];
  data: Float32Array;
}
export type Tensors = Map<string, RawTensor>;

export interface ModelSpec {
  layers: number;
  d: number;
  heads: number;
  vocab: number;
  nPos: number;
  inner: number;
}

function randn(rng: Rng, n: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

/** GPT-2 tensors (GPT2LMHeadModel names, Conv1D [in, out] weights). */
export function gpt2Tensors(s: ModelSpec, seed: number, o: { prefix?: string; untied?: boolean } = {}): Tensors {
  const rng = new Rng(seed);
  const t: Tensors = new Map();
  const p = o.prefix ?? '';
  const put = (name: string, shape: number[], std: number, mean = 0) =>
    t.set(name, {
      shape,
      data: randn(
        rng,
        shape.reduce((a, b) => a * b, 1),
        std,
        mean,
      ),
    });
  put(`${p}wte.weight`, [s.vocab, s.d], 0.5);
  put(`${p}wpe.weight`, [s.nPos, s.d], 0.3);
  for (let i = 0; i < s.layers; i++) {
    const h = `${p}h.${i}.`;
    put(`${h}ln_1.weight`, [s.d], 0.1, 1);
    put(`${h}ln_1.bias`, [s.d], 0.1);
    put(`${h}attn.c_attn.weight`, [s.d, 3 * s.d], 0.15);
    put(`${h}attn.c_attn.bias`, [3 * s.d], 0.1);
    put(`${h}attn.c_proj.weight`, [s.d, s.d], 0.15);
    put(`${h}attn.c_proj.bias`, [s.d], 0.1);
    put(`${h}ln_2.weight`, [s.d], 0.1, 1);
    put(`${h}ln_2.bias`, [s.d], 0.1);
    put(`${h}mlp.c_fc.weight`, [s.d, s.inner], 0.15);
    put(`${h}mlp.c_fc.bias`, [s.inner], 0.1);
    put(`${h}mlp.c_proj.weight`, [s.inner, s.d], 0.1);
    put(`${h}mlp.c_proj.bias`, [s.d], 0.1);
  }
  put(`${p}ln_f.weight`, [s.d], 0.1, 1);
  put(`${p}ln_f.bias`, [s.d], 0.1);
  if (o.untied) put('lm_head.weight', [s.vocab, s.d], 0.5);
  return t;
}

/** GPT-NeoX tensors (GPTNeoXForCausalLM names, nn.Linear [out, in] weights, per-head q/k/v rows). */
export function neoxTensors(s: ModelSpec, seed: number): Tensors {
  const rng = new Rng(seed);
  const t: Tensors = new Map();
  const put = (name: string, shape: number[], std: number, mean = 0) =>
    t.set(name, {
      shape,
      data: randn(
        rng,
        shape.reduce((a, b) => a * b, 1),
        std,
        mean,
      ),
    });
  put('gpt_neox.embed_in.weight', [s.vocab, s.d], 0.5);
  for (let i = 0; i < s.layers; i++) {
    const h = `gpt_neox.layers.${i}.`;
    put(`${h}input_layernorm.weight`, [s.d], 0.1, 1);
    put(`${h}input_layernorm.bias`, [s.d], 0.1);
    put(`${h}post_attention_layernorm.weight`, [s.d], 0.1, 1);
    put(`${h}post_attention_layernorm.bias`, [s.d], 0.1);
    put(`${h}attention.query_key_value.weight`, [3 * s.d, s.d], 0.15);
    put(`${h}attention.query_key_value.bias`, [3 * s.d], 0.1);
    put(`${h}attention.dense.weight`, [s.d, s.d], 0.15);
    put(`${h}attention.dense.bias`, [s.d], 0.1);
    put(`${h}mlp.dense_h_to_4h.weight`, [s.inner, s.d], 0.15);
    put(`${h}mlp.dense_h_to_4h.bias`, [s.inner], 0.1);
    put(`${h}mlp.dense_4h_to_h.weight`, [s.d, s.inner], 0.1);
    put(`${h}mlp.dense_4h_to_h.bias`, [s.d], 0.1);
  }
  put('gpt_neox.final_layer_norm.weight', [s.d], 0.1, 1);
  put('gpt_neox.final_layer_norm.bias', [s.d], 0.1);
  put('embed_out.weight', [s.vocab, s.d], 0.5);
  return t;
}

export function gpt2Config(s: ModelSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _name_or_path: 'tiny-gpt2',
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    n_embd: s.d,
    n_layer: s.layers,
    n_head: s.heads,
    n_positions: s.nPos,
    n_ctx: s.nPos,
    n_inner: s.inner === 4 * s.d ? null : s.inner,
    vocab_size: s.vocab,
    layer_norm_epsilon: 1e-5,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    bos_token_id: s.vocab - 1,
    eos_token_id: s.vocab - 1,
    ...extra,
  };
}

export function neoxConfig(s: ModelSpec, rotaryPct: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _name_or_path: 'tiny-neox',
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    hidden_act: 'gelu',
    hidden_size: s.d,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    intermediate_size: s.inner,
    max_position_embeddings: s.nPos,
    rotary_pct: rotaryPct,
    rotary_emb_base: 10000,
    use_parallel_residual: true,
    tie_word_embeddings: false,
    layer_norm_eps: 1e-5,
    vocab_size: s.vocab,
    ...extra,
  };
}

/** A folder with a tiny GPT-2 checkpoint's three files (a BPE tokenizer with `merges` merges learned from `corpus`), as --hf-dir reads it. */
export function writeGpt2Folder(folder: string, corpus: string, merges: number, seed: number): void {
  const tok = bpeTokenizerJson(corpus, merges, 'gpt2');
  const spec: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(tok).vocab, nPos: 16, inner: 16 };
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'config.json'), JSON.stringify(gpt2Config(spec)));
  writeFileSync(path.join(folder, 'tokenizer.json'), tok);
  writeFileSync(path.join(folder, 'model.safetensors'), safetensorsOf(gpt2Tensors(spec, seed)));
}

export function safetensorsOf(t: Tensors): Uint8Array {
  const list: SafetensorsInput[] = [...t].map(([name, x]) => ({ name, dtype: 'F32', shape: x.shape, data: x.data }));
  return serializeSafetensors(list, { format: 'pt' });
}

// ---------------------------------------------------------------- tokenizer.json

/** GPT-2's bytes_to_unicode: the printable character standing for each byte. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n += 1;
    }
  }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * A byte-level BPE tokenizer.json with `merges` merges learned from `corpus`. 'gpt2': bytes first,
 * "<|endoftext|>" last, merges as "a b" strings; 'neox': "<|endoftext|>" 0 and "<|padding|>" 1
 * first, an NFC normalizer, merges as [a, b] pairs.
 */
export function bpeTokenizerJson(corpus: string, merges: number, style: 'gpt2' | 'neox'): string {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const words = new Map<string, number>();
  for (const w of corpus.match(PRE_TOKENIZE) ?? []) {
    const key = Array.from(enc.encode(w), (b) => b2u[b]).join('\u0000');
    words.set(key, (words.get(key) ?? 0) + 1);
  }
  let pieces = [...words].map(([k, c]) => ({ syms: k.split('\u0000'), c }));
  const learned: [string, string][] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const { syms, c } of pieces)
      for (let i = 0; i + 1 < syms.length; i++) counts.set(`${syms[i]}\u0000${syms[i + 1]}`, (counts.get(`${syms[i]}\u0000${syms[i + 1]}`) ?? 0) + c);
    let best = '';
    let bestC = 0;
    for (const [k, c] of counts) if (c > bestC || (c === bestC && k < best)) [best, bestC] = [k, c];
    if (bestC < 2) break;
    const [a, b] = best.split('\u0000');
    learned.push([a, b]);
    pieces = pieces.map(({ syms, c }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i += 1;
        } else out.push(syms[i]);
      }
      return { syms: out, c };
    });
  }
  const specials = style === 'neox' ? ['<|endoftext|>', '<|padding|>'] : [];
  const vocab: Record<string, number> = {};
  let id = 0;
  for (const s of specials) vocab[s] = id++;
  const byteOrder = bytesToUnicode();
  // GPT-2's byte tokens come in bytes_to_unicode's order: printable bytes first.
  const order = [...Array(256).keys()].sort((x, y) => byteOrder[x].codePointAt(0)! - byteOrder[y].codePointAt(0)!);
  for (const b of order) vocab[b2u[b]] = id++;
  for (const [a, b] of learned) vocab[a + b] = id++;
  if (style === 'gpt2') vocab['<|endoftext|>'] = id++;
  const added = [...(style === 'neox' ? specials : ['<|endoftext|>'])].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: style === 'neox' ? { type: 'NFC' } : null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: style === 'gpt2' ? learned.map(([a, b]) => `${a} ${b}`) : learned,
    },
  });
}

// ---------------------------------------------------------------- reference forward passes (Float64)

type Mat = Float64Array[]; // rows

const row = (t: RawTensor, r: number) => Float64Array.from(t.data.subarray(r * t.shape[1], (r + 1) * t.shape[1]));

function layerNorm(x: Mat, g: RawTensor, b: RawTensor, eps: number): Mat {
  return x.map((v) => {
    const mean = v.reduce((a, c) => a + c, 0) / v.length;
    const vr = v.reduce((a, c) => a + (c - mean) ** 2, 0) / v.length;
    return v.map((c, i) => ((c - mean) / Math.sqrt(vr + eps)) * g.data[i] + b.data[i]);
  });
}

/** x · W + b with W [in, out] (GPT-2 Conv1D). */
function conv1d(x: Mat, w: RawTensor, b: RawTensor): Mat {
  const [n, m] = w.shape;
  return x.map((v) => {
    const out = Float64Array.from(b.data);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j] += v[i] * w.data[i * m + j];
    return out;
  });
}

/** x · Wᵀ + b with W [out, in] (nn.Linear); b may be null. */
function linearT(x: Mat, w: RawTensor, b: RawTensor | null): Mat {
  const [m, n] = w.shape;
  return x.map((v) => {
    const out = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = b ? b.data[j] : 0;
      for (let i = 0; i < n; i++) s += v[i] * w.data[j * n + i];
      out[j] = s;
    }
    return out;
  });
}

/** Causal softmax attention of one head: q, k, v [T][hd]. */
function headAttention(q: Mat, k: Mat, v: Mat): Mat {
  const hd = q[0].length;
  return q.map((qi, t) => {
    const s = Array.from({ length: t + 1 }, (_, u) => qi.reduce((a, c, j) => a + c * k[u][j], 0) / Math.sqrt(hd));
    const mx = Math.max(...s);
    const e = s.map((z) => Math.exp(z - mx));
    const z = e.reduce((a, c) => a + c, 0);
    const out = new Float64Array(hd);
    e.forEach((w, u) => v[u].forEach((c, j) => (out[j] += (w / z) * c)));
    return out;
  });
}

/** erf to ~1e-14: Taylor series below 2.5, continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

const geluExact = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const add = (a: Mat, b: Mat): Mat => a.map((v, i) => v.map((c, j) => c + b[i][j]));

/** GPT2LMHeadModel logits [T][vocab] for one sequence. */
export function refGpt2(t: Tensors, s: ModelSpec, tokens: number[], o: { prefix?: string; untied?: boolean } = {}): Mat {
  const p = o.prefix ?? '';
  const g = (n: string) => t.get(p + n)!;
  const hd = s.d / s.heads;
  let x: Mat = tokens.map((id, pos) => row(g('wte.weight'), id).map((c, j) => c + g('wpe.weight').data[pos * s.d + j]));
  for (let i = 0; i < s.layers; i++) {
    const h = `h.${i}.`;
    const qkv = conv1d(layerNorm(x, g(`${h}ln_1.weight`), g(`${h}ln_1.bias`), 1e-5), g(`${h}attn.c_attn.weight`), g(`${h}attn.c_attn.bias`));
    const merged: Mat = tokens.map(() => new Float64Array(s.d));
    for (let hh = 0; hh < s.heads; hh++) {
      const part = (j: number) => qkv.map((v) => v.subarray(j * s.d + hh * hd, j * s.d + (hh + 1) * hd));
      headAttention(part(0), part(1), part(2)).forEach((v, r) => merged[r].set(v, hh * hd));
    }
    x = add(x, conv1d(merged, g(`${h}attn.c_proj.weight`), g(`${h}attn.c_proj.bias`)));
    const fc = conv1d(layerNorm(x, g(`${h}ln_2.weight`), g(`${h}ln_2.bias`), 1e-5), g(`${h}mlp.c_fc.weight`), g(`${h}mlp.c_fc.bias`));
    x = add(
      x,
      conv1d(
        fc.map((v) => v.map(geluNew)),
        g(`${h}mlp.c_proj.weight`),
        g(`${h}mlp.c_proj.bias`),
      ),
    );
  }
  x = layerNorm(x, g('ln_f.weight'), g('ln_f.bias'), 1e-5);
  return linearT(x, o.untied ? t.get('lm_head.weight')! : g('wte.weight'), null);
}

/** GPTNeoXForCausalLM logits [T][vocab] for one sequence (parallel residual, partial rotary). */
export function refNeox(t: Tensors, s: ModelSpec, rotaryPct: number, tokens: number[]): Mat {
  const g = (n: string) => t.get(`gpt_neox.${n}`)!;
  const hd = s.d / s.heads;
  const rd = Math.floor(hd * rotaryPct);
  const invFreq = Array.from({ length: rd / 2 }, (_, j) => 1 / 10000 ** ((2 * j) / rd));
  const rope = (v: Float64Array, pos: number) => {
    const out = Float64Array.from(v);
    for (let j = 0; j < rd; j++) {
      const a = pos * invFreq[j % (rd / 2)];
      const rot = j < rd / 2 ? -v[j + rd / 2] : v[j - rd / 2]; // rotate_half
      out[j] = v[j] * Math.cos(a) + rot * Math.sin(a);
    }
    return out;
  };
  let x: Mat = tokens.map((id) => row(g('embed_in.weight'), id));
  for (let i = 0; i < s.layers; i++) {
    const h = `layers.${i}.`;
    const qkv = linearT(
      layerNorm(x, g(`${h}input_layernorm.weight`), g(`${h}input_layernorm.bias`), 1e-5),
      g(`${h}attention.query_key_value.weight`),
      g(`${h}attention.query_key_value.bias`),
    );
    const merged: Mat = tokens.map(() => new Float64Array(s.d));
    for (let hh = 0; hh < s.heads; hh++) {
      // view(T, heads, 3·hd): head hh's q, k, v are consecutive.
      const part = (j: number) => qkv.map((v) => v.slice(hh * 3 * hd + j * hd, hh * 3 * hd + (j + 1) * hd));
      const q = part(0).map(rope);
      const k = part(1).map(rope);
      headAttention(q, k, part(2)).forEach((v, r) => merged[r].set(v, hh * hd));
    }
    const attn = linearT(merged, g(`${h}attention.dense.weight`), g(`${h}attention.dense.bias`));
    const fc = linearT(
      layerNorm(x, g(`${h}post_attention_layernorm.weight`), g(`${h}post_attention_layernorm.bias`), 1e-5),
      g(`${h}mlp.dense_h_to_4h.weight`),
      g(`${h}mlp.dense_h_to_4h.bias`),
    );
    const mlp = linearT(
      fc.map((v) => v.map(geluExact)),
      g(`${h}mlp.dense_4h_to_h.weight`),
      g(`${h}mlp.dense_4h_to_h.bias`),
    );
    x = add(add(x, attn), mlp);
  }
  x = layerNorm(x, g('final_layer_norm.weight'), g('final_layer_norm.bias'), 1e-5);
  return linearT(x, t.get('embed_out.weight')!, null);
}
