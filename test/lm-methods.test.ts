/**
 * The LM fine-tuning methods beyond plain QAFT, on a real backend and a tiny trained GPT:
 * generation (deterministic, greedy = argmax, one fixed forward shape), QA-LoRA (only the
 * adapters train; unmerged and merged+requantized NLL), data-free QAFT (beats RTN at int3 and
 * never sees the corpus), forward tiled QAT (beats RTN), and flat tensor counts for each.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunControl } from '../src/engine/core/control';
import { trainDataFree, type LmEvaluator } from '../src/engine/lm/datafree';
import { generate, sampleSequences } from '../src/engine/lm/generate';
import { disposeGpt, gptForward, gptLinears, gptParams, initGpt, type Gpt, type GptConfig, type GptQuant } from '../src/engine/lm/gpt';
import { trainQaLora } from '../src/engine/lm/lora';
import { trainTiled } from '../src/engine/lm/tiled';
import { charTokenizer } from '../src/engine/lm/tokenizer';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm, type LmBatch, type LmEvalSet, type LmTrainOptions } from '../src/engine/lm/train';
import { useBackend } from './helpers/backend';

const TEXT = 'the quick brown fox jumps over the lazy dog. a small cat sat on the mat and the dog ran home. '.repeat(40);
const tok = charTokenizer(TEXT);
const ids = tok.encode(TEXT);
const split = Math.floor(ids.length * 0.9);
const trainIds = ids.subarray(0, split);
const valIds = ids.subarray(split);
const config: GptConfig = { vocab: tok.vocab, context: 32, layers: 2, heads: 2, dModel: 32, norm: 'rms' };
const int3 = { weight: { kind: 'lab' as const, bits: 3, granularity: 'row' as const }, actBits: 0 };
const quant: GptQuant = { attn: int3, mlp: int3 };

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

/** Host copies of every parameter. */
async function snapshot(m: Gpt): Promise<Float32Array[]> {
  return Promise.all(gptParams(m).map(async (p) => (await p.data()) as Float32Array));
}

let fp: Gpt;
let val: LmEvalSet;
let fpNll = NaN;
let rtnNll = NaN;
const figures: string[] = [];

beforeAll(async () => {
  await useBackend();
  val = makeEvalSet(valIds, config.context, 4);
  fp = initGpt(config, 1);
  const out = await trainLm(fp, trainIds, val, { ...opts(), steps: 150, lr: 1e-2, schedule: 'linear', seed: 1, logEvery: 50 });
  fpNll = out.valNll;
  rtnNll = await evaluateLm(fp, val, quant);
  figures.push(`FP ${fpNll.toFixed(4)}`, `RTN int3 ${rtnNll.toFixed(4)}`);
});

afterAll(() => {
  console.log(`val NLL (nats/token): ${figures.join(', ')}`);
  disposeEvalSet(val);
  disposeGpt(fp);
});

