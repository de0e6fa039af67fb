/**
 * A decoder-only transformer (nanoGPT-like): learned positional embeddings, tied input/output
 * embeddings, pre-norm blocks of causal multi-head self-attention and a GELU MLP (4·dModel).
 * Linear weights are stored [in, out] and applied to 2-D [B·T, in] activations with the
 * engine's `linear` (explicit-transpose backward). The token embedding is stored [dModel, vocab],
 * i.e. as the output head's [in, out] weight; the input embedding picks its columns.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu, linear } from '../ops';
import { fakeQuantActivation } from '../quant';
import { Rng } from '../rng';
import { fakeQuantLayer, type LayerQuant } from '../weightquant';

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
  /** Positional embedding, [context, dModel]. */
  wpe: tf.Variable;
  blocks: GptBlock[];
  normF: tf.Variable[];
  /** Output bias, [vocab]. */
  headBias: tf.Variable;
  /** Causal additive mask [context, context]: 0 on and below the diagonal, −1e9 above (not trained). */
  mask: tf.Tensor2D;
}

/** Which weight matrices are fake-quantized (straight-through) in a forward pass. */
export interface GptQuant {
  /** wqkv and wo of every block. */
  attn?: LayerQuant;
  /** wfc and wproj of every block. */
  mlp?: LayerQuant;
  /** The token embedding as the input table. */
  embed?: LayerQuant;
  /** The token embedding as the output head. */
  head?: LayerQuant;
}

/**
 * Hooks into every linear layer of a forward pass (identified by its weight variable):
 * `input` sees the layer's input (GPTQ Hessians, local errors), `weight` may substitute the
 * weight used (e.g. a frozen quantized copy), `delta` adds a term to the output (LoRA x·A·B).
 */
export interface LinearHooks {
  input?: (w: tf.Variable, x: tf.Tensor) => void;
  weight?: (w: tf.Variable) => tf.Tensor | null;
  delta?: (w: tf.Variable, x: tf.Tensor) => tf.Tensor | null;
}

/** A linear layer of the model, named like "h0.attn.qkv", with its quantization component. */
export interface GptLinear {
  name: string;
  component: 'attn' | 'mlp';
  block: number;
  w: tf.Variable;
  b: tf.Variable;
}

/** The block linears in forward order (qkv, attn out, fc, proj per block). */
export function gptLinears(m: Gpt): GptLinear[] {
  return m.blocks.flatMap((blk, i) => [
    { name: `h${i}.attn.qkv`, component: 'attn' as const, block: i, w: blk.wqkv, b: blk.bqkv },
    { name: `h${i}.attn.out`, component: 'attn' as const, block: i, w: blk.wo, b: blk.bo },
    { name: `h${i}.mlp.fc`, component: 'mlp' as const, block: i, w: blk.wfc, b: blk.bfc },
    { name: `h${i}.mlp.proj`, component: 'mlp' as const, block: i, w: blk.wproj, b: blk.bproj },
  ]);
}

const NORM_EPS = 1e-5;
const MASK_NEG = -1e9;

