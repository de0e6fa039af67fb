/**
 * Hadamard rotation of the transformer (QuaRot): what is folded into the weights and what runs
 * online.
 *
 * Folded (RMSNorm models without BitNet's extra norms, d_model a power of two): the residual
 * stream is rotated by one randomized Hadamard Q (d × d). RMSNorm(x·Q) = RMSNorm(x)·Q because
 * ‖x·Q‖ = ‖x‖, once each norm's gain is absorbed into the linear that reads it. So:
 * - embeddings: the token table (a row per token) and the learned positions become E·Q;
 * - every reader of the stream (attention qkv, MLP fc, output head) becomes Qᵀ·diag(g)·W, its
 *   norm's gain g set to 1;
 * - every writer (attention out, MLP proj) becomes W·Q, its bias b·Q;
 * - the output head Qᵀ·diag(g_final)·E is no longer the token table, so the folded model has an
 *   untied head (its storage is counted on its own).
 * The folded FP model computes the same logits (to float rounding): test/lm-rotate.test.ts.
 *
 * Online (core/rotation.ts, the weight quantized as R·q(Rᵀ·W)): the inputs of attention out
 * (the heads' outputs) and of the MLP down projection (after the GELU) are no residual stream,
 * and a nonlinearity or the attention sits before them, so nothing can absorb a rotation there
 * (QuaRot's online Hadamard before down_proj). LayerNorm is not rotation-invariant (it subtracts
 * the mean of the d features, and x·Q moves the mean), and BitNet's per-linear RMSNorm would see
 * the gain: those models are not folded, and every block linear gets an online rotation instead.
 */
import * as tf from '@tensorflow/tfjs';
import { nextPow2, rotateRows, rotationOf, tailStats, type Rotation } from '../core/rotation';
import type { TailStats } from '../core/runs';
import { buildGpt, disposeGpt, gptHeadWeight, gptLinears, type Gpt, type GptConfig, type GptQuant, type LinearRole } from './gpt';

/** Whether the residual stream of a model can be folded: RMSNorm, no BitNet norms, d_model a power of two. */
export function canFold(c: GptConfig): boolean {
  return c.norm === 'rms' && !c.bitnet && nextPow2(c.dModel) === c.dModel;
}

/** Why a model is not folded (null = it is). */
export function foldNote(c: GptConfig): string | null {
  if (c.norm !== 'rms') return 'LayerNorm subtracts the mean, which a rotation of the residual stream does not commute with';
  if (c.bitnet) return "BitNet's RMSNorm on every linear's input would see the absorbed norm gains";
  if (!canFold(c)) return `d_model ${c.dModel} is not a power of two`;
  return null;
}

/** The online rotations of the quantized components' linears: attention out and MLP proj when folded, every block linear otherwise. */
export function lmRotations(c: GptConfig, q: GptQuant, seed: number): Partial<Record<LinearRole, Rotation>> {
  const d = c.dModel;
  const f = c.mlpHidden ?? 4 * d;
  const fold = canFold(c);
  const out: Partial<Record<LinearRole, Rotation>> = {};
  // In forward order: qkv, out, fc, proj.
  if (q.attn?.weight && !fold) out.qkv = rotationOf(d, seed);
  if (q.attn?.weight) out.out = rotationOf(d, seed);
  if (q.mlp?.weight && !fold) out.fc = rotationOf(d, seed);
  if (q.mlp?.weight) out.proj = rotationOf(f, seed);
  return out;
}

/** a·R for a [rows, in] row-major: [rows, n] (each row rotated). */
function rotateCols(a: ArrayLike<number>, rows: number, r: Rotation): Float32Array {
  const t = new Float64Array(a.length);
  const k = r.inDim;
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) t[j * rows + i] = a[i * k + j];
  const rt = rotateRows(t, rows, r); // Rᵀ·aᵀ: [n, rows]
  const out = new Float32Array(rows * r.n);
  for (let j = 0; j < r.n; j++) for (let i = 0; i < rows; i++) out[i * r.n + j] = rt[j * rows + i];
  return out;
}