describe('generation', () => {
  it('is deterministic per seed; greedy is the argmax of the forward pass', async () => {
    const prompt = tok.encode('the q');
    const before = tf.memory().numTensors;
    const a = await generate(fp, undefined, prompt, 20, 0.8, 7);
    const b = await generate(fp, undefined, prompt, 20, 0.8, 7);
    const c = await generate(fp, undefined, prompt, 20, 0.8, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.length).toBe(prompt.length + 20);
    expect(Array.from(a.subarray(0, prompt.length))).toEqual(Array.from(prompt));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // Greedy: every new token is the argmax of the full forward pass at the previous position.
    const g = await generate(fp, quant, prompt, config.context - prompt.length, 0, 123);
    const logits = tf.tidy(() => tf.argMax(gptForward(fp, tf.tensor2d(g, [1, g.length], 'int32'), quant), -1));
    const am = await logits.data();
    logits.dispose();
    for (let k = prompt.length; k < g.length; k++) expect(g[k], `position ${k}`).toBe(am[k - 1]);
    // The seed does not matter at temperature 0; past the context the window slides.
    const g2 = await generate(fp, quant, prompt, config.context + 10, 0, 999);
    expect(Array.from(g2.subarray(0, g.length))).toEqual(Array.from(g));
    const C = config.context;
    const w = g2.subarray(g2.length - 1 - C, g2.length - 1);
    const last = tf.tidy(() => tf.argMax(gptForward(fp, tf.tensor2d(w, [1, C], 'int32'), quant), -1));
    expect(g2[g2.length - 1]).toBe((await last.data())[C - 1]);
    last.dispose();
    console.log(`greedy FP-int3 sample: ${JSON.stringify(tok.decode(Array.from(g2)))}`);
    // An empty prompt: the first token is drawn from the seeded stream, the length is as asked.
    const e1 = await generate(fp, undefined, new Int32Array(0), 12, 1, 5);
    expect(e1.length).toBe(12);
    expect(Array.from(await generate(fp, undefined, new Int32Array(0), 12, 1, 5))).toEqual(Array.from(e1));
    await expect(generate(fp, undefined, Int32Array.from([tok.vocab]), 1, 0, 0)).rejects.toThrow(/outside the vocabulary/);
  });

  it('runs every forward pass at one fixed shape, whatever the prompt length', async () => {
    const shapes = async (promptLen: number, length: number) => {
      const info = await tf.profile(async () => {
        await generate(fp, quant, tok.encode(TEXT.slice(0, promptLen)), length, 1, 3);
        return [];
      });
      return new Set(info.kernels.map((k) => `${k.name}:${JSON.stringify(k.inputShapes)}`));
    };
    const short = await shapes(1, 3);
    const long = await shapes(25, config.context + 5);
    expect([...long].sort()).toEqual([...short].sort());
  });

  it('samples sequences in fixed batches, deterministically', async () => {
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const T = 8;
    const s = await sampleSequences(fp, 40, T, 1, 11, (d) => progress.push(d));
    expect(tf.memory().numTensors).toBe(before);
    expect(s.length).toBe(40 * (T + 1));
    expect(progress).toEqual([32, 40]);
    expect(s.every((t) => t >= 0 && t < tok.vocab)).toBe(true);
    expect(Array.from(await sampleSequences(fp, 40, T, 1, 11))).toEqual(Array.from(s));
    expect(Array.from(await sampleSequences(fp, 40, T, 1, 12))).not.toEqual(Array.from(s));
    // A stop between batches keeps the whole batches done.
    const control = new RunControl();
    const part = await sampleSequences(fp, 40, T, 1, 11, () => control.stop(), control);
    expect(Array.from(part)).toEqual(Array.from(s.subarray(0, 32 * (T + 1))));
  });
});

describe('QA-LoRA', () => {
  it('trains only the adapters on a frozen int3 base; unmerged and merged NLL beat RTN', async () => {
    const before = await snapshot(fp);
    const counts: number[] = [];
    const t0 = tf.memory().numTensors;
    const out = await trainQaLora(fp, quant, trainIds, val, { ...opts({ lr: 1e-2 }), rank: 4, alpha: 8 }, () => counts.push(tf.memory().numTensors));
    figures.push(`QA-LoRA unmerged ${out.unmergedNll.toFixed(4)}`, `merged+RTN ${out.mergedNll.toFixed(4)}`);
    console.log(`QA-LoRA: ${out.curve.map((p) => p.val.toFixed(3)).join(' → ')}; merged ${out.mergedNll.toFixed(4)}; ${out.adapterParams} adapter params`);
    expect(out.stepsDone).toBe(60);
    expect(new Set(counts).size).toBe(1);
    // The base is untouched; the curve starts at RTN (B = 0).
    const after = await snapshot(fp);
    for (const [i, p] of before.entries()) expect(after[i]).toEqual(p);
    expect(out.curve[0].val).toBeCloseTo(rtnNll, 4);
    const nLinears = gptLinears(fp).length;
    const r = 4;
    const d = config.dModel;
    expect(out.adapterParams).toBe(config.layers * r * (d + 3 * d + d + d + d + 4 * d + 4 * d + d));
    expect(nLinears).toBe(4 * config.layers);
    expect(Number.isFinite(out.unmergedNll) && Number.isFinite(out.mergedNll)).toBe(true);
    expect(out.unmergedNll).toBeLessThan(rtnNll);
    expect(out.mergedNll).toBeLessThan(rtnNll);
    expect(out.valNll).toBe(out.mergedNll);
    expect(await evaluateLm(out.merged, val, quant)).toBeCloseTo(out.mergedNll, 6);
    disposeGpt(out.merged);
    expect(tf.memory().numTensors).toBe(t0);
  });
});