function checkConfig(c: GptConfig): void {
  for (const k of ['vocab', 'context', 'layers', 'heads', 'dModel'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`GptConfig.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.dModel % c.heads !== 0) throw new Error(`GptConfig: dModel ${c.dModel} is not divisible by heads ${c.heads}`);
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

/** nanoGPT's init: weights N(0, 0.02²), residual projections N(0, (0.02/√(2·layers))²), biases 0, norm gains 1. */
export function initGpt(config: GptConfig, seed: number): Gpt {
  checkConfig(config);
  const { vocab, context, layers, dModel: d } = config;
  const rng = new Rng(seed);
  const mat = (rows: number, cols: number, std = 0.02) => v(() => tf.tensor2d(normals(rng, rows * cols, std), [rows, cols]));
  const zeros = (n: number) => v(() => tf.zeros([n]));
  const norm = () => (config.norm === 'layer' ? [v(() => tf.ones([d])), zeros(d)] : [v(() => tf.ones([d]))]);
  const resStd = 0.02 / Math.sqrt(2 * layers);
  const wte = mat(d, vocab);
  const wpe = mat(context, d);
  const blocks: GptBlock[] = Array.from({ length: layers }, () => ({
    norm1: norm(),
    wqkv: mat(d, 3 * d),
    bqkv: zeros(3 * d),
    wo: mat(d, d, resStd),
    bo: zeros(d),
    norm2: norm(),
    wfc: mat(d, 4 * d),
    bfc: zeros(4 * d),
    wproj: mat(4 * d, d, resStd),
    bproj: zeros(d),
  }));
  const mask = tf.tidy(() => {
    const lower = tf.linalg.bandPart(tf.ones([context, context]), -1, 0);
    return tf.mul(tf.sub(1, lower), MASK_NEG) as tf.Tensor2D;
  });
  return { config: { ...config }, wte, wpe, blocks, normF: norm(), headBias: zeros(vocab), mask };
}

/** Every trainable variable, in a fixed order. */
export function gptParams(m: Gpt): tf.Variable[] {
  const out = [m.wte, m.wpe];
  for (const b of m.blocks) out.push(...b.norm1, b.wqkv, b.bqkv, b.wo, b.bo, ...b.norm2, b.wfc, b.bfc, b.wproj, b.bproj);
  out.push(...m.normF, m.headBias);
  return out;
}

/** The number of trainable parameters. */
export function gptParamCount(m: Gpt): number {
  return gptParams(m).reduce((s, p) => s + p.size, 0);
}

export function disposeGpt(m: Gpt): void {
  for (const p of gptParams(m)) p.dispose();
  m.mask.dispose();
}

/** An independent copy (new variables, same values). */
export function cloneGpt(m: Gpt): Gpt {
  const c = (x: tf.Variable) => v(() => tf.clone(x), x.trainable);
  const norm = (xs: tf.Variable[]) => xs.map(c);
  return {
    config: { ...m.config },
    wte: c(m.wte),
    wpe: c(m.wpe),
    blocks: m.blocks.map((b) => ({
      norm1: norm(b.norm1), wqkv: c(b.wqkv), bqkv: c(b.bqkv), wo: c(b.wo), bo: c(b.bo),
      norm2: norm(b.norm2), wfc: c(b.wfc), bfc: c(b.bfc), wproj: c(b.wproj), bproj: c(b.bproj),
    })),
    normF: norm(m.normF),
    headBias: c(m.headBias),
    mask: tf.clone(m.mask),
  };
}

/** RMSNorm (one gain) or LayerNorm (gain, bias) over the last axis; no params = parameter-free RMSNorm. */
function normalize(x: tf.Tensor, params: tf.Variable[], kind: 'rms' | 'layer'): tf.Tensor {
  if (kind === 'layer') {
    const { mean, variance } = tf.moments(x, -1, true);
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, NORM_EPS)));
    return tf.add(tf.mul(y, params[0]), params[1]);
  }
  const y = tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), NORM_EPS)));
  return params.length ? tf.mul(y, params[0]) : y;
}

/** A linear layer of a block: optional BitNet RMSNorm, activation and weight fake-quant. */
function qLinear(m: Gpt, x: tf.Tensor, w: tf.Variable, b: tf.Variable, q?: LayerQuant, hooks?: LinearHooks): tf.Tensor {
  let h = m.config.bitnet ? normalize(x, [], 'rms') : x;
  if (q && q.actBits > 0) h = fakeQuantActivation(h, q.actBits);
  hooks?.input?.(w, h);
  const base = hooks?.weight?.(w) ?? w;
  const y = linear(h, q ? fakeQuantLayer(base, q) : base, b);
  const d = hooks?.delta?.(w, h);
  return d ? tf.add(y, d) : y;
}

/** Causal multi-head self-attention on x [B·T, d]. */
function attention(m: Gpt, blk: GptBlock, x: tf.Tensor, B: number, T: number, q?: LayerQuant, hooks?: LinearHooks): tf.Tensor {
  const { heads: H, dModel: d } = m.config;
  const hd = d / H;
  const qkv = qLinear(m, x, blk.wqkv, blk.bqkv, q, hooks);
  const [qh, kh, vh] = tf.split(qkv, 3, 1).map((t) => tf.transpose(tf.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]));
  const mask = T === m.config.context ? m.mask : tf.slice(m.mask, [0, 0], [T, T]);
  const scores = tf.add(tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(hd)), mask);
  const y = tf.matMul(tf.softmax(scores), vh);
  const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, d]);
  return qLinear(m, merged, blk.wo, blk.bo, q, hooks);
}

/** Token + position embeddings of tokens [B, T] (int32): the residual stream [B·T, d]. */
export function gptEmbed(m: Gpt, tokens: tf.Tensor, quant?: GptQuant): tf.Tensor2D {
  const [B, T] = tokens.shape as [number, number];
  const { context, dModel: d, vocab } = m.config;
  if (tokens.rank !== 2 || tokens.dtype !== 'int32') throw new Error(`gptForward: tokens must be int32 [B, T], got ${tokens.dtype} [${tokens.shape}]`);
  if (T > context) throw new Error(`gptForward: sequence length ${T} exceeds the context ${context}`);
  const embedW = quant?.embed ? fakeQuantLayer(m.wte, quant.embed) : m.wte;
  // One-hot · Eᵀ rather than a gather: Gather's gradient needs UnsortedSegmentSum, which wasm lacks.
  const tok = tf.matMul(tf.oneHot(tf.reshape(tokens, [B * T]), vocab), tf.transpose(embedW)); // [B·T, d]
  const pos = T === context ? m.wpe : tf.slice(m.wpe, [0, 0], [T, d]);
  return tf.reshape(tf.add(tf.reshape(tok, [B, T, d]), pos), [B * T, d]) as tf.Tensor2D;
}

/** Block `i` on the residual stream x [B·T, d] of B sequences of length T. */
export function gptBlock(m: Gpt, i: number, x: tf.Tensor, B: number, T: number, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor2D {
  const blk = m.blocks[i];
  const { norm } = m.config;
  const a = tf.add(x, attention(m, blk, normalize(x, blk.norm1, norm), B, T, quant?.attn, hooks));
  const h = gelu(qLinear(m, normalize(a, blk.norm2, norm), blk.wfc, blk.bfc, quant?.mlp, hooks));
  return tf.add(a, qLinear(m, h, blk.wproj, blk.bproj, quant?.mlp, hooks)) as tf.Tensor2D;
}

/** Final norm and output head: logits [B·T, vocab] from the residual stream [B·T, d]. */
export function gptHead(m: Gpt, x: tf.Tensor, quant?: GptQuant): tf.Tensor2D {
  const headW = quant?.head ? fakeQuantLayer(m.wte, quant.head) : m.wte;
  return linear(normalize(x, m.normF, m.config.norm), headW, m.headBias) as tf.Tensor2D;
}

/** Logits [B, T, vocab] for tokens [B, T] (int32), weights fake-quantized per component. */
export function gptForward(m: Gpt, tokens: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Tensor3D {
  const [B, T] = tokens.shape as [number, number];
  let x: tf.Tensor = gptEmbed(m, tokens, quant);
  for (let i = 0; i < m.blocks.length; i++) x = gptBlock(m, i, x, B, T, quant, hooks);
  return tf.reshape(gptHead(m, x, quant), [B, T, m.config.vocab]) as tf.Tensor3D;
}

/** Sum over all positions of −log p(target) (targets int32 [B, T]). */
export function gptNllSum(m: Gpt, tokens: tf.Tensor, targets: tf.Tensor, quant?: GptQuant, hooks?: LinearHooks): tf.Scalar {
  const logits = gptForward(m, tokens, quant, hooks);
  const { vocab } = m.config;
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, vocab]));
  const onehot = tf.oneHot(tf.reshape(targets, [-1]), vocab);
  return tf.neg(tf.sum(tf.mul(logp, onehot))) as tf.Scalar;
}

/** Mean cross-entropy (nats per token) over all positions. */
export function gptLoss(m: Gpt, tokens: tf.Tensor, targets: tf.Tensor, quant?: GptQuant): tf.Scalar {
  return tf.div(gptNllSum(m, tokens, targets, quant), targets.size) as tf.Scalar;
}
