/**
 * A decoder-only transformer (nanoGPT-like): learned positional embeddings, tied input/output
 * embeddings, pre-norm blocks of causal multi-head self-attention and a GELU MLP (4·dModel).
 * Linear weights are stored [in, out] and applied to 2-D [B·T, in] activations with the
 * engine's `linear` (explicit-transpose backward). The token embedding is stored [dModel, vocab],
 * i.e. as the output head's [in, out] weight; the input embedding picks its columns.
 *
 * Optional settings (all absent = the model above) cover the GPT-2 and GPT-NeoX checkpoints:
 * an untied output head, rotary positions on part of each head (NeoX), a parallel residual
 * (NeoX), the tanh GELU (GPT-2's gelu_new), the norm epsilon, the MLP width, and a gather
 * lookup of the token embedding for large vocabularies.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu, linear } from '../core/ops';
import { Rng } from '../core/rng';
import { fakeQuantLayer, fakeQuantLayerInput } from '../core/fakequant';
import { activationOnly, type LayerQuant } from '../core/layerquant';
import type { Rotation } from '../core/rotation';
import { useFused } from '../core/kernels';
import { causalAttentionFused, crossEntropySumFused, embedGather, geluTanh, rmsNormFused, ropeTables, rotary } from './gptops';

export interface GptConfig {
  vocab: number;
  /** Maximum sequence length (positional embeddings and the causal mask). */
  context: number;
  layers: number;
  heads: number;
  dModel: number;
  norm: 'rms' | 'layer';
  /** BitNet-style: a parameter-free RMSNorm on the input of every attention / MLP linear. */
  bitnet?: boolean;
  /** 'learned' (default): wpe [context, dModel] is added to the embedding. 'rotary' (GPT-NeoX): q and k
   * are rotated instead, and wpe is an empty [0, dModel] constant outside gptParams. */
  positions?: 'learned' | 'rotary';
  /** Rotary: fraction of each head's dims that rotate (NeoX rotary_pct; default 1): ⌊headDim·pct⌋, even. */
  rotaryPct?: number;
  /** Rotary: the base of the frequencies (NeoX rotary_emb_base; default 10000). */
  rotaryBase?: number;
  /** GPT-NeoX's parallel residual, x + attn(norm1 x) + mlp(norm2 x) (default: sequential). */
  parallelResidual?: boolean;
  /** The MLP's GELU: 'exact' x·Φ(x) (default) or 'tanh', the tanh approximation (GPT-2's gelu_new). */
  gelu?: 'exact' | 'tanh';
  /** The norms' epsilon (default 1e-5). */
  normEps?: number;
  /** A separate output head weight `head` [dModel, vocab] instead of the tied token embedding. */
  untiedHead?: boolean;
  /** The MLP's hidden width (default 4·dModel). */
  mlpHidden?: number;
  /** Token lookup: 'onehot' (one-hot · Eᵀ) or 'gather' (gather forward, scatter-add gradient).
   * Default: one-hot for vocab ≤ 1024, gather above (a one-hot [B·T, 50257] is wasteful). */
  embedLookup?: 'onehot' | 'gather';
}

export interface GptBlock {
  norm1: tf.Variable[];
  wqkv: tf.Variable;
  bqkv: tf.Variable;
  wo: tf.Variable;
  bo: tf.Variable;
  norm2: tf.Variable[];
  wfc: tf.Variable;
  bfc: tf.Variable;
  wproj: tf.Variable;
  bproj: tf.Variable;
}

export interface Gpt {
  config: GptConfig;
  /** Token embedding, [dModel, vocab] (also the output head's weight). */
  wte: tf.Variable;
  /** Positional embedding, [context, dModel]; with rotary positions an empty, non-trainable [0, dModel]. */
  wpe: tf.Variable;
  blocks: GptBlock[];
  normF: tf.Variable[];
  /** Output bias, [vocab]. */
  headBias: tf.Variable;
  /** Causal additive mask [context, context]: 0 on and below the diagonal, −1e9 above (not trained). */
  mask: tf.Tensor2D;
  /** The output head's weight [dModel, vocab] when config.untiedHead (else the head is wte). */
  head?: tf.Variable;
  /** Rotary tables [context, rotary dims] (not trained): cos, and sin with the first half negated. */
  rope?: { cos: tf.Tensor2D; sin: tf.Tensor2D };
}

