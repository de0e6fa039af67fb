/**
 * LSQ and scale-only on the GPT (src/engine/lm/lsq.ts), on a real backend and a tiny trained
 * model: the step-size gradients through the forward pass (a block linear and the tied
 * embedding/head) equal the LSQ formula applied to dL/dŵ, both methods end at int3 with a finite
 * NLL below RTN's, the model returned holds the quantized weights (its NLL with activation
 * quantizers only is the trained one), scale-only keeps RTN's integer codes and every other
 * weight, a tied table quantized only as embedding is untied, and tensor counts stay flat.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cloneGpt,
  disposeGpt,
  gptLinears,
  gptNllSum,
  gptParams,
  initGpt,
  type Gpt,
  type GptConfig,
  type GptQuant,
  type LinearHooks,
} from '../src/engine/lm/gpt';
import { disposeGptLearned, initGptLearned, learnedValue, trainLearnedScales, type LearnedMatrix } from '../src/engine/lm/lsq';
import { charTokenizer } from '../src/engine/lm/tokenizer';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm, type LmEvalSet, type LmTrainOptions } from '../src/engine/lm/train';
import { cloneConfig, DEFAULT_CONFIG } from '../src/engine/core/config';
import { storageBits } from '../src/engine/core/quantizers/spec';
import { lmStorageBits } from '../src/engine/lm/lab';
import { useBackend } from './helpers/backend';

const TEXT = 'the quick brown fox jumps over the lazy dog. a small cat sat on the mat and the dog ran home. '.repeat(40);
const tok = charTokenizer(TEXT);
const ids = tok.encode(TEXT);
const split = Math.floor(ids.length * 0.9);
const trainIds = ids.subarray(0, split);
const valIds = ids.subarray(split);
const config: GptConfig = { vocab: tok.vocab, context: 32, layers: 2, heads: 2, dModel: 32, norm: 'rms' };
const int = (bits: number) => ({ weight: { kind: 'lab' as const, bits, granularity: 'row' as const }, actBits: 0 });
const quant: GptQuant = { attn: int(3), mlp: int(3) };

const opts = (o: Partial<LmTrainOptions> = {}): Omit<LmTrainOptions, 'quant'> => ({
  steps: 60,
  batch: 8,
  lr: 3e-3,
  schedule: 'constant',
  weightDecay: 0,
  seed: 2,
  logEvery: 20,
  ...o,
});

let fp: Gpt;
let val: LmEvalSet;
let rtnNll = NaN;
const figures: string[] = [];

beforeAll(async () => {
  await useBackend();
  val = makeEvalSet(valIds, config.context, 4);
  fp = initGpt(config, 1);
  const out = await trainLm(fp, trainIds, val, { ...opts(), steps: 150, lr: 1e-2, schedule: 'linear', seed: 1, logEvery: 50 });
  rtnNll = await evaluateLm(fp, val, quant);
  figures.push(`FP ${out.valNll.toFixed(4)}`, `RTN int3 ${rtnNll.toFixed(4)}`);
});

afterAll(() => {
  console.log(`val NLL (nats/token): ${figures.join(', ')}`);
  disposeEvalSet(val);
  disposeGpt(fp);
});

const host = async (t: tf.Tensor) => Array.from((await t.data()) as Float32Array);
/** tf.round: half to even. */
const roundEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

