/**
 * The small-transformer engine (src/engine/lm) on a real backend: tokenizer, GPT forward shape
 * and causality, learning below the unigram entropy, int3 RTN vs QAFT, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneGpt, disposeGpt, gptForward, gptParams, initGpt, type Gpt, type GptConfig, type GptQuant } from '../src/engine/lm/gpt';
import { charTokenizer, unigramEntropy } from '../src/engine/lm/tokenizer';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm, type LmEvalSet, type LmTrainOptions } from '../src/engine/lm/train';
import { useBackend } from './helpers/backend';

const TEXT = 'the quick brown fox jumps over the lazy dog. a small cat sat on the mat and the dog ran home. '.repeat(40);

const tiny: GptConfig = { vocab: 0, context: 32, layers: 2, heads: 2, dModel: 32, norm: 'rms' };

describe('char tokenizer', () => {
  it('round-trips and rejects unknown characters', () => {
    const tok = charTokenizer('hello world');
    expect(tok.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.decode(tok.encode('low hero'))).toBe('low hero');
    expect(Array.from(tok.encode('he'))).toEqual([3, 2]);
    expect(() => tok.encode('hellx')).toThrow(/"x".*position 4.*not in the vocabulary/);
    expect(() => tok.decode([8])).toThrow(/outside the vocabulary/);
    expect(unigramEntropy(Int32Array.from([0, 1, 0, 1]), 2)).toBeCloseTo(Math.log(2), 12);
  });
});

describe('GPT', () => {
  const tok = charTokenizer(TEXT);
  const ids = tok.encode(TEXT);
  const split = Math.floor(ids.length * 0.9);
  const trainIds = ids.subarray(0, split);
  const valIds = ids.subarray(split);
  const config = { ...tiny, vocab: tok.vocab };
  let val: LmEvalSet;
  let fp: Gpt;
  let fpNll = NaN;

  beforeAll(async () => {
    await useBackend();
    val = makeEvalSet(valIds, config.context, 4);
  });

  afterAll(() => {
    disposeEvalSet(val);
    if (fp) disposeGpt(fp);
  });

  it('forward gives [B, T, vocab] logits and is causal', async () => {
    for (const norm of ['rms', 'layer'] as const) {
      for (const bitnet of [false, true]) {
        const m = initGpt({ ...config, norm, bitnet }, 3);
        const B = 2;
        const T = 12;
        const a = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % config.vocab);
        const b = a.slice();
        const t = 5;
        for (let r = 0; r < B; r++) b[r * T + t + 1] = (a[r * T + t + 1] + 3) % config.vocab;
        const [la, lb] = [a, b].map((x) => tf.tidy(() => gptForward(m, tf.tensor2d(x, [B, T], 'int32'))));
        expect(la.shape).toEqual([B, T, config.vocab]);
        const [da, db] = await Promise.all([la.data(), lb.data()]);
        la.dispose();
        lb.dispose();
        const V = config.vocab;
        for (let r = 0; r < B; r++) {
          for (let p = 0; p < T; p++) {
            let diff = 0;
            for (let k = 0; k < V; k++) diff = Math.max(diff, Math.abs(da[(r * T + p) * V + k] - db[(r * T + p) * V + k]));
            if (p <= t) expect(diff, `${norm} bitnet=${bitnet} row ${r} pos ${p}`).toBe(0);
            else expect(diff, `${norm} bitnet=${bitnet} row ${r} pos ${p}`).toBeGreaterThan(0);
          }
        }
        disposeGpt(m);
      }
    }
  });

  const opts = (o: Partial<LmTrainOptions> = {}): LmTrainOptions => ({
    steps: 150,
    batch: 8,
    lr: 1e-2,
    schedule: 'linear',
    weightDecay: 0,
    seed: 1,
    logEvery: 25,
    ...o,
  });

  it('learns below the unigram entropy with no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    fp = initGpt(config, 1);
    const counts: number[] = [];
    const out = await trainLm(fp, trainIds, val, opts(), () => counts.push(tf.memory().numTensors));
    const h = unigramEntropy(valIds, config.vocab);
    fpNll = out.valNll;
    console.log(`unigram entropy ${h.toFixed(4)} nats; FP val NLL ${out.curve.map((p) => p.val.toFixed(3)).join(' → ')}; ppl ${out.perplexity.toFixed(3)}`);
    expect(out.stepsDone).toBe(150);
    expect(out.diverged).toBe(false);
    expect(out.curve[0].val).toBeGreaterThan(h);
    expect(out.valNll).toBeLessThan(h);
    expect(out.perplexity).toBeCloseTo(Math.exp(out.valNll), 6);
    // Flat across read-backs; after training only the model's own tensors remain.
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before + gptParams(fp).length + 1); // + the causal mask
  });

  it('int3 RTN of attn+mlp raises the NLL; QAFT from the FP weights lowers it again', async () => {
    expect(Number.isFinite(fpNll)).toBe(true);
    const q = { weight: { kind: 'lab' as const, bits: 3, granularity: 'row' as const }, actBits: 0 };
    const quant: GptQuant = { attn: q, mlp: q };
    const rtn = await evaluateLm(fp, val, quant);
    const m = cloneGpt(fp);
    const before = tf.memory().numTensors;
    const out = await trainLm(m, trainIds, val, opts({ steps: 60, lr: 3e-3, schedule: 'constant', seed: 2, logEvery: 20, quant }));
    console.log(`int3 row: FP ${fpNll.toFixed(4)}, RTN ${rtn.toFixed(4)}, QAFT ${out.curve.map((p) => p.val.toFixed(3)).join(' → ')}`);
    expect(rtn).toBeGreaterThan(fpNll);
    expect(out.curve[0].val).toBeCloseTo(rtn, 4);
    expect(out.valNll).toBeLessThan(rtn);
    expect(tf.memory().numTensors).toBe(before);
    // The FP model is untouched by the QAFT of its copy.
    expect(await evaluateLm(fp, val)).toBeCloseTo(fpNll, 5);
    disposeGpt(m);
  });
});