/**
 * A block component's quantizer. k-means: `codebooks` holds one codebook per weight matrix
 * (keyed by its variable; quantize.ts refreshGptCodebooks), used instead of `codebook`.
 */
export type GptLayerQuant = LayerQuant & {
  codebooks?: Map<tf.Variable, tf.Tensor>;
  /** What differs per linear (keyed by gptLinears name, e.g. "h0.attn.qkv"): a static activation amax, AWQ / SmoothQuant scales. */
  linears?: Map<string, LinearQuant>;
};

/** A block linear's own part of its component's quantizer. */
export type LinearQuant = Pick<LayerQuant, 'actAmax' | 'smooth'>;

/** A component's activation side only (weights already on the grid), its per-linear amax and scales copied. */
export function gptActivationOnly(l: GptLayerQuant): GptLayerQuant {
  const out: GptLayerQuant = activationOnly(l);
  if (l.linears) out.linears = new Map([...l.linears].map(([k, v]) => [k, { ...v }]));
  return out;
}

/** Which weight matrices are fake-quantized (straight-through) in a forward pass. */
export interface GptQuant {
  /** wqkv and wo of every block. */
  attn?: GptLayerQuant;
  /** wfc and wproj of every block. */
  mlp?: GptLayerQuant;
  /** The token embedding as the input table. */
  embed?: LayerQuant;
  /** The output head's weight (the tied token embedding, or `head` when untied). */
  head?: LayerQuant;
  /** Online Hadamard rotations of block linears' inputs, by role (lm/rotate.ts): the weight quantized as R·q(Rᵀ·W). */
  rotate?: Partial<Record<LinearRole, Rotation>>;
}

/** A block linear's place: attention's qkv and output projection, the MLP's up (fc) and down (proj) projection. */
export type LinearRole = 'qkv' | 'out' | 'fc' | 'proj';

/**
 * Hooks into every linear layer of a forward pass (identified by its weight variable):
 * `input` sees the layer's input (GPTQ Hessians, local errors), `weight` may substitute the
 * weight used (e.g. a frozen quantized copy), `delta` adds a term to the output (LoRA x·A·B).
 * `embed` and `head` may substitute the token table of the input embedding and the output
 * head's weight (tied: both are given `wte`); a substitute still passes the component's quantizer.
 */
export interface LinearHooks {
  input?: (w: tf.Variable, x: tf.Tensor) => void;
  weight?: (w: tf.Variable) => tf.Tensor | null;
  delta?: (w: tf.Variable, x: tf.Tensor) => tf.Tensor | null;
  embed?: (w: tf.Variable) => tf.Tensor | null;
  head?: (w: tf.Variable) => tf.Tensor | null;
}

/** A linear layer of the model, named like "h0.attn.qkv", with its quantization component. */
export interface GptLinear {
  name: string;
  component: 'attn' | 'mlp';
  role: LinearRole;
  block: number;
  w: tf.Variable;
  b: tf.Variable;
}

/** The block linears in forward order (qkv, attn out, fc, proj per block). */
export function gptLinears(m: Gpt): GptLinear[] {
  return m.blocks.flatMap((blk, i) => [
    { name: `h${i}.attn.qkv`, component: 'attn' as const, role: 'qkv' as const, block: i, w: blk.wqkv, b: blk.bqkv },
    { name: `h${i}.attn.out`, component: 'attn' as const, role: 'out' as const, block: i, w: blk.wo, b: blk.bo },
    { name: `h${i}.mlp.fc`, component: 'mlp' as const, role: 'fc' as const, block: i, w: blk.wfc, b: blk.bfc },
    { name: `h${i}.mlp.proj`, component: 'mlp' as const, role: 'proj' as const, block: i, w: blk.wproj, b: blk.bproj },
  ]);
}

const NORM_EPS = 1e-5;
const MASK_NEG = -1e9;
/** Above this vocabulary the token embedding is gathered rather than one-hot multiplied (by default). */
const GATHER_VOCAB = 1024;
/** Up to this vocabulary the cross-entropy is one fused kernel on WebGPU (one thread per row walks the vocabulary). */
const FUSED_CE_VOCAB = 4096;

const headDim = (c: GptConfig) => c.dModel / c.heads;
/** The rotated dims of each head (GPT-NeoX: int(headDim · rotary_pct)); 0 without rotary positions. */
export function rotaryDims(c: GptConfig): number {
  return c.positions === 'rotary' ? Math.floor(headDim(c) * (c.rotaryPct ?? 1)) : 0;
}
const mlpWidth = (c: GptConfig) => c.mlpHidden ?? 4 * c.dModel;