describe('data-free QAFT', () => {
  const evaluate: LmEvaluator = (m, q) => evaluateLm(m, val, q);

  it('beats RTN at int3 (KL) with only teacher-generated text reaching the training', async () => {
    const batches: LmBatch[] = [];
    const counts: number[] = [];
    const t0 = tf.memory().numTensors;
    const o = { ...opts({ lr: 1e-3 }), sequences: 32, temperature: 1, loss: 'kl' as const, onBatch: (b: LmBatch) => batches.push(b) };
    const out = await trainDataFree(fp, quant, evaluate, o, () => counts.push(tf.memory().numTensors));
    figures.push(`data-free KL ${out.valNll.toFixed(4)}`);
    console.log(
      `data-free KL: ${out.curve.map((p) => `${p.train.toFixed(3)}/${p.val.toFixed(3)}`).join(' → ')} (train KL / val NLL); generation ${out.genMs.toFixed(0)} ms`,
    );
    expect(new Set(counts).size).toBe(1);
    expect(out.curve[0].val).toBeCloseTo(rtnNll, 4);
    expect(out.valNll).toBeLessThan(rtnNll);
    // Every training row is a whole teacher-generated sequence, and there is one batch per step.
    const T = config.context;
    const L = T + 1;
    expect(out.seqLength).toBe(L);
    expect(out.text.length).toBe(32 * L);
    const generated = new Set<string>();
    for (let s = 0; s < 32; s++) generated.add(Array.from(out.text.subarray(s * L, (s + 1) * L)).join(','));
    expect(batches.length).toBe(60);
    for (const b of batches) {
      for (let r = 0; r < o.batch; r++) {
        const row = [...b.x.subarray(r * T, (r + 1) * T), b.y[(r + 1) * T - 1]];
        expect(Array.from(b.y.subarray(r * T, (r + 1) * T - 1))).toEqual(Array.from(b.x.subarray(r * T + 1, (r + 1) * T)));
        expect(generated.has(row.join(','))).toBe(true);
      }
    }
    // The text is the teacher's sampleSequences output for this seed, made with no corpus at all.
    expect(Array.from(out.text)).toEqual(Array.from(await sampleSequences(fp, 32, T, 1, o.seed)));
    // The API takes no text: teacher, quantizer, evaluator and options (no token array among them); onPoint, control optional.
    expect(trainDataFree.length).toBe(4);
    expect(Object.values(o).some((v) => ArrayBuffer.isView(v))).toBe(false);
    disposeGpt(out.student);
    expect(tf.memory().numTensors).toBe(t0);
  });

  it('trains identically whatever text the evaluator reads (it only reports); the CE variant runs', async () => {
    const short = { ...opts({ steps: 20, lr: 1e-3, logEvery: 10 }), sequences: 16, temperature: 1, loss: 'ce' as const };
    const other = makeEvalSet(trainIds, config.context, 4);
    const a = await trainDataFree(fp, quant, evaluate, short);
    const b = await trainDataFree(fp, quant, (m, q) => evaluateLm(m, other, q), short);
    disposeEvalSet(other);
    const [sa, sb] = [await snapshot(a.student), await snapshot(b.student)];
    for (const [i, p] of sa.entries()) expect(sb[i]).toEqual(p);
    expect(b.curve.map((p) => p.train)).toEqual(a.curve.map((p) => p.train));
    expect(b.curve.map((p) => p.val)).not.toEqual(a.curve.map((p) => p.val));
    figures.push(`data-free CE (16 sequences, 20 steps) ${a.valNll.toFixed(4)}`);
    console.log(`data-free CE: ${a.curve.map((p) => `${p.train.toFixed(3)}/${p.val.toFixed(3)}`).join(' → ')} (train CE / val NLL)`);
    expect(Number.isFinite(a.valNll)).toBe(true);
    disposeGpt(a.student);
    disposeGpt(b.student);
  });
});