/** Qᵀ·diag(g)·W for a reader W [d, cols]. */
function foldReader(w: Float32Array, cols: number, gain: Float32Array, r: Rotation): Float32Array {
  const scaled = new Float64Array(w.length);
  for (let i = 0; i < r.inDim; i++) for (let j = 0; j < cols; j++) scaled[i * cols + j] = w[i * cols + j] * gain[i];
  return Float32Array.from(rotateRows(scaled, cols, r));
}

/**
 * A new model computing the same function with its residual stream rotated by the randomized
 * Hadamard of `seed` (see the file comment). Needs canFold(m.config). The input is untouched.
 */
export async function foldRotation(m: Gpt, seed: number): Promise<Gpt> {
  const c = m.config;
  if (!canFold(c)) throw new Error(`foldRotation: this model cannot be folded (${foldNote(c)})`);
  const d = c.dModel;
  const r = rotationOf(d, seed);
  const host = async (t: tf.Tensor) => (await t.data()) as Float32Array;
  const vals = new Map<string, Float32Array>();
  const [, V] = m.wte.shape as [number, number];
  const wte = await host(m.wte);
  vals.set('wte', Float32Array.from(rotateRows(wte, V, r)));
  vals.set('wpe', rotateCols(await host(m.wpe), m.wpe.shape[0], r));
  for (const [i, b] of m.blocks.entries()) {
    const [g1, g2] = [await host(b.norm1[0]), await host(b.norm2[0])];
    vals.set(`h${i}.attn.qkv.w`, foldReader(await host(b.wqkv), 3 * d, g1, r));
    vals.set(`h${i}.attn.qkv.b`, await host(b.bqkv));
    vals.set(`h${i}.attn.out.w`, rotateCols(await host(b.wo), b.wo.shape[0], r));
    vals.set(`h${i}.attn.out.b`, rotateCols(await host(b.bo), 1, r));
    vals.set(`h${i}.mlp.fc.w`, foldReader(await host(b.wfc), b.wfc.shape[1] as number, g2, r));
    vals.set(`h${i}.mlp.fc.b`, await host(b.bfc));
    vals.set(`h${i}.mlp.proj.w`, rotateCols(await host(b.wproj), b.wproj.shape[0], r));
    vals.set(`h${i}.mlp.proj.b`, rotateCols(await host(b.bproj), 1, r));
  }
  vals.set('head', foldReader(await host(gptHeadWeight(m)), V, await host(m.normF[0]), r));
  vals.set('headBias', await host(m.headBias));
  const config: GptConfig = { ...c, untiedHead: true };
  return buildGpt(config, (name, shape) => {
    if (name.endsWith('.gain')) return tf.ones(shape);
    const v = vals.get(name);
    if (!v) throw new Error(`foldRotation: no value for ${name}`);
    return tf.tensor(v, shape);
  });
}

/**
 * Per block linear (gptLinears order): the tails of its FP weights as stored, and as the quantizer
 * sees them under rot=hadamard with `seed` (folded when the model folds, then Rᵀ·W for the
 * online-rotated linears).
 */
export async function lmRotationTails(m: Gpt, seed: number): Promise<{ before: TailStats; after: TailStats }[]> {
  const all: GptQuant = {
    attn: { weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 },
    mlp: { weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 },
  };
  const online = lmRotations(m.config, all, seed);
  const folded = canFold(m.config) ? await foldRotation(m, seed) : null;
  try {
    const mine = gptLinears(m);
    const theirs = folded ? gptLinears(folded) : mine;
    const out: { before: TailStats; after: TailStats }[] = [];
    for (const [k, l] of mine.entries()) {
      const raw = (await l.w.data()) as Float32Array;
      const seen = (await theirs[k].w.data()) as Float32Array;
      const rot = online[l.role];
      out.push({ before: tailStats(raw), after: tailStats(rot ? rotateRows(seen, l.w.shape[1] as number, rot) : seen) });
    }
    return out;
  } finally {
    if (folded) disposeGpt(folded);
  }
}