function checkConfig(c: GptConfig): void {
  for (const k of ['vocab', 'context', 'layers', 'heads', 'dModel'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`GptConfig.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.dModel % c.heads !== 0) throw new Error(`GptConfig: dModel ${c.dModel} is not divisible by heads ${c.heads}`);
  if (c.mlpHidden !== undefined && (!Number.isInteger(c.mlpHidden) || c.mlpHidden < 1))
    throw new Error(`GptConfig.mlpHidden must be a positive integer, got ${c.mlpHidden}`);
  if (c.normEps !== undefined && !(c.normEps > 0)) throw new Error(`GptConfig.normEps must be positive, got ${c.normEps}`);
  if (c.positions === 'rotary') {
    const pct = c.rotaryPct ?? 1;
    if (!(pct > 0 && pct <= 1)) throw new Error(`GptConfig.rotaryPct must be in (0, 1], got ${pct}`);
    if (!((c.rotaryBase ?? 10000) > 0)) throw new Error(`GptConfig.rotaryBase must be positive, got ${c.rotaryBase}`);
    const rd = rotaryDims(c);
    if (rd < 2 || rd % 2 !== 0) throw new Error(`GptConfig: rotary dims ⌊${headDim(c)}·${pct}⌋ = ${rd} must be even and at least 2`);
  }
}

/** N(0, std²) values from the seeded stream (Box–Muller). */
function normals(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(t) * std;
  }
  return out;
}

const v = (build: () => tf.Tensor, trainable = true) => tf.tidy(() => tf.variable(build(), trainable));

/**
 * The tensor of each named weight, of the given shape. Names: wte [d, vocab], wpe [context, d]
 * (rotary positions: [0, d], empty), h{i}.norm1.gain/.bias, h{i}.attn.qkv.w [d, 3d] / .b, h{i}.attn.out.w
 * [d, d] / .b, h{i}.norm2.gain/.bias, h{i}.mlp.fc.w [d, f] / .b, h{i}.mlp.proj.w [f, d] / .b,
 * normF.gain/.bias, headBias [vocab], head [d, vocab] (untied only). Norm biases: LayerNorm only.
 * Linear weights are [in, out]; q, k, v are the thirds of qkv's columns, heads contiguous in each.
 */
export type GptTensorSource = (name: string, shape: number[]) => tf.Tensor;

/** A model from named tensors (see GptTensorSource); each must have the requested shape. A failed build keeps no tensors. */
export function buildGpt(config: GptConfig, source: GptTensorSource): Gpt {
  checkConfig(config);
  const made: tf.Variable[] = [];
  const get = (name: string, shape: number[], trainable = true) => {
    const x = v(() => {
      const t = source(name, shape);
      if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i]))
        throw new Error(`buildGpt: ${name} has shape [${t.shape}], expected [${shape}]`);
      return t;
    }, trainable);
    made.push(x);
    return x;
  };
  try {
    return assembleGpt(config, get);
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

function assembleGpt(config: GptConfig, get: (name: string, shape: number[], trainable?: boolean) => tf.Variable): Gpt {
  const { vocab, context, layers, dModel: d } = config;
  const f = mlpWidth(config);
  const norm = (p: string) => (config.norm === 'layer' ? [get(`${p}.gain`, [d]), get(`${p}.bias`, [d])] : [get(`${p}.gain`, [d])]);
  const isRotary = config.positions === 'rotary';
  const wte = get('wte', [d, vocab]);
  const wpe = isRotary ? get('wpe', [0, d], false) : get('wpe', [context, d]);
  const blocks: GptBlock[] = Array.from({ length: layers }, (_, i) => ({
    norm1: norm(`h${i}.norm1`),
    wqkv: get(`h${i}.attn.qkv.w`, [d, 3 * d]),
    bqkv: get(`h${i}.attn.qkv.b`, [3 * d]),
    wo: get(`h${i}.attn.out.w`, [d, d]),
    bo: get(`h${i}.attn.out.b`, [d]),
    norm2: norm(`h${i}.norm2`),
    wfc: get(`h${i}.mlp.fc.w`, [d, f]),
    bfc: get(`h${i}.mlp.fc.b`, [f]),
    wproj: get(`h${i}.mlp.proj.w`, [f, d]),
    bproj: get(`h${i}.mlp.proj.b`, [d]),
  }));
  const normF = norm('normF');
  const headBias = get('headBias', [vocab]);
  const head = config.untiedHead ? get('head', [d, vocab]) : undefined;
  const mask = tf.tidy(() => {
    const lower = tf.linalg.bandPart(tf.ones([context, context]), -1, 0);
    return tf.mul(tf.sub(1, lower), MASK_NEG) as tf.Tensor2D;
  });
  const m: Gpt = { config: { ...config }, wte, wpe, blocks, normF, headBias, mask };
  if (head) m.head = head;
  if (isRotary) m.rope = ropeTables(context, rotaryDims(config), config.rotaryBase ?? 10000);
  return m;
}

/** nanoGPT's init: weights N(0, 0.02²), residual projections N(0, (0.02/√(2·layers))²), biases 0, norm gains 1. */
export function initGpt(config: GptConfig, seed: number): Gpt {
  checkConfig(config);
  const rng = new Rng(seed);
  const resStd = 0.02 / Math.sqrt(2 * config.layers);
  return buildGpt(config, (name, shape) => {
    if (name.endsWith('.gain')) return tf.ones(shape);
    if (shape.includes(0)) return tf.zeros(shape);
    if (name.endsWith('.b') || name.endsWith('.bias') || name === 'headBias') return tf.zeros(shape);
    const std = /\.(attn\.out|mlp\.proj)\.w$/.test(name) ? resStd : 0.02;
    return tf.tensor2d(normals(rng, shape[0] * shape[1], std), shape as [number, number]);
  });
}

/** Every trainable variable, in a fixed order (an untied head last; no wpe with rotary positions). */
export function gptParams(m: Gpt): tf.Variable[] {
  const out = m.config.positions === 'rotary' ? [m.wte] : [m.wte, m.wpe];
  for (const b of m.blocks) out.push(...b.norm1, b.wqkv, b.bqkv, b.wo, b.bo, ...b.norm2, b.wfc, b.bfc, b.wproj, b.bproj);
  out.push(...m.normF, m.headBias);
  if (m.head) out.push(m.head);
  return out;
}

/** Every tensor the model owns: its parameters and its constants (mask, rotary tables, empty wpe). */
export function gptTensors(m: Gpt): tf.Tensor[] {
  const out: tf.Tensor[] = gptParams(m);
  if (m.config.positions === 'rotary') out.push(m.wpe);
  out.push(m.mask);
  if (m.rope) out.push(m.rope.cos, m.rope.sin);
  return out;
}

/** The number of trainable parameters. */
export function gptParamCount(m: Gpt): number {
  return gptParams(m).reduce((s, p) => s + p.size, 0);
}

export function disposeGpt(m: Gpt): void {
  for (const t of gptTensors(m)) t.dispose();
}

/** An independent copy (new variables, same values). */
export function cloneGpt(m: Gpt): Gpt {
  const c = (x: tf.Variable) => v(() => tf.clone(x), x.trainable);
  const norm = (xs: tf.Variable[]) => xs.map(c);
  const out: Gpt = {
    config: { ...m.config },
    wte: c(m.wte),
    wpe: c(m.wpe),
    blocks: m.blocks.map((b) => ({
      norm1: norm(b.norm1),
      wqkv: c(b.wqkv),
      bqkv: c(b.bqkv),
      wo: c(b.wo),
      bo: c(b.bo),
      norm2: norm(b.norm2),
      wfc: c(b.wfc),
      bfc: c(b.bfc),
      wproj: c(b.wproj),
      bproj: c(b.bproj),
    })),
    normF: norm(m.normF),
    headBias: c(m.headBias),
    mask: tf.clone(m.mask),
  };
  if (m.head) out.head = c(m.head);
  if (m.rope) out.rope = { cos: tf.clone(m.rope.cos), sin: tf.clone(m.rope.sin) };
  return out;
}

/** RMSNorm (one gain) or LayerNorm (gain, bias) over the last axis; no params = parameter-free RMSNorm (RMSNorm with a gain is fused on WebGPU). */
export function normalize(x: tf.Tensor, params: tf.Variable[], kind: 'rms' | 'layer', eps = NORM_EPS): tf.Tensor {
  if (kind === 'layer') {
    const { mean, variance } = tf.moments(x, -1, true);
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(y, params[0]), params[1]);
  }
  if (params.length === 1 && x.rank === 2 && useFused()) return rmsNormFused(x, params[0], eps);
  const y = tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
  return params.length ? tf.mul(y, params[0]) : y;
}

/**
 * The quantizer of one block linear: its component's, with the linear's own amax and scales
 * (`linears`), this matrix's own k-means codebook (`w`'s entry of `codebooks`) and its role's
 * online rotation when `quant` has them.
 */
export function linearQuant(quant: GptQuant | undefined, lin: Pick<GptLinear, 'name' | 'component' | 'role'>, w?: tf.Variable): GptLayerQuant | undefined {
  const lq = quant?.[lin.component];
  if (!lq) return undefined;
  const own = lq.linears?.get(lin.name);
  const cb = w ? lq.codebooks?.get(w) : undefined;
  const rot = quant?.rotate?.[lin.role];
  return own || cb || rot ? { ...lq, ...own, ...(cb ? { codebook: cb } : {}), ...(rot ? { rotation: rot } : {}) } : lq;
}

/** A linear layer of a block: optional BitNet RMSNorm, activation and weight fake-quant. */
function qLinear(m: Gpt, x: tf.Tensor, w: tf.Variable, b: tf.Variable, q?: GptLayerQuant, hooks?: LinearHooks): tf.Tensor {
  let h = m.config.bitnet ? normalize(x, [], 'rms') : x;
  if (q) h = fakeQuantLayerInput(h, q);
  hooks?.input?.(w, h);
  const base = hooks?.weight?.(w) ?? w;
  const y = linear(h, q ? fakeQuantLayer(base, q) : base, b);
  const d = hooks?.delta?.(w, h);
  return d ? tf.add(y, d) : y;
}

/** Causal multi-head self-attention on x [B·T, d]. */
function attention(m: Gpt, i: number, x: tf.Tensor, B: number, T: number, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor {
  const blk = m.blocks[i];
  const qkv = qLinear(m, x, blk.wqkv, blk.bqkv, linearQuant(quant, { name: `h${i}.attn.qkv`, component: 'attn', role: 'qkv' }, blk.wqkv), hooks);
  return qLinear(m, attentionCore(m, qkv, B, T), blk.wo, blk.bo, linearQuant(quant, { name: `h${i}.attn.out`, component: 'attn', role: 'out' }, blk.wo), hooks);
}

/**
 * The attention core on packed qkv [B·T, 3d]: softmax(q·kᵀ/√hd + causal mask)·v per head, heads
 * merged, [B·T, d]. On WebGPU (learned positions: no rotation between the projection and the
 * scores) it is four fused kernels with the same arithmetic.
 */
export function attentionCore(m: Gpt, qkv: tf.Tensor, B: number, T: number): tf.Tensor {
  const { heads: H, dModel: d } = m.config;
  const hd = d / H;
  if (!m.rope && useFused()) return causalAttentionFused(qkv, T, H);
  const heads = tf.split(qkv, 3, 1).map((t) => tf.transpose(tf.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]));
  const vh = heads[2];
  const [qh, kh] = m.rope ? [rotary(heads[0], m.rope.cos, m.rope.sin, T), rotary(heads[1], m.rope.cos, m.rope.sin, T)] : [heads[0], heads[1]];
  const mask = T === m.config.context ? m.mask : tf.slice(m.mask, [0, 0], [T, T]);
  const scores = tf.add(tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(hd)), mask);
  const y = tf.matMul(tf.softmax(scores), vh);
  return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, d]);
}

/** Token (+ learned position) embeddings of tokens [B, T] (int32): the residual stream [B·T, d]. */
export function gptEmbed(m: Gpt, tokens: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor2D {
  const [B, T] = tokens.shape as [number, number];
  const { context, dModel: d, vocab } = m.config;
  if (tokens.rank !== 2 || tokens.dtype !== 'int32') throw new Error(`gptForward: tokens must be int32 [B, T], got ${tokens.dtype} [${tokens.shape}]`);
  if (T > context) throw new Error(`gptForward: sequence length ${T} exceeds the context ${context}`);
  const table = hooks?.embed?.(m.wte) ?? m.wte;
  const embedW = quant?.embed ? fakeQuantLayer(table, quant.embed) : table;
  const ids = tf.reshape(tokens, [B * T]) as tf.Tensor1D;
  // One-hot · Eᵀ for small vocabularies (Gather's own gradient needs UnsortedSegmentSum, which wasm lacks).
  const gather = (m.config.embedLookup ?? (vocab > GATHER_VOCAB ? 'gather' : 'onehot')) === 'gather';
  const tok = gather ? embedGather(embedW, ids) : tf.matMul(tf.oneHot(ids, vocab), tf.transpose(embedW)); // [B·T, d]
  if (m.config.positions === 'rotary') return tok as tf.Tensor2D;
  const pos = T === context ? m.wpe : tf.slice(m.wpe, [0, 0], [T, d]);
  return tf.reshape(tf.add(tf.reshape(tok, [B, T, d]), pos), [B * T, d]) as tf.Tensor2D;
}

/** Block `i` on the residual stream x [B·T, d] of B sequences of length T. */
export function gptBlock(m: Gpt, i: number, x: tf.Tensor, B: number, T: number, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor2D {
  const blk = m.blocks[i];
  const { norm, normEps: eps, parallelResidual } = m.config;
  const act = m.config.gelu === 'tanh' ? geluTanh : gelu;
  const attn = attention(m, i, normalize(x, blk.norm1, norm, eps), B, T, quant, hooks);
  const mlp = (y: tf.Tensor) => {
    const fcq = linearQuant(quant, { name: `h${i}.mlp.fc`, component: 'mlp', role: 'fc' }, blk.wfc);
    const h = act(qLinear(m, normalize(y, blk.norm2, norm, eps), blk.wfc, blk.bfc, fcq, hooks));
    return qLinear(m, h, blk.wproj, blk.bproj, linearQuant(quant, { name: `h${i}.mlp.proj`, component: 'mlp', role: 'proj' }, blk.wproj), hooks);
  };
  if (parallelResidual) return tf.add(tf.add(x, attn), mlp(x)) as tf.Tensor2D;
  const a = tf.add(x, attn);
  return tf.add(a, mlp(a)) as tf.Tensor2D;
}

/** The output head's weight [dModel, vocab]: the untied `head`, or the token embedding. */
export function gptHeadWeight(m: Gpt): tf.Variable {
  return m.head ?? m.wte;
}

/** Final norm and output head: logits [B·T, vocab] from the residual stream [B·T, d]. */
export function gptHead(m: Gpt, x: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor2D {
  const v = gptHeadWeight(m);
  const w = hooks?.head?.(v) ?? v;
  const headW = quant?.head ? fakeQuantLayer(w, quant.head) : w;
  return linear(normalize(x, m.normF, m.config.norm, m.config.normEps), headW, m.headBias) as tf.Tensor2D;
}

/** Logits [B, T, vocab] for tokens [B, T] (int32), weights fake-quantized per component. */
export function gptForward(m: Gpt, tokens: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor3D {
  const [B, T] = tokens.shape as [number, number];
  let x: tf.Tensor = gptEmbed(m, tokens, quant, hooks);
  for (let i = 0; i < m.blocks.length; i++) x = gptBlock(m, i, x, B, T, quant, hooks);
  return tf.reshape(gptHead(m, x, quant, hooks), [B, T, m.config.vocab]) as tf.Tensor3D;
}

/** Sum over all positions of −log p(target) (targets int32 [B, T]). */
export function gptNllSum(m: Gpt, tokens: tf.Tensor, targets: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Scalar {
  return nllSum(gptForward(m, tokens, quant, hooks), targets);
}

/** Σ of −log softmax(logits)[target] over all positions (logits [..., vocab], targets int32 [...]); one fused kernel each way on WebGPU. */
export function nllSum(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  const vocab = logits.shape[logits.rank - 1];
  if (vocab <= FUSED_CE_VOCAB && useFused()) return crossEntropySumFused(tf.reshape(logits, [-1, vocab]), tf.reshape(targets, [-1]));
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, vocab]));
  const onehot = tf.oneHot(tf.reshape(targets, [-1]), vocab);
  return tf.neg(tf.sum(tf.mul(logp, onehot))) as tf.Scalar;
}

/** Mean cross-entropy (nats per token) over all positions. */
export function gptLoss(m: Gpt, tokens: tf.Tensor, targets: tf.Tensor, quant?: GptQuant): tf.Scalar {
  return tf.div(gptNllSum(m, tokens, targets, quant), targets.size) as tf.Scalar;
}