describe('LSQ step-size gradient through the GPT', () => {
  it('equals g·Σ dL/dŵ·(round(W/s) − W/s | Qn | Qp) per output channel, for a block linear and the tied embedding + head', async () => {
    const m = cloneGpt(fp);
    const q: GptQuant = { ...quant, embed: int(4), head: int(4) };
    const ls = initGptLearned(m, q, 'lsq');
    expect(ls.matrices.map((x) => x.name)).toEqual([...gptLinears(m).map((l) => l.name), 'embed+head']);
    const x = tf.tensor2d(trainIds.subarray(0, 4 * config.context), [4, config.context], 'int32');
    const y = tf.tensor2d(trainIds.subarray(1, 4 * config.context + 1), [4, config.context], 'int32');
    const loss = (hooks: LinearHooks) => tf.div(gptNllSum(m, x, y, ls.quant, hooks), x.size) as tf.Scalar;
    // dL/ds from the LSQ op through the forward pass.
    const checked = [ls.matrices[0], ls.matrices[ls.matrices.length - 1]];
    const g1 = tf.variableGrads(
      () => loss(ls.hooks),
      checked.map((c) => c.scale),
    );
    // dL/dŵ: the same forward with each ŵ a variable of its own.
    const frozen = new Map<LearnedMatrix, tf.Variable>(ls.matrices.map((c) => [c, tf.tidy(() => tf.variable(learnedValue(ls, c)))]));
    const sub = (use: 'linear' | 'embed' | 'head') => (w: tf.Variable) => {
      const c = ls.matrices.find((k) => k.w === w && k.uses.includes(use));
      return c ? (frozen.get(c) as tf.Variable) : null;
    };
    const g2 = tf.variableGrads(
      () => loss({ weight: sub('linear'), embed: sub('embed'), head: sub('head') }),
      checked.map((c) => frozen.get(c) as tf.Variable),
    );
    for (const c of checked) {
      const [inDim, outDim] = c.w.shape as [number, number];
      const [w, s, dwq, ds] = await Promise.all([host(c.w), host(c.scale), host(g2.grads[(frozen.get(c) as tf.Variable).name]), host(g1.grads[c.scale.name])]);
      const { qn, qp, g } = c.layer;
      expect(g).toBeCloseTo(1 / Math.sqrt(inDim * qp), 12);
      const want = new Float64Array(outDim);
      for (let i = 0; i < inDim; i++)
        for (let j = 0; j < outDim; j++) {
          const v = Math.fround(w[i * outDim + j] / s[j]);
          const e = v < qn ? qn : v > qp ? qp : roundEven(v) - v;
          want[j] += dwq[i * outDim + j] * e * g;
        }
      const scale = Math.max(...want.map(Math.abs));
      expect(scale, c.name).toBeGreaterThan(0);
      for (let j = 0; j < outDim; j++) expect(Math.abs(ds[j] - want[j]), `${c.name} channel ${j}`).toBeLessThan(2e-3 * scale + 1e-7);
    }
    tf.dispose([x, y, ...Object.values(g1.grads), g1.value, ...Object.values(g2.grads), g2.value]);
    for (const v of frozen.values()) v.dispose();
    disposeGptLearned(ls);
    disposeGpt(m);
  });
});

