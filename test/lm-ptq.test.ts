/**
 * Post-training quantization of the GPT on a real backend: the config's component quantizers,
 * RTN vs sequential GPTQ at int3 / int2 per row on a tiny GPT trained here (val NLL and
 * per-linear local errors), lazy-batch invariance, the Cholesky fallback, per-matrix k-means
 * codebooks, stopping, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ExperimentConfig } from '../src/engine/core/config';
import { cloneGpt, disposeGpt, gptLinears, initGpt, type Gpt, type GptConfig, type GptQuant } from '../src/engine/lm/gpt';
import { gptqGpt } from '../src/engine/lm/gptq';
import { disposeGptQuant, gptQuantOf, lmLayerErrors, ptqEvalQuant, refreshGptCodebooks, rtnGpt } from '../src/engine/lm/quantize';
import { charTokenizer } from '../src/engine/lm/tokenizer';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm, type LmEvalSet } from '../src/engine/lm/train';
import { Rng } from '../src/engine/core/rng';
import { type LayerQuant } from '../src/engine/core/layerquant';
import { useBackend } from './helpers/backend';

/** Sentences from a small grammar (seeded): structure to learn, with real uncertainty left. */
function grammarText(sentences: number, seed: number): string {
  const rng = new Rng(seed);
  const pick = (xs: string[]) => xs[rng.int(xs.length)];
  const subj = ['the cat', 'a dog', 'the old man', 'my sister', 'a small bird', 'the farmer'];
  const verb = ['sees', 'likes', 'finds', 'follows', 'feeds', 'paints'];
  const obj = ['the red ball', 'a green hat', 'the river', 'some bread', 'the tall tree', 'a blue boat'];
  const tail = ['today', 'at night', 'in the rain', 'again', 'slowly', 'near the house'];
  return Array.from({ length: sentences }, () => `${pick(subj)} ${pick(verb)} ${pick(obj)} ${pick(tail)}. `).join('');
}

const TEXT = grammarText(500, 7);
const tiny: GptConfig = { vocab: 0, context: 32, layers: 2, heads: 2, dModel: 32, norm: 'rms' };
const row = (bits: number): LayerQuant => ({ weight: { kind: 'lab', bits, granularity: 'row' }, actBits: 0 });
const GPTQ = { damp: 0.01, blockSize: 128, actOrder: false };

describe('gptQuantOf / ptqEvalQuant', () => {
  it('maps the LM config to component quantizers', () => {
    const c: ExperimentConfig = structuredClone(DEFAULT_CONFIG);
    c.task = 'lm';
    c.lm = { ...c.lm, embedBits: 32, attnBits: 3, mlpBits: 2, headBits: 4 };
    c.quant = { ...c.quant, scheme: 'auto', granularity: 'row', actBits: 8 };
    const q = gptQuantOf(c);
    expect(q.embed).toBeUndefined();
    expect(q.attn).toEqual({ weight: { kind: 'lab', bits: 3, granularity: 'row' }, actBits: 8 });
    expect(q.mlp).toEqual({ weight: { kind: 'lab', bits: 2, granularity: 'row' }, actBits: 8 });
    expect(q.head).toEqual({ weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 });
    expect(ptqEvalQuant(q)).toEqual({ head: q.head, attn: { weight: null, actBits: 8 }, mlp: { weight: null, actBits: 8 } });
    c.lm.attnBits = 16;
    c.quant.scheme = 'kmeans';
    const k = gptQuantOf(c);
    expect(k.attn).toBeUndefined();
    expect(k.mlp?.weight).toEqual({ kind: 'zoo', spec: { scheme: 'kmeans', bits: 2, granularity: 'row', groupSize: c.quant.groupSize, clip: 'none' } });
  });
});

