/**
 * Quantized weights as safetensors (src/engine/lm/export.ts): tiny GPT-2 and GPT-NeoX checkpoints
 * (Hugging Face names and layouts, made in the test) are quantized by RTN, GPTQ and a short QAFT
 * with per-component quantizers (the lab's absmax int, asym groups, ternary, MXFP4, NVFP4, FP8);
 * the exported file, loaded back by the lab's own Hugging Face loader as a plain full-precision
 * checkpoint, gives logits equal, value for value, to the quantized model's in the lab (same
 * backend); the codes and scales in the file rebuild its dequantized weights bit for bit; the
 * lab's own tiny GPT round-trips through its own checkpoint layout; and through LmLab, the
 * exported run evaluated as an FP checkpoint has the quantized run's validation NLL exactly, and
 * GPTQ's act-order groups, which no per-group codes describe, are refused with the reason.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerQuant, WeightQuant } from '../src/engine/core/layerquant';
import { decodeMatrix } from '../src/engine/core/quantizers/codes';
import type { QuantizerSpec } from '../src/engine/core/quantizers';
import { loadGpt } from '../src/engine/lm/checkpoint';
import { exportQuantizedLm, readQuantized, type ExportLayout, type QuantizedTensorInfo } from '../src/engine/lm/export';
import { cloneGpt, disposeGpt, gptForward, initGpt, type Gpt, type GptQuant } from '../src/engine/lm/gpt';
import { gptqGpt } from '../src/engine/lm/gptq';
import { loadHfModel, type HfModelFiles } from '../src/engine/lm/hf';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { LmLab } from '../src/engine/lm/lab';
import { disposeGptQuant, ptqEvalQuant, refreshGptCodebooks, rtnGpt } from '../src/engine/lm/quantize';
import { parseSafetensors } from '../src/engine/lm/safetensors';
import type { LmComponent } from '../src/engine/lm/spec';
import { disposeEvalSet, makeEvalSet, trainLm } from '../src/engine/lm/train';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';
import { bpeTokenizerJson, gpt2Config, gpt2Tensors, neoxConfig, neoxTensors, safetensorsOf, type ModelSpec } from './helpers/hf-fixtures';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat and the cat ran home. a bird sang; the dog slept.\n'.repeat(12);
const GPT2_TOK = bpeTokenizerJson(CORPUS, 40, 'gpt2');
const NEOX_TOK = bpeTokenizerJson(CORPUS, 40, 'neox');
const G2: ModelSpec = { layers: 2, d: 32, heads: 4, vocab: parseHfTokenizer(GPT2_TOK).vocab, nPos: 64, inner: 128 };
const NX: ModelSpec = { layers: 2, d: 32, heads: 4, vocab: 320, nPos: 64, inner: 96 };
const T = 16;

const gpt2Files = (): HfModelFiles => ({ config: JSON.stringify(gpt2Config(G2)), weights: safetensorsOf(gpt2Tensors(G2, 11)), tokenizer: GPT2_TOK });
const neoxFiles = (): HfModelFiles => ({ config: JSON.stringify(neoxConfig(NX, 0.5)), weights: safetensorsOf(neoxTensors(NX, 12)), tokenizer: NEOX_TOK });

const SEQS = [
  [5, 17, 200, 3, 99, 42, 7, 7, 150, 0, 1, 250, 8, 9, 10, 11],
  [31, 8, 64, 128, 255, 2, 90, 91, 92, 16, 40, 33, 1, 2, 3, 4],
];

async function logitsOf(m: Gpt, q?: GptQuant): Promise<Float32Array> {
  const y = tf.tidy(() => gptForward(m, tf.tensor2d(SEQS.flat(), [SEQS.length, T], 'int32'), q));
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

const lab = (bits: number, granularity: 'row' | 'tensor' = 'row'): LayerQuant => ({ weight: { kind: 'lab', bits, granularity }, actBits: 0 });
const zoo = (scheme: QuantizerSpec['scheme'], bits: number, granularity: QuantizerSpec['granularity'] = 'row', groupSize?: number): LayerQuant => ({
  weight: { kind: 'zoo', spec: { scheme, bits, granularity, groupSize, clip: 'none' } },
  actBits: 0,
});
const specsOf = (q: GptQuant): Record<LmComponent, WeightQuant | null> => ({
  embed: q.embed?.weight ?? null,
  attn: q.attn?.weight ?? null,
  mlp: q.mlp?.weight ?? null,
  head: q.head?.weight ?? null,
});

/** Parse an export and check that every quantized weight's codes rebuild the stored weight bit for bit. */
function checkCodes(bytes: Uint8Array, expected: string[]): Record<string, QuantizedTensorInfo> {
  const { tensors, metadata } = parseSafetensors(bytes, { keepF64: true });
  const meta = JSON.parse(metadata.quantization) as { tensors: Record<string, QuantizedTensorInfo>; method: string };
  expect(Object.keys(meta.tensors).sort()).toEqual(expected.slice().sort());
  for (const [name, info] of Object.entries(meta.tensors)) {
    const stored = tensors.get(name)!.data as Float64Array;
    const rebuilt = decodeMatrix(readQuantized(tensors, name, info));
    const want = new Uint32Array(Float32Array.from(stored).buffer);
    const got = new Uint32Array(rebuilt.buffer);
    expect(
      got.findIndex((b, i) => b !== want[i]),
      `${name}: codes rebuild the stored weight bit for bit`,
    ).toBe(-1);
  }
  return meta.tensors;
}