describe('forward tiled QAT', () => {
  it('tiles of one block each, then global QAFT: L2 falls per tile and the NLL ends below RTN', async () => {
    const counts: number[] = [];
    const t0 = tf.memory().numTensors;
    const before = await snapshot(fp);
    const out = await trainTiled(fp, quant, trainIds, val, { ...opts({ lr: 1e-3 }), tileK: 1, tileSteps: 30, globalSteps: 20, logEvery: 10 }, () =>
      counts.push(tf.memory().numTensors),
    );
    const tileNll = out.tiles[out.tiles.length - 1].curve.at(-1)!.val;
    figures.push(`tiled (tiles only) ${tileNll.toFixed(4)}`, `tiled + global ${out.valNll.toFixed(4)}`);
    console.log(
      `tiled: ${out.tiles.map((t) => `blocks ${t.blocks.join('–')} L2 ${t.l2Start.toExponential(2)} → ${t.l2End.toExponential(2)}`).join('; ')}; val ${out.curve.map((p) => `${p.step}:${p.val.toFixed(3)}`).join(' ')}`,
    );
    // Flat within each phase (the global phase's optimizer holds state for every parameter).
    expect(counts.length).toBe(9);
    expect(new Set(counts.slice(0, 7)).size).toBe(1);
    expect(new Set(counts.slice(7)).size).toBe(1);
    expect(out.tiles.map((t) => t.blocks)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    for (const t of out.tiles) expect(t.l2End).toBeLessThan(t.l2Start);
    expect(out.curve[0].val).toBeCloseTo(rtnNll, 4);
    expect(out.curve.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(out.stepsDone).toBe(80);
    expect(tileNll).toBeLessThan(rtnNll);
    expect(out.valNll).toBeLessThan(rtnNll);
    const after = await snapshot(fp);
    for (const [i, p] of before.entries()) expect(after[i]).toEqual(p);
    disposeGpt(out.student);
    expect(tf.memory().numTensors).toBe(t0);
  });
});

describe('stop', () => {
  it('a stop ends tiled QAT inside its first tile and data-free QAFT during generation', async () => {
    const t0 = tf.memory().numTensors;
    const c1 = new RunControl();
    const tiled = await trainTiled(
      fp,
      quant,
      trainIds,
      val,
      { ...opts({ lr: 1e-3 }), tileK: 1, tileSteps: 30, globalSteps: 20, logEvery: 10 },
      (p) => p.step === 10 && c1.stop(),
      c1,
    );
    expect(tiled.stopped).toBe(true);
    expect(tiled.stepsDone).toBe(10);
    expect(tiled.tiles.length).toBe(1);
    expect(tiled.global).toBeNull();
    disposeGpt(tiled.student);
    const c2 = new RunControl();
    const df = await trainDataFree(
      fp,
      quant,
      (m, q) => evaluateLm(m, val, q),
      { ...opts(), sequences: 64, temperature: 1, loss: 'kl', onGenerate: () => c2.stop() },
      () => {},
      c2,
    );
    expect(df.stopped).toBe(true);
    expect(df.sequences).toBe(32);
    expect(df.stepsDone).toBe(0);
    disposeGpt(df.student);
    expect(tf.memory().numTensors).toBe(t0);
  });
});