describe('GPT PTQ (RTN vs GPTQ)', () => {
  const tok = charTokenizer(TEXT);
  const ids = tok.encode(TEXT);
  const split = Math.floor(ids.length * 0.9);
  const trainIds = ids.subarray(0, split);
  const valIds = ids.subarray(split);
  const config = { ...tiny, vocab: tok.vocab };
  const T = config.context;
  const n = 32;
  const calib = trainIds.slice(0, n * T); // the first n non-overlapping training windows
  let val: LmEvalSet;
  let fp: Gpt;
  let fpNll = NaN;

  beforeAll(async () => {
    await useBackend();
    val = makeEvalSet(valIds, T, 4);
    fp = initGpt(config, 1);
    const out = await trainLm(fp, trainIds, val, { steps: 200, batch: 8, lr: 1e-2, schedule: 'linear', weightDecay: 0, seed: 1, logEvery: 100 });
    fpNll = out.valNll;
  });

  afterAll(() => {
    disposeEvalSet(val);
    disposeGpt(fp);
  });

  const weightsOf = async (m: Gpt) => Promise.all(gptLinears(m).map(async (l) => (await l.w.data()) as Float32Array));

  for (const bits of [3, 2]) {
    it(`int${bits} per row: GPTQ beats RTN in every linear and in val NLL; RTN is worse than FP`, async () => {
      const q: GptQuant = { attn: row(bits), mlp: row(bits) };
      const ev = ptqEvalQuant(q);
      const rtn = await rtnGpt(fp, q);
      const rtnNll = await evaluateLm(rtn, val, ev);
      // Materialized RTN = the fake-quantized forward of the FP model.
      expect(rtnNll).toBeCloseTo(await evaluateLm(fp, val, q), 4);
      const stages: string[] = [];
      const g = await gptqGpt(fp, q, calib, n, GPTQ, (done, total, label) => stages.push(`${done}/${total} ${label}`));
      const gNll = await evaluateLm(g.model, val, ev);
      const errRtn = await lmLayerErrors(fp, rtn, ev, calib, n, T);
      const errGptq = await lmLayerErrors(fp, g.model, ev, calib, n, T);
      const names = gptLinears(fp).map((l) => l.name);
      console.log(
        `int${bits} row: val NLL FP ${fpNll.toFixed(4)}, RTN ${rtnNll.toFixed(4)}, GPTQ ${gNll.toFixed(4)}\n` +
          names.map((nm, i) => `  ${nm}: local error RTN ${errRtn.errors[i].toExponential(3)}, GPTQ ${errGptq.errors[i].toExponential(3)}`).join('\n'),
      );
      expect(rtnNll).toBeGreaterThan(fpNll + 0.01);
      expect(gNll).toBeLessThan(rtnNll);
      expect(stages).toHaveLength(names.length);
      expect(stages[0]).toBe(`1/${names.length} GPTQ: h0.attn.qkv (1 of ${names.length})`);
      expect(g.reports.map((r) => r.name)).toEqual(names);
      expect(errGptq.names).toEqual(names);
      for (const [i, r] of g.reports.entries()) {
        expect(r.fallback, r.name).toBe(false);
        expect(r.note).toBeNull();
        expect(r.tokens).toBe(n * T);
        // Same inputs: GPTQ below RTN on this linear's Hessian.
        expect(r.localErrorGptq, r.name).toBeLessThan(r.localErrorRtn);
        // Each model on its own path: GPTQ below RTN in every linear.
        expect(errGptq.errors[i], r.name).toBeLessThan(errRtn.errors[i]);
        // The GPTQ model's own path is the path its Hessians were taken on: host (Float64) = device (float32).
        expect(Math.abs(errGptq.errors[i] - r.localErrorGptq) / r.localErrorGptq, r.name).toBeLessThan(1e-3);
      }
      // The first linear sees FP inputs in both models: the same Hessian for RTN.
      expect(Math.abs(errRtn.errors[0] - g.reports[0].localErrorRtn) / g.reports[0].localErrorRtn).toBeLessThan(1e-3);
      // The input model is untouched; every quantized weight lies on its row's int grid.
      expect(await evaluateLm(fp, val)).toBeCloseTo(fpNll, 5);
      for (const [i, w] of (await weightsOf(g.model)).entries()) {
        const [inDim, outDim] = gptLinears(g.model)[i].w.shape;
        for (let j = 0; j < outDim; j++) {
          const levels = new Set<number>();
          for (let k = 0; k < inDim; k++) levels.add(w[k * outDim + j]);
          expect(levels.size).toBeLessThanOrEqual(2 ** bits - 1);
        }
      }
      disposeGpt(rtn);
      disposeGpt(g.model);
    });
  }

  it('lazy-batch invariance: blockSize 3 and 128 give identical weights', async () => {
    const q: GptQuant = { attn: row(3), mlp: row(3) };
    const a = await gptqGpt(fp, q, calib, n, { ...GPTQ, blockSize: 3 });
    const b = await gptqGpt(fp, q, calib, n, GPTQ);
    const [wa, wb] = [await weightsOf(a.model), await weightsOf(b.model)];
    for (let i = 0; i < wa.length; i++) expect(wa[i]).toEqual(wb[i]);
    disposeGpt(a.model);
    disposeGpt(b.model);
  });

  it('with act-order, only the quantized component, and 8-bit activations', async () => {
    const q: GptQuant = { mlp: { ...row(2), actBits: 8 } };
    const g = await gptqGpt(fp, q, calib, n, { ...GPTQ, actOrder: true });
    expect(g.reports.map((r) => r.name)).toEqual(['h0.mlp.fc', 'h0.mlp.proj', 'h1.mlp.fc', 'h1.mlp.proj']);
    for (const r of g.reports) expect(r.localErrorGptq, r.name).toBeLessThan(r.localErrorRtn);
    // attn weights are copied unchanged.
    const [wf, wg] = [await weightsOf(fp), await weightsOf(g.model)];
    expect(wg[0]).toEqual(wf[0]);
    expect(wg[1]).toEqual(wf[1]);
    const ev = ptqEvalQuant(q);
    const rtn = await rtnGpt(fp, q);
    expect(await evaluateLm(g.model, val, ev)).toBeLessThan(await evaluateLm(rtn, val, ev));
    disposeGpt(rtn);
    disposeGpt(g.model);
  });

  it('a non-finite Hessian falls back to RTN with a note', async () => {
    const bad = cloneGpt(fp);
    const nan = tf.fill([3 * config.dModel], NaN);
    bad.blocks[0].bqkv.assign(nan);
    nan.dispose();
    const q: GptQuant = { attn: row(3), mlp: row(3) };
    const g = await gptqGpt(bad, q, calib, n, GPTQ);
    expect(g.reports[0].fallback).toBe(false); // h0.attn.qkv's inputs come before the NaN bias
    for (const r of g.reports.slice(1)) {
      expect(r.fallback, r.name).toBe(true);
      expect(r.note).toMatch(/Cholesky failed \(H has non-finite entries.*rounded to nearest \(RTN\)/);
    }
    // The fallback weights are the RTN weights (host zoo rounding vs the device's: equal to float32 rounding).
    const rtn = await rtnGpt(bad, q);
    const [wg, wr] = [await weightsOf(g.model), await weightsOf(rtn)];
    for (let i = 1; i < wg.length; i++) for (let k = 0; k < wg[i].length; k++) expect(Math.abs(wg[i][k] - wr[i][k])).toBeLessThan(1e-6);
    disposeGpt(rtn);
    disposeGpt(g.model);
    disposeGpt(bad);
  });

  it('k-means: one codebook per weight matrix; RTN and the fake-quantized forward agree', async () => {
    const km = (bits: number): LayerQuant => ({ weight: { kind: 'zoo', spec: { scheme: 'kmeans', bits, granularity: 'row', clip: 'none' } }, actBits: 0 });
    const q: GptQuant = { attn: km(3), mlp: km(3), head: km(4), embed: km(4) };
    await refreshGptCodebooks(fp, q);
    expect(q.attn?.codebooks?.size).toBe(2 * config.layers);
    expect(q.attn?.codebooks?.get(fp.blocks[0].wqkv)?.shape).toEqual([3 * config.dModel, 8]);
    expect(q.mlp?.codebooks?.get(fp.blocks[1].wproj)?.shape).toEqual([config.dModel, 8]);
    expect(q.embed?.codebook?.shape).toEqual([config.vocab, 16]);
    const fq = await evaluateLm(fp, val, q);
    const rtn = await rtnGpt(fp, q);
    expect(await evaluateLm(rtn, val, ptqEvalQuant(q))).toBeCloseTo(fq, 4);
    expect(fq).toBeGreaterThan(fpNll);
    const e = await lmLayerErrors(fp, fp, q, calib, n, T);
    const e2 = await lmLayerErrors(fp, rtn, ptqEvalQuant(q), calib, n, T);
    for (let i = 0; i < e.errors.length; i++) expect(Math.abs(e.errors[i] - e2.errors[i]) / e2.errors[i]).toBeLessThan(1e-3);
    disposeGpt(rtn);
    // A refresh replaces (and disposes) the previous codebooks.
    const before = tf.memory().numTensors;
    await refreshGptCodebooks(fp, q);
    expect(tf.memory().numTensors).toBe(before);
    disposeGptQuant(q);
    expect(tf.memory().numTensors).toBe(before - 2 * 2 * config.layers - 2);
  });

  it('stops when asked (returning the partly quantized model), and leaks no tensors across repeated calls', async () => {
    const q: GptQuant = { attn: row(2), mlp: row(2) };
    const counts: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const rtn = await rtnGpt(fp, q);
      const g = await gptqGpt(fp, q, calib, n, GPTQ);
      await lmLayerErrors(fp, g.model, ptqEvalQuant(q), calib, n, T);
      await lmLayerErrors(fp, fp, q, calib, n, T);
      disposeGpt(rtn);
      let calls = 0;
      const s = await gptqGpt(fp, q, calib, n, GPTQ, undefined, () => ++calls > 3);
      expect(s.stopped).toBe(true);
      expect(s.reports.map((r) => r.name)).toEqual(['h0.attn.qkv', 'h0.attn.out', 'h0.mlp.fc']);
      expect(g.stopped).toBe(false);
      disposeGpt(s.model);
      disposeGpt(g.model);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
  });
});