function expectSameLogits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  const bad = got.findIndex((x, i) => x !== want[i]);
  expect(bad, `${what}: logit ${bad} is ${got[bad]} after the round trip, ${want[bad]} in the lab`).toBe(-1);
}

beforeAll(async () => {
  await useBackend();
});

interface Family {
  name: string;
  files: () => HfModelFiles;
  layout: ExportLayout;
  /** The quantizers of RTN and QAFT, and of GPTQ (NVFP4's float64 tensor scale under GPTQ has no float32 form). */
  quant: GptQuant;
  gptqQuant: GptQuant;
  names: { attn: string[]; mlp: string[]; embed: string | null; head: string | null };
}

const g2names = (i: number) => `transformer.h.${i}.`;
const nxnames = (i: number) => `gpt_neox.layers.${i}.`;
const FAMILIES: Family[] = [
  {
    name: 'GPT-2',
    files: gpt2Files,
    layout: 'gpt2',
    // Embedding int8 per token, head int4 in groups of 16: the tied table is written untied.
    quant: { attn: lab(3), mlp: zoo('mxfp4', 4, 'group', 32), embed: lab(8), head: zoo('sym-narrow', 4, 'group', 16) },
    gptqQuant: { attn: lab(3), mlp: zoo('mxfp4', 4, 'group', 32), embed: lab(8), head: zoo('sym-narrow', 4, 'group', 16) },
    names: {
      attn: [0, 1].flatMap((i) => [`${g2names(i)}attn.c_attn.weight`, `${g2names(i)}attn.c_proj.weight`]),
      mlp: [0, 1].flatMap((i) => [`${g2names(i)}mlp.c_fc.weight`, `${g2names(i)}mlp.c_proj.weight`]),
      embed: 'transformer.wte.weight',
      head: 'lm_head.weight',
    },
  },
  {
    name: 'GPT-NeoX',
    files: neoxFiles,
    layout: 'gpt-neox',
    quant: { attn: zoo('asym', 4, 'group', 16), mlp: zoo('nvfp4', 4, 'group', 16), head: zoo('fp8-e4m3', 8) },
    gptqQuant: { attn: zoo('asym', 4, 'group', 16), mlp: zoo('ternary', 1.58), head: zoo('fp8-e4m3', 8) },
    names: {
      attn: [0, 1].flatMap((i) => [`${nxnames(i)}attention.query_key_value.weight`, `${nxnames(i)}attention.dense.weight`]),
      mlp: [0, 1].flatMap((i) => [`${nxnames(i)}mlp.dense_h_to_4h.weight`, `${nxnames(i)}mlp.dense_4h_to_h.weight`]),
      embed: null,
      head: 'embed_out.weight',
    },
  },
];