describe('LSQ and scale-only at int3', () => {
  it('both end with a finite NLL below RTN; the returned model is the trained quantized one; FP untouched; no leaks', async () => {
    const fpBefore = await Promise.all(gptParams(fp).map(host));
    const t0 = tf.memory().numTensors;
    const nll: Record<string, number> = {};
    for (const kind of ['lsq', 'scaleonly'] as const) {
      const counts: number[] = [];
      const out = await trainLearnedScales(fp, quant, kind, trainIds, val, opts(), () => counts.push(tf.memory().numTensors));
      figures.push(`${kind} ${out.valNll.toFixed(4)}`);
      console.log(`${kind}: ${out.curve.map((p) => p.val.toFixed(3)).join(' → ')}; step sizes ${out.scales}, mean |s/s0 − 1| ${out.scaleChange.toFixed(4)}`);
      expect(out.stepsDone).toBe(60);
      expect(new Set(counts).size).toBe(1);
      expect(out.matrices).toBe(gptLinears(fp).length);
      expect(out.scales).toBe(config.layers * (3 * 32 + 32 + 4 * 32 + 32));
      expect(out.scaleChange).toBeGreaterThan(0);
      const model = out.model as Gpt;
      // Activation quantizers only: the weights already lie on their learned grids.
      expect(out.quant).toEqual({ attn: { weight: null, actBits: 0 }, mlp: { weight: null, actBits: 0 } });
      expect(await evaluateLm(model, val, out.quant)).toBeCloseTo(out.valNll, 5);
      // Every column of every block linear lies on an int3 grid k·s, k ∈ [−4, 3].
      for (const lin of gptLinears(model)) {
        const [inDim, outDim] = lin.w.shape as [number, number];
        const w = await host(lin.w);
        for (let j = 0; j < outDim; j++) {
          const col = Array.from({ length: inDim }, (_, i) => w[i * outDim + j]);
          expect(new Set(col).size, `${kind} ${lin.name} channel ${j}`).toBeLessThanOrEqual(8);
          const d = Math.min(...col.filter((v) => v !== 0).map(Math.abs));
          const onGrid = [1, 2, 3, 4].some((k) =>
            col.every((v) => Math.abs(v / (d / k) - Math.round(v / (d / k))) < 1e-3 && v / (d / k) > -4.001 && v / (d / k) < 3.001),
          );
          expect(onGrid, `${kind} ${lin.name} channel ${j}`).toBe(true);
        }
      }
      // Scale-only starts at RTN; LSQ's step sizes start elsewhere.
      if (kind === 'scaleonly') expect(out.curve[0].val).toBeCloseTo(rtnNll, 4);
      expect(Number.isFinite(out.valNll)).toBe(true);
      expect(out.valNll).toBeLessThan(rtnNll);
      nll[kind] = out.valNll;
      disposeGpt(model);
    }
    expect(tf.memory().numTensors).toBe(t0);
    const fpAfter = await Promise.all(gptParams(fp).map(host));
    for (const [i, p] of fpBefore.entries()) expect(fpAfter[i]).toEqual(p);
  });

  it('scale-only keeps RTN’s integer codes of every quantized matrix (only the step sizes move) and every other weight', async () => {
    const t0 = tf.memory().numTensors;
    const out = await trainLearnedScales(fp, quant, 'scaleonly', trainIds, val, opts({ steps: 40, lr: 3e-3 }));
    const model = out.model as Gpt;
    const qp = 3; // int3: Qn = −4, Qp = 3
    let moved = 0;
    const fpLins = gptLinears(fp);
    for (const [k, lin] of gptLinears(model).entries()) {
      const [inDim, outDim] = lin.w.shape as [number, number];
      const [w, wq] = await Promise.all([host(fpLins[k].w), host(lin.w)]);
      for (let j = 0; j < outDim; j++) {
        let amax = 0;
        for (let i = 0; i < inDim; i++) amax = Math.max(amax, Math.abs(w[i * outDim + j]));
        // RTN's codes of the FP weights (absmax per output channel) …
        const inv = Math.fround(qp / Math.max(amax, Math.fround(1e-5)));
        const codes = Array.from({ length: inDim }, (_, i) => Math.max(-4, Math.min(qp, roundEven(Math.fround(w[i * outDim + j] * inv)))));
        // … are the trained weights' codes: ŵ = code·s with one s per channel.
        const at = codes.findIndex((c) => c !== 0);
        const s = wq[at * outDim + j] / codes[at];
        expect(s, `${lin.name} channel ${j}`).toBeGreaterThan(0);
        for (let i = 0; i < inDim; i++) expect(Math.abs(wq[i * outDim + j] - codes[i] * s), `${lin.name} [${i}, ${j}]`).toBeLessThan(1e-6 * Math.abs(s) * 8);
        if (Math.abs(s / (amax / qp) - 1) > 1e-4) moved += 1;
      }
    }
    expect(moved).toBeGreaterThan(0);
    // Nothing else trained: norms, biases, embeddings are the FP model's.
    const isLinearW = new Set(gptLinears(model).map((l) => l.w as tf.Variable));
    const fpParams = gptParams(fp);
    for (const [i, p] of gptParams(model).entries()) if (!isLinearW.has(p)) expect(await host(p)).toEqual(await host(fpParams[i]));
    disposeGpt(model);
    expect(tf.memory().numTensors).toBe(t0);
  });

  it('a tied table quantized as embedding only is untied: wte holds the quantized table, the head keeps the FP one', async () => {
    const t0 = tf.memory().numTensors;
    const out = await trainLearnedScales(fp, { ...quant, embed: int(4) }, 'scaleonly', trainIds, val, opts({ steps: 4, logEvery: 2 }));
    const model = out.model as Gpt;
    expect(out.matrices).toBe(gptLinears(fp).length + 1);
    expect(fp.head).toBeUndefined();
    expect(model.config.untiedHead).toBe(true);
    expect(await host(model.head as tf.Variable)).toEqual(await host(fp.wte));
    const [wte, ref] = [await host(model.wte), await host(fp.wte)];
    expect(wte).not.toEqual(ref);
    // int4 per token (column of [d, vocab]): at most 16 levels per column.
    const V = config.vocab;
    for (let j = 0; j < V; j++) expect(new Set(Array.from({ length: config.dModel }, (_, i) => wte[i * V + j])).size).toBeLessThanOrEqual(16);
    expect(await evaluateLm(model, val, out.quant)).toBeCloseTo(out.valNll, 5);
    // Storage counts both matrices: the int4 table beside the FP32 head (tied, it counts once at FP32).
    const c = cloneConfig(DEFAULT_CONFIG);
    Object.assign(c.lm, { embedBits: 4, attnBits: 3, mlpBits: 3, headBits: 32 });
    const int4 = storageBits({ scheme: 'sym-narrow', bits: 4, granularity: 'row', clip: 'none' }, [config.dModel, V]).totalBits;
    expect(lmStorageBits(c, model, true) - lmStorageBits(c, fp, true)).toBe(int4);
    disposeGpt(model);
    expect(tf.memory().numTensors).toBe(t0);
  });

  it('says which setting blocks it: a quantizer without learned scales is refused', () => {
    const asym: GptQuant = { attn: { weight: { kind: 'zoo', spec: { scheme: 'asym', bits: 3, granularity: 'row', clip: 'none' } }, actBits: 0 } };
    const t0 = tf.memory().numTensors;
    const m = cloneGpt(fp);
    expect(() => initGptLearned(m, asym, 'lsq')).toThrow(/integer weight bits 2–8/);
    disposeGpt(m);
    expect(tf.memory().numTensors).toBe(t0);
  });
});
