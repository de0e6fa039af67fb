/**
 * Hugging Face checkpoints in the engine: tiny GPT-2 and GPT-NeoX checkpoints made here (real
 * tensor names and layouts, config.json, a byte-level BPE tokenizer.json) load into the Gpt and
 * give the logits of an independent Float64 reference forward; the tokenizer round-trips; every
 * malformed file gets its message and leaves no tensors; the files come over real HTTP from a
 * local server; and the methods' machinery (gradients, quantized training, hooks) runs on them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneGpt, disposeGpt, gptForward, gptLinears, gptLoss, gptParams, gptTensors, initGpt, type Gpt } from '../src/engine/lm/gpt';
import { fetchHfModel, hfFolderUrl, loadHfModel, type HfFetchProgress, type HfModelFiles } from '../src/engine/lm/hf';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { disposeEvalSet, makeEvalSet, trainLm } from '../src/engine/lm/train';
import { useBackend } from './helpers/backend';
import {
  bpeTokenizerJson,
  gpt2Config,
  gpt2Tensors,
  neoxConfig,
  neoxTensors,
  refGpt2,
  refNeox,
  safetensorsOf,
  type ModelSpec,
  type Tensors,
} from './helpers/hf-fixtures';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat and the cat ran home. a bird sang; the dog slept.\n'.repeat(8);
const GPT2_TOK = bpeTokenizerJson(CORPUS, 40, 'gpt2');
const NEOX_TOK = bpeTokenizerJson(CORPUS, 40, 'neox');
const gpt2Vocab = parseHfTokenizer(GPT2_TOK).vocab;
const G2: ModelSpec = { layers: 2, d: 32, heads: 4, vocab: gpt2Vocab, nPos: 64, inner: 128 };
const NX: ModelSpec = { layers: 2, d: 32, heads: 4, vocab: 320, nPos: 64, inner: 96 };
const PCT = 0.5; // head size 8 → 4 rotary dims and 4 that pass through

const gpt2T = gpt2Tensors(G2, 11);
const neoxT = neoxTensors(NX, 12);
const gpt2Files = (t: Tensors = gpt2T, extra: Record<string, unknown> = {}): HfModelFiles => ({
  config: JSON.stringify(gpt2Config(G2, extra)),
  weights: safetensorsOf(t),
  tokenizer: GPT2_TOK,
});
const neoxFiles = (t: Tensors = neoxT, extra: Record<string, unknown> = {}): HfModelFiles => ({
  config: JSON.stringify(neoxConfig(NX, PCT, extra)),
  weights: safetensorsOf(t),
  tokenizer: NEOX_TOK,
});

const SEQS = [
  [5, 17, 200, 3, 99, 42, 7, 7, 150, 0, 1, 250],
  [31, 8, 64, 128, 255, 2, 90, 91, 92, 16, 40, 33],
];

async function logitsOf(m: Gpt, seqs: number[][]): Promise<Float32Array> {
  const y = tf.tidy(() => gptForward(m, tf.tensor2d(seqs.flat(), [seqs.length, seqs[0].length], 'int32')));
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

function maxDiff(got: Float32Array, ref: Float64Array[][], vocab: number): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  ref.forEach((seq, b) =>
    seq.forEach((r, t) =>
      r.forEach((v, k) => {
        diff = Math.max(diff, Math.abs(got[(b * seq.length + t) * vocab + k] - v));
        scale = Math.max(scale, Math.abs(v));
      }),
    ),
  );
  return { diff, scale };
}

beforeAll(async () => {
  await useBackend();
});

describe('HF tokenizer (@huggingface/tokenizers)', () => {
  it('byte-level BPE round-trips any text and uses its merges', () => {
    for (const json of [GPT2_TOK, NEOX_TOK]) {
      const tok = parseHfTokenizer(json);
      for (const text of ['the cat sat on the mat.', '  two  spaces\nand\ttabs\r\n', 'naïve café — 中文, emoji 🐈‍⬛!', "it's <|endoftext|> the end", '']) {
        const ids = tok.encode(text);
        expect(tok.decode(ids), JSON.stringify(text)).toBe(text);
        for (const id of ids) expect(id).toBeLessThan(tok.vocab);
      }
      expect(tok.encode(' the cat').length).toBeLessThan(' the cat'.length); // merges apply
      expect(tok.encode('the cat sat').length).toBeLessThanOrEqual(3);
      expect(Array.from(tok.encode('<|endoftext|>'))).toEqual([tok.eosId]);
      expect(() => tok.decode([tok.vocab])).toThrow(/token id \d+ at position 0 is not in the vocabulary/);
    }
    expect(parseHfTokenizer(GPT2_TOK).eosId).toBe(gpt2Vocab - 1);
    expect(parseHfTokenizer(NEOX_TOK).eosId).toBe(0);
    expect(() => parseHfTokenizer('{"model": ')).toThrow(/tokenizer.json is not valid JSON/);
    expect(() => parseHfTokenizer('{"version": "1.0"}')).toThrow(/tokenizer.json has no "model" section/);
    expect(() => parseHfTokenizer('{"model": {"type": "BPE", "vocab": {"a": 0}}}')).toThrow(/no merges list/);
  });
});

describe('loading HF checkpoints', () => {
  it('GPT-2: logits equal the Float64 reference, with and without the "transformer." prefix, tied or not', async () => {
    const before = tf.memory().numTensors;
    const variants: { t: Tensors; o: { prefix?: string; untied?: boolean }; extra: Record<string, unknown> }[] = [
      { t: gpt2T, o: {}, extra: {} },
      { t: gpt2Tensors(G2, 13, { prefix: 'transformer.', untied: true }), o: { prefix: 'transformer.', untied: true }, extra: { tie_word_embeddings: false } },
    ];
    for (const { t, o, extra } of variants) {
      const { model, tokenizer, family, name } = await loadHfModel(gpt2Files(t, extra));
      expect([family, name, tokenizer.vocab]).toEqual(['gpt2', 'tiny-gpt2', G2.vocab]);
      expect(model.config).toMatchObject({
        vocab: G2.vocab,
        context: 64,
        layers: 2,
        heads: 4,
        dModel: 32,
        norm: 'layer',
        gelu: 'tanh',
        untiedHead: !!o.untied,
      });
      const got = await logitsOf(model, SEQS);
      const { diff, scale } = maxDiff(
        got,
        SEQS.map((s) => refGpt2(t, G2, s, o)),
        G2.vocab,
      );
      console.log(`GPT-2${o.prefix ? ' (transformer., untied)' : ''}: max |logit − ref| ${diff.toExponential(2)} (logits up to ${scale.toFixed(1)})`);
      expect(scale).toBeGreaterThan(1);
      expect(diff).toBeLessThan(2e-4 * scale);
      disposeGpt(model);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GPT-NeoX: logits equal the reference (per-head q/k/v reordered, partial rotary, parallel residual, untied head)', async () => {
    const before = tf.memory().numTensors;
    const { model, family, tokenizer } = await loadHfModel(neoxFiles());
    expect(family).toBe('gpt-neox');
    expect(tokenizer.vocab).toBeLessThan(NX.vocab); // embeddings padded past the tokenizer, as in Pythia
    expect(model.config).toMatchObject({ positions: 'rotary', rotaryPct: PCT, parallelResidual: true, gelu: 'exact', untiedHead: true, mlpHidden: 96 });
    const got = await logitsOf(model, SEQS);
    const { diff, scale } = maxDiff(
      got,
      SEQS.map((s) => refNeox(neoxT, NX, PCT, s)),
      NX.vocab,
    );
    console.log(`GPT-NeoX: max |logit − ref| ${diff.toExponential(2)} (logits up to ${scale.toFixed(1)})`);
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(2e-4 * scale);
    // A shorter engine context (the lab's windows) gives the same logits on the first positions.
    const short = await loadHfModel(neoxFiles(), { context: 12 });
    expect(short.model.config.context).toBe(12);
    const g2 = await logitsOf(short.model, SEQS);
    expect(
      maxDiff(
        g2,
        SEQS.map((s) => refNeox(neoxT, NX, PCT, s)),
        NX.vocab,
      ).diff,
    ).toBeLessThan(2e-4 * scale);
    // use_parallel_residual false gives the sequential block (so different logits).
    const seq = await loadHfModel(neoxFiles(neoxT, { use_parallel_residual: false }));
    expect(seq.model.config.parallelResidual).toBe(false);
    expect(
      maxDiff(
        await logitsOf(seq.model, SEQS),
        SEQS.map((s) => refNeox(neoxT, NX, PCT, s)),
        NX.vocab,
      ).diff,
    ).toBeGreaterThan(1e-3);
    for (const m of [model, short.model, seq.model]) disposeGpt(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('every malformed input names its problem and leaves no tensors', async () => {
    const before = tf.memory().numTensors;
    const without = (t: Tensors, name: string) => new Map([...t].filter(([k]) => k !== name));
    const reshaped = (t: Tensors, name: string, shape: number[]) =>
      new Map(
        [...t].map(([k, x]) => [
          k,
          k === name
            ? {
                shape,
                data: x.data.subarray(
                  0,
                  shape.reduce((a, b) => a * b, 1),
                ),
              }
            : x,
        ]),
      );
    const good = gpt2Files();
    const cases: [HfModelFiles, RegExp, { maxBytes?: number; context?: number }?][] = [
      [{ ...good, config: '{"model_type": "gpt2",' }, /config.json is not valid JSON/],
      [{ ...good, config: '{"model_type": "llama"}' }, /config.json has model_type "llama": the lab loads GPT-2 \("gpt2".*GPT-NeoX \("gpt_neox"/],
      [{ ...good, config: '{}' }, /config.json has no model_type/],
      [{ ...good, config: JSON.stringify({ ...gpt2Config(G2), n_embd: 'big' }) }, /config.json: n_embd is "big"; it must be a positive integer/],
      [{ ...good, config: JSON.stringify(gpt2Config(G2, { activation_function: 'relu' })) }, /activation_function "relu" is not supported/],
      [gpt2Files(without(gpt2T, 'h.1.mlp.c_fc.bias')), /model.safetensors has no tensor "h.1.mlp.c_fc.bias"/],
      [
        gpt2Files(reshaped(gpt2T, 'h.0.attn.c_attn.weight', [32, 64])),
        /tensor "h.0.attn.c_attn.weight" has shape \[32, 64\], but config.json implies \[32, 96\]/,
      ],
      [{ ...good, weights: good.weights.subarray(0, good.weights.length - 100) }, /model.safetensors: .*truncated/],
      [{ ...good, weights: good.weights.subarray(0, 5) }, /model.safetensors: the file is only 5 bytes/],
      [good, /model.safetensors: the file is .* over the limit of/, { maxBytes: 1000 }],
      [{ ...good, weights: neoxFiles().weights }, /has no tensor "transformer.wte.weight" or "wte.weight", so it is not a GPT-2 checkpoint/],
      [{ ...good, tokenizer: '{"model":' }, /tokenizer.json is not valid JSON/],
      [
        {
          ...good,
          tokenizer: NEOX_TOK,
          config: JSON.stringify(gpt2Config({ ...G2, vocab: 100 })),
          weights: safetensorsOf(gpt2Tensors({ ...G2, vocab: 100 }, 1)),
        },
        /tokenizer.json has \d+ token ids, but the model's embedding has only 100 rows/,
      ],
      [good, /The context 65 exceeds the checkpoint's n_positions \(64\)/, { context: 65 }],
      [neoxFiles(without(neoxT, 'embed_out.weight')), /no tensor "embed_out.weight" \(tie_word_embeddings is false/],
      [
        neoxFiles(reshaped(neoxT, 'gpt_neox.layers.1.attention.query_key_value.weight', [96, 16])),
        /"gpt_neox.layers.1.attention.query_key_value.weight" has shape \[96, 16\], but config.json implies \[96, 32\]/,
      ],
      [neoxFiles(neoxT, { rotary_pct: 0.1 }), /rotary_pct 0.1 of the head size 8 gives 0 rotary dims/],
      [neoxFiles(neoxT, { rope_scaling: { type: 'linear', factor: 2 } }), /rope_scaling is set/],
    ];
    for (const [files, re, opts] of cases) {
      await expect(loadHfModel(files, opts), String(re)).rejects.toThrow(re);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('fetching HF checkpoints over HTTP (local server)', () => {
  let server: Server;
  let base = '';
  const requests: string[] = [];
  const files: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    const enc = new TextEncoder();
    const f = neoxFiles();
    Object.assign(files, { '/m/config.json': enc.encode(f.config), '/m/tokenizer.json': enc.encode(f.tokenizer), '/m/model.safetensors': f.weights });
    Object.assign(files, {
      '/llama/config.json': enc.encode('{"model_type": "llama"}'),
      '/cut/config.json': files['/m/config.json'],
      '/cut/tokenizer.json': files['/m/tokenizer.json'],
    });
    server = createServer((req, res) => {
      const url = req.url ?? '';
      requests.push(url);
      if (url === '/cut/model.safetensors') {
        res.writeHead(200, { 'content-length': String(files['/m/model.safetensors'].length) });
        res.write(files['/m/model.safetensors'].subarray(0, 1000));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if (url.startsWith('/err/')) {
        res.writeHead(500, 'Internal Server Error').end('oops');
        return;
      }
      const body = files[url];
      if (!body) res.writeHead(404, 'Not Found').end('not found');
      else res.writeHead(200, { 'content-length': String(body.length) }).end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches the three files with progress, and loads them', async () => {
    const progress: HfFetchProgress[] = [];
    const f = await fetchHfModel(`${base}/m`, fetch, (p) => progress.push(p));
    expect(f.name).toBe('m');
    expect(f.weights).toEqual(files['/m/model.safetensors']);
    const last = progress.filter((p) => p.file === 'model.safetensors').at(-1)!;
    expect(last.loaded).toBe(last.total);
    const { model } = await loadHfModel(f);
    const got = await logitsOf(model, SEQS);
    expect(
      maxDiff(
        got,
        SEQS.map((s) => refNeox(neoxT, NX, PCT, s)),
        NX.vocab,
      ).diff,
    ).toBeLessThan(2e-3);
    disposeGpt(model);
  });

  it('HTTP and network failures get clear messages; unsupported models are refused before the weights', async () => {
    await expect(fetchHfModel(`${base}/none/`)).rejects.toThrow(
      /Fetching config.json from http:\/\/127.0.0.1:\d+\/none\/config.json failed: HTTP 404 Not Found — no such file/,
    );
    await expect(fetchHfModel(`${base}/err/`)).rejects.toThrow(/failed: HTTP 500 Internal Server Error/);
    requests.length = 0;
    await expect(fetchHfModel(`${base}/llama/`)).rejects.toThrow(/model_type "llama"/);
    expect(requests).toEqual(['/llama/config.json']);
    await expect(fetchHfModel(`${base}/m/`, fetch, undefined, { maxBytes: 1000 })).rejects.toThrow(/model.safetensors at .* is .* MiB, over the lab's limit/);
    await expect(fetchHfModel(`${base}/cut/`)).rejects.toThrow(/The download of model.safetensors from .* (failed after|was cut short)/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(fetchHfModel(`http://127.0.0.1:${port}/x/`)).rejects.toThrow(/Could not reach http:\/\/127.0.0.1:\d+\/x\/config.json/);
    expect(hfFolderUrl('https://huggingface.co/EleutherAI/pythia-14m')).toBe('https://huggingface.co/EleutherAI/pythia-14m/resolve/main/');
    expect(hfFolderUrl('https://huggingface.co/openai-community/gpt2/tree/main')).toBe('https://huggingface.co/openai-community/gpt2/resolve/main/');
    expect(hfFolderUrl('https://huggingface.co/EleutherAI/pythia-70m/resolve/main/')).toBe('https://huggingface.co/EleutherAI/pythia-70m/resolve/main/');
  });
});

describe('the methods run on loaded checkpoints', () => {
  it('gather and one-hot embedding lookups agree in value and gradient; the tanh GELU gradient is right', async () => {
    const { model } = await loadHfModel(gpt2Files());
    const x = tf.tensor2d(SEQS.flat(), [2, 12], 'int32');
    const y = tf.tensor2d(
      SEQS.flat().map((v) => (v * 7 + 1) % G2.vocab),
      [2, 12],
      'int32',
    );
    const run = async (lookup: 'onehot' | 'gather') => {
      model.config.embedLookup = lookup;
      const { value, grads } = tf.variableGrads(() => gptLoss(model, x, y), gptParams(model));
      const out = { loss: (await value.data())[0], wte: await grads[model.wte.name].data(), fc: await grads[model.blocks[0].wfc.name].data() };
      value.dispose();
      tf.dispose(grads);
      return out;
    };
    const a = await run('onehot');
    const b = await run('gather');
    expect(b.loss).toBe(a.loss);
    const rel = (p: ArrayLike<number>, q: ArrayLike<number>) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < p.length; i++) [num, den] = [Math.max(num, Math.abs(p[i] - q[i])), Math.max(den, Math.abs(q[i]))];
      return num / den;
    };
    expect(rel(b.wte, a.wte)).toBeLessThan(1e-5);
    expect(rel(b.fc, a.fc)).toBeLessThan(1e-5);
    // The tanh GELU's hand gradient against central differences of the loss along the fc weight.
    const w = model.blocks[0].wfc;
    const dir = tf.tidy(() => tf.randomNormal(w.shape, 0, 1, 'float32', 3));
    const h = 1e-2;
    const lossAt = async (s: number) => {
      const saved = w.clone();
      w.assign(tf.tidy(() => tf.add(saved, tf.mul(dir, s))));
      const l = tf.tidy(() => gptLoss(model, x, y));
      const v = (await l.data())[0];
      l.dispose();
      w.assign(saved);
      saved.dispose();
      return v;
    };
    const numeric = ((await lossAt(h)) - (await lossAt(-h))) / (2 * h);
    const analytic = tf.tidy(() => tf.sum(tf.mul(tf.tensor(a.fc, w.shape), dir)));
    const an = (await analytic.data())[0];
    console.log(`tanh GELU: directional derivative analytic ${an.toFixed(5)}, numeric ${numeric.toFixed(5)}`);
    expect(Math.abs(an - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(an)));
    tf.dispose([x, y, dir, analytic]);
    disposeGpt(model);
  });

  it('quantized training, hooks, clone and dispose work on a NeoX checkpoint with a flat tensor count', async () => {
    const before = tf.memory().numTensors;
    const { model, tokenizer } = await loadHfModel(neoxFiles(), { context: 16 });
    expect(gptTensors(model).length).toBe(gptParams(model).length + 4); // + empty wpe, mask, rope cos/sin
    expect(tf.memory().numTensors).toBe(before + gptTensors(model).length);
    const seen: string[] = [];
    const names = new Map(gptLinears(model).map((l) => [l.w, l.name]));
    tf.tidy(() => {
      gptForward(model, tf.tensor2d(SEQS.map((s) => s.slice(0, 8)).flat(), [2, 8], 'int32'), undefined, { input: (w) => seen.push(names.get(w)!) });
    });
    expect(seen).toEqual(gptLinears(model).map((l) => l.name));
    const ids = tokenizer.encode(CORPUS);
    const val = makeEvalSet(ids.subarray(ids.length - 200), 16, 4);
    const q = { weight: { kind: 'lab' as const, bits: 4, granularity: 'row' as const }, actBits: 0 };
    const copy = cloneGpt(model);
    const counts: number[] = [];
    const out = await trainLm(
      copy,
      ids,
      val,
      { steps: 20, batch: 4, lr: 3e-3, schedule: 'constant', weightDecay: 0, seed: 1, logEvery: 5, quant: { attn: q, mlp: q, head: q, embed: q } },
      () => counts.push(tf.memory().numTensors),
    );
    console.log(`NeoX fixture, int4 QAFT on its own tokens: val NLL ${out.curve.map((p) => p.val.toFixed(3)).join(' → ')}`);
    expect(out.diverged).toBe(false);
    expect(out.valNll).toBeLessThan(out.curve[0].val);
    expect(new Set(counts).size).toBe(1);
    disposeEvalSet(val);
    disposeGpt(copy);
    disposeGpt(model);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the new GptConfig options work on an initialised model too', async () => {
    const before = tf.memory().numTensors;
    const m = initGpt(
      {
        vocab: 50,
        context: 8,
        layers: 1,
        heads: 2,
        dModel: 16,
        norm: 'layer',
        positions: 'rotary',
        rotaryPct: 0.25,
        parallelResidual: true,
        gelu: 'tanh',
        untiedHead: true,
        mlpHidden: 24,
        embedLookup: 'gather',
      },
      1,
    );
    expect(m.wpe.shape).toEqual([0, 16]);
    expect(m.head!.shape).toEqual([16, 50]);
    expect(m.blocks[0].wfc.shape).toEqual([16, 24]);
    const logits = await logitsOf(m, [[1, 2, 3, 4, 5, 6, 7, 8]]);
    expect(logits.every(Number.isFinite)).toBe(true);
    disposeGpt(m);
    expect(tf.memory().numTensors).toBe(before);
  });
});