describe('quantized weights as safetensors, loaded back by the lab’s Hugging Face loader', () => {
  for (const fam of FAMILIES) {
    it(`${fam.name}: RTN, GPTQ and QAFT exports give the quantized model's logits exactly; the codes rebuild the weights`, async () => {
      const before = tf.memory().numTensors;
      const files = fam.files();
      const { model: fp, tokenizer } = await loadHfModel(files, { context: T });
      const ids = tokenizer.encode(CORPUS);
      const n = 8;
      const calib = ids.subarray(0, n * T);
      const val = makeEvalSet(ids.subarray(ids.length - 4 * T - 1), T, 4);
      const runs: { method: string; model: Gpt; evalQ: GptQuant; specs: GptQuant }[] = [];
      runs.push({ method: 'rtn', model: await rtnGpt(fp, fam.quant), evalQ: ptqEvalQuant(fam.quant), specs: fam.quant });
      const g = await gptqGpt(fp, fam.gptqQuant, calib, n, { damp: 0.01, blockSize: 128, actOrder: false });
      runs.push({ method: 'gptq', model: g.model, evalQ: ptqEvalQuant(fam.gptqQuant), specs: fam.gptqQuant });
      const qaft = cloneGpt(fp);
      const o = await trainLm(
        qaft,
        ids,
        val,
        { steps: 10, batch: 4, lr: 3e-3, schedule: 'constant', weightDecay: 0, seed: 1, logEvery: 5, quant: fam.quant },
        () => {},
      );
      expect(o.diverged).toBe(false);
      runs.push({ method: 'qaft', model: qaft, evalQ: fam.quant, specs: fam.quant });
      for (const r of runs) {
        const want = await logitsOf(r.model, r.evalQ);
        const out = await exportQuantizedLm({
          model: r.model,
          quant: r.evalQ,
          specs: specsOf(r.specs),
          layout: fam.layout,
          about: { method: r.method },
          baseConfig: JSON.parse(files.config) as Record<string, unknown>,
        });
        const expected = [...fam.names.attn, ...fam.names.mlp];
        if (r.specs.embed && fam.names.embed) expected.push(fam.names.embed);
        if (r.specs.head && fam.names.head) expected.push(fam.names.head);
        const infos = checkCodes(out.weights, expected);
        if (fam.layout === 'gpt-neox') expect(infos[fam.names.attn[0]].layout).toBe('out-in');
        // QAFT trained the head's bias; RTN and GPTQ keep the checkpoint's zeros.
        expect(
          out.notes.some((x) => /head's bias/.test(x)),
          r.method,
        ).toBe(r.method === 'qaft');
        const back = await loadHfModel({ config: out.config, weights: out.weights, tokenizer: files.tokenizer });
        expect(back.family).toBe(fam.layout);
        if (fam.layout === 'gpt2') expect(JSON.parse(out.config).tie_word_embeddings).toBe(false);
        expectSameLogits(await logitsOf(back.model), want, `${fam.name} ${r.method}`);
        disposeGpt(back.model);
        console.log(`${fam.name} ${r.method}: ${out.weights.length} bytes, ${Object.keys(infos).length} quantized weights, logits equal`);
      }
      for (const r of runs) disposeGpt(r.model);
      disposeEvalSet(val);
      disposeGpt(fp);
      expect(tf.memory().numTensors).toBe(before);
    }, 120_000);
  }

  it('the lab’s tiny GPT round-trips through its own checkpoint layout with codes (RMSNorm, a trained head bias)', async () => {
    const before = tf.memory().numTensors;
    const m = initGpt({ vocab: 40, context: T, layers: 2, heads: 2, dModel: 16, norm: 'rms' }, 3);
    const bias = tf.randomNormal([40], 0, 0.1, 'float32', 5);
    m.headBias.assign(bias);
    bias.dispose();
    const q: GptQuant = { attn: lab(1.58, 'tensor'), mlp: zoo('kmeans', 3, 'row'), embed: lab(4) };
    await refreshGptCodebooks(m, q);
    const want = await logitsOf(m, q);
    const chars = Array.from('abcdefghijklmnopqrstuvwxyz .,;:!?ABCDEFGH'.slice(0, 40));
    const out = await exportQuantizedLm({ model: m, quant: q, specs: specsOf(q), layout: 'lab', about: { method: 'qaft' }, chars });
    checkCodes(out.weights, ['wte', 'h0.wqkv', 'h0.wo', 'h0.wfc', 'h0.wproj', 'h1.wqkv', 'h1.wo', 'h1.wfc', 'h1.wproj']);
    const { model: back, meta } = loadGpt(out.weights);
    expect(meta.chars).toEqual(chars);
    // The embedding is quantized but the head is not: two tables.
    expect(back.config.untiedHead).toBe(true);
    expectSameLogits(await logitsOf(back), want, 'tiny GPT');
    disposeGpt(back);
    disposeGptQuant(q);
    disposeGpt(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('through LmLab: the exported RTN, QAFT and LSQ runs, evaluated as FP checkpoints, have the quantized runs’ validation NLL exactly', async () => {
    const env = {
      fetchText: async (url: string): Promise<string> => {
        throw new Error(`no network in this test (${url})`);
      },
      fetchBytes: async (url: string): Promise<Uint8Array> => {
        throw new Error(`no network in this test (${url})`);
      },
    };
    const { config: c, messages } = parseParams(
      `v=1&task=lm&lm_src=files&text=own&lm_ctx=${T}&lm_steps=10&lm_batch=4&lm_lr=3e-3&sample_len=8&log=5&budget=8&bits_attn=4&bits_mlp=4&scheme=asym&gran=group&group=16`,
    );
    expect(messages).toEqual([]);
    const lmLab = new LmLab(env);
    lmLab.setOwnText('corpus.txt', CORPUS);
    const files = gpt2Files();
    lmLab.setFiles({ ...files, name: 'tiny-gpt2' });
    const runs = await lmLab.run(c, ['fp', 'rtn', 'qaft'], () => {});
    // LSQ: the weights on a grid of learned per-channel steps (scheme auto, int4 per row).
    const ls = structuredClone(c);
    ls.quant.scheme = 'auto';
    ls.quant.granularity = 'row';
    runs.push(...(await lmLab.run(ls, ['lsq'], () => {})));
    for (const r of runs.slice(1)) {
      const ex = await lmLab.exportWeights(r.id);
      expect(ex.layout).toBe('gpt2');
      expect(ex.files.map((f) => f.name)).toEqual(['model.safetensors', 'config.json', 'tokenizer.json']);
      expect(ex.quantized).toHaveLength(8);
      const get = (name: string) => ex.files.find((f) => f.name === name)!.bytes;
      const text = (name: string) => new TextDecoder().decode(get(name));
      const other = new LmLab(env);
      other.setOwnText('corpus.txt', CORPUS);
      other.setFiles({ config: text('config.json'), weights: get('model.safetensors'), tokenizer: text('tokenizer.json'), name: `export-${r.method}` });
      const [again] = await other.run(c, ['fp'], () => {});
      expect(again.loss, `${r.name} exported`).toBe(r.loss);
      console.log(`LmLab ${r.name}: val NLL ${r.loss} in the lab, ${again.loss} as an exported FP checkpoint`);
      other.dispose();
    }
    await expect(lmLab.exportWeights('no-such-run')).rejects.toThrow(/no longer in memory/);
    // GPTQ with act-order and groups: its groups are not runs of consecutive inputs, so no codes describe them.
    const act = structuredClone(c);
    act.gptq.actOrder = true;
    const [gptq] = await lmLab.run(act, ['gptq'], () => {});
    await expect(lmLab.exportWeights(gptq.id)).rejects.toThrow(
      /cannot be exported: .*not on the asym grid.*With act-order, GPTQ’s groups are not runs of consecutive inputs/,
    );
    lmLab.dispose();
  }, 120_000);
});
