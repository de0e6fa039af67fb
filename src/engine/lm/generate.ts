/**
 * Autoregressive text generation from the GPT. The forward pass always runs at one fixed shape,
 * [rows, context] (the last `context` tokens, left-aligned, padded with token 0 on the right —
 * the causal mask keeps the padding from reaching the real positions), so WebGPU compiles
 * its programs once; the hidden state at the last real position is picked by a one-hot product
 * (a data-dependent value, not a data-dependent shape) and only that row goes through the head.
 * Sampling happens on the host from a seeded stream: the same seed gives the same text.
 */
import * as tf from '@tensorflow/tfjs';
import { RunControl, yieldToEventLoop } from '../core/control';
import { Rng } from '../core/rng';
import { gptBlock, gptEmbed, gptHead, type Gpt, type GptQuant, type LinearHooks } from './gpt';

/** Sequences generated together by sampleSequences (one fixed batch shape). */
export const SAMPLE_BATCH = 32;

/** Logits [rows, vocab] at window position `pos` of `tokens` (rows × context, row-major). */
export async function positionLogits(m: Gpt, tokens: Int32Array, rows: number, pos: number, quant?: GptQuant, hooks?: LinearHooks): Promise<Float32Array> {
  const { context: C, dModel: d } = m.config;
  if (tokens.length !== rows * C) throw new Error(`positionLogits: ${tokens.length} tokens, expected ${rows} × ${C}`);
  if (!Number.isInteger(pos) || pos < 0 || pos >= C) throw new Error(`positionLogits: position ${pos} outside the context ${C}`);
  const logits = tf.tidy(() => {
    const x = tf.tensor2d(tokens, [rows, C], 'int32');
    let h: tf.Tensor = gptEmbed(m, x, quant, hooks);
    for (let i = 0; i < m.blocks.length; i++) h = gptBlock(m, i, h, rows, C, quant, hooks);
    const sel = tf.reshape(tf.oneHot(tf.tensor1d([pos], 'int32'), C), [1, C, 1]);
    const last = tf.sum(tf.mul(tf.reshape(h, [rows, C, d]), sel), 1); // [rows, d]
    return gptHead(m, last, quant, hooks);
  });
  const out = (await logits.data()) as Float32Array;
  logits.dispose();
  return out;
}

/** Index of the largest value in v[off, off + n) (the first one on ties). */
function argmax(v: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (v[off + k] > v[off + best]) best = k;
  return best;
}

/** A token from logits v[off, off + n): greedy at temperature 0, else softmax(v / temperature). */
export function pickToken(v: Float32Array, off: number, n: number, temperature: number, rng: Rng): number {
  const top = argmax(v, off, n);
  if (temperature === 0) return top;
  const mx = v[off + top];
  let z = 0;
  const p = new Float64Array(n);
  for (let k = 0; k < n; k++) z += p[k] = Math.exp((v[off + k] - mx) / temperature);
  let u = rng.next() * z;
  for (let k = 0; k < n; k++) {
    u -= p[k];
    if (u < 0) return k;
  }
  return top; // rounding left a sliver of mass: the mode
}

function checkArgs(m: Gpt, temperature: number): void {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a finite number ≥ 0, got ${temperature}`);
  if (m.config.vocab < 1) throw new Error('the model has an empty vocabulary');
}

/**
 * `prompt` followed by `length` new tokens. Temperature 0 = greedy; otherwise sampled from a
 * stream seeded with `seed`. An empty prompt starts from a token drawn uniformly from the
 * vocabulary with that stream (it counts as the first of the `length` tokens). Past the
 * context, the window slides (the last `context` tokens).
 */
export async function generate(
  m: Gpt,
  quant: GptQuant | undefined,
  prompt: Int32Array,
  length: number,
  temperature: number,
  seed: number,
  hooks?: LinearHooks,
): Promise<Int32Array> {
  const { context: C, vocab: V } = m.config;
  checkArgs(m, temperature);
  if (!Number.isInteger(length) || length < 0) throw new Error(`length must be a whole number ≥ 0, got ${length}`);
  for (const [i, t] of prompt.entries()) {
    if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`prompt token ${t} at position ${i} is outside the vocabulary (0–${V - 1})`);
  }
  const rng = new Rng(seed);
  const out = new Int32Array(prompt.length + length);
  out.set(prompt);
  let n = prompt.length;
  if (n === 0 && length > 0) out[n++] = rng.int(V);
  const window = new Int32Array(C);
  for (; n < out.length; n++) {
    const start = Math.max(0, n - C);
    window.fill(0);
    window.set(out.subarray(start, n));
    const logits = await positionLogits(m, window, 1, n - start - 1, quant, hooks);
    out[n] = pickToken(logits, 0, V, temperature, rng);
  }
  return out;
}

/**
 * `n` sequences of `T + 1` tokens each (row-major, n × (T + 1)), every one from an empty prompt
 * (a uniform random first token), generated SAMPLE_BATCH (or n, if fewer) at a time at one fixed
 * shape. Deterministic per seed. `onProgress(done, n)` after each batch; a stop (control)
 * between batches returns the whole batches finished so far.
 */
export async function sampleSequences(
  teacher: Gpt,
  n: number,
  T: number,
  temperature: number,
  seed: number,
  onProgress?: (done: number, total: number) => void,
  control?: RunControl,
  quant?: GptQuant,
): Promise<Int32Array> {
  const { context: C, vocab: V } = teacher.config;
  checkArgs(teacher, temperature);
  if (!Number.isInteger(n) || n < 1) throw new Error(`sampleSequences: n must be a whole number ≥ 1, got ${n}`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`sampleSequences: T must be a whole number ≥ 1, got ${T}`);
  const rows = Math.min(SAMPLE_BATCH, n);
  const L = T + 1;
  const rng = new Rng(seed);
  const out = new Int32Array(n * L);
  const seqs = new Int32Array(rows * L);
  const window = new Int32Array(rows * C);
  let done = 0;
  while (done < n) {
    if (control?.stopped) break;
    const real = Math.min(rows, n - done);
    seqs.fill(0);
    for (let r = 0; r < real; r++) seqs[r * L] = rng.int(V);
    for (let len = 1; len < L; len++) {
      const start = Math.max(0, len - C);
      const w = len - start;
      window.fill(0);
      for (let r = 0; r < rows; r++) window.set(seqs.subarray(r * L + start, r * L + len), r * C);
      const logits = await positionLogits(teacher, window, rows, w - 1, quant);
      for (let r = 0; r < real; r++) seqs[r * L + len] = pickToken(logits, r * V, V, temperature, rng);
    }
    out.set(seqs.subarray(0, real * L), done * L);
    done += real;
    onProgress?.(done, n);
    await yieldToEventLoop();
    await control?.waitWhilePaused();
  }
  return done === n ? out : out.slice(0, done * L);
}
