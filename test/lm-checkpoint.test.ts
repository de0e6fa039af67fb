/**
 * The safetensors codec (round trip, F16/BF16/I64 decoding against hand values, every malformed
 * case), the lab's GPT checkpoint format (same logits after a round trip, clear errors), and the
 * shipped assets: the corpus is what scripts/make-corpus.ts generates, and the checkpoint matches
 * the corpus and DEFAULT_CONFIG.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { GPT_CHECKPOINT_FORMAT, gptNamedVariables, loadGpt, saveGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt, gptForward, gptParams, initGpt, type Gpt, type GptConfig } from '../src/engine/lm/gpt';
import { parseSafetensors, serializeSafetensors, type SafetensorsInput } from '../src/engine/lm/safetensors';
import { charTokenizer } from '../src/engine/lm/tokenizer';
import { useBackend } from './helpers/backend';
import { REPO_ROOT, runChild } from './helpers/spawn';

/** A file from a header (object or raw JSON text) and data bytes; the header length may be overridden. */
function rawFile(header: object | string, data: Uint8Array, headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, headerLen ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const u16 = (xs: number[]) => new Uint8Array(Uint16Array.from(xs).buffer);

describe('safetensors', () => {
  it('round-trips F32 and I32 tensors and metadata, with a space-padded 8-aligned header', () => {
    const a = Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7e20]);
    const b = Int32Array.from([7, -1, 2147483647, -2147483648]);
    const empty = new Float32Array(0);
    const bytes = serializeSafetensors(
      [
        { name: 'w.a', dtype: 'F32', shape: [2, 3], data: a },
        { name: 'ids', dtype: 'I32', shape: [4], data: b },
        { name: 'none', dtype: 'F32', shape: [0, 5], data: empty },
      ],
      { format: 'test', note: 'ünïcode ✓' },
    );
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(headerText.startsWith('{')).toBe(true);
    expect(/^[^ ]*\}( *)$/.test(headerText.replace(/"[^"]*"/g, '""'))).toBe(true);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'test', note: 'ünïcode ✓' });
    expect([...f.tensors.keys()]).toEqual(['w.a', 'ids', 'none']);
    expect(f.tensors.get('w.a')).toEqual({ dtype: 'F32', shape: [2, 3], data: a });
    expect(f.tensors.get('ids')).toEqual({ dtype: 'I32', shape: [4], data: b });
    expect(f.tensors.get('none')!.shape).toEqual([0, 5]);
    expect(f.tensors.get('none')!.data.length).toBe(0);
    // Parsing a subarray at an odd offset (unaligned data) gives the same values.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const g = parseSafetensors(shifted.subarray(3));
    expect(Array.from(g.tensors.get('w.a')!.data)).toEqual(Array.from(a));
    expect(Array.from(g.tensors.get('ids')!.data)).toEqual(Array.from(b));
    // No tensors and no metadata is a valid file.
    expect(parseSafetensors(serializeSafetensors([])).tensors.size).toBe(0);
  });

  it('decodes F16, BF16, F64, I64, I16, I8, U8 and BOOL against hand values', () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0xfc00, 0x8000, 0x0400];
    const bf16 = [0x3f80, 0xc049, 0x7f80, 0x0001, 0xbf00];
    const f64 = new Uint8Array(Float64Array.from([0.1, -1e300]).buffer);
    const i64 = new Uint8Array(BigInt64Array.from([5n, -3n, 2147483647n, -2147483648n]).buffer);
    const i16 = new Uint8Array(Int16Array.from([-32768, 12]).buffer);
    const i8 = Uint8Array.from([0xff, 0x7f]);
    const u8 = Uint8Array.from([0, 200, 255]);
    const bool = Uint8Array.from([1, 0, 1]);
    const parts: [string, string, number[], Uint8Array][] = [
      ['h', 'F16', [f16.length], u16(f16)],
      ['b', 'BF16', [bf16.length], u16(bf16)],
      ['d', 'F64', [2], f64],
      ['l', 'I64', [2, 2], i64],
      ['s', 'I16', [2], i16],
      ['c', 'I8', [2], i8],
      ['u', 'U8', [3], u8],
      ['t', 'BOOL', [3], bool],
    ];
    const header: Record<string, object> = {};
    let off = 0;
    for (const [name, dtype, shape, bytes] of parts) {
      header[name] = { dtype, shape, data_offsets: [off, off + bytes.length] };
      off += bytes.length;
    }
    const data = new Uint8Array(off);
    off = 0;
    for (const [, , , bytes] of parts) {
      data.set(bytes, off);
      off += bytes.length;
    }
    const f = parseSafetensors(rawFile(header, data));
    const get = (k: string) => Array.from(f.tensors.get(k)!.data);
    expect(get('h')).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125, Infinity, -Infinity, -0, 2 ** -14]);
    expect(f.tensors.get('h')!.data).toBeInstanceOf(Float32Array);
    expect(get('b')).toEqual([1, -3.140625, Infinity, 2 ** -133, -0.5]);
    expect(get('d')).toEqual([Math.fround(0.1), -Infinity]);
    expect(get('l')).toEqual([5, -3, 2147483647, -2147483648]);
    expect(f.tensors.get('l')!.data).toBeInstanceOf(Int32Array);
    expect(f.tensors.get('l')!.shape).toEqual([2, 2]);
    expect(get('s')).toEqual([-32768, 12]);
    expect(get('c')).toEqual([-1, 127]);
    expect(get('u')).toEqual([0, 200, 255]);
    expect(get('t')).toEqual([1, 0, 1]);
    // F16 NaN stays NaN.
    const nan = parseSafetensors(rawFile({ x: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, u16([0x7e00])));
    expect(Number.isNaN(nan.tensors.get('x')!.data[0])).toBe(true);
  });

  it('rejects malformed files with messages naming the file', () => {
    const name = 'model.safetensors';
    const p = (b: Uint8Array, maxBytes?: number) => () => parseSafetensors(b, { name, maxBytes });
    const four = new Uint8Array(4);
    const t = (begin: number, end: number, shape = [1], dtype = 'F32') => ({ dtype, shape, data_offsets: [begin, end] });
    const good = serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);

    expect(p(new Uint8Array(5))).toThrow(/^model\.safetensors: the file is only 5 bytes, too short/);
    expect(p(rawFile({ w: t(0, 4) }, four, 1000))).toThrow(/model\.safetensors: the header length \(1,000 bytes\) goes beyond the end of the file/);
    expect(p(rawFile('{"w": nope}', four))).toThrow(/model\.safetensors: the header is not valid JSON/);
    expect(p(rawFile('[1,2,3]', four))).toThrow(/does not start with "\{"/);
    expect(p(rawFile('{}', new Uint8Array(0), 1))).toThrow(/too short for a JSON object/);
    expect(p(rawFile({ w: t(0, 4, [1], 'F8_E4M3') }, four))).toThrow(/tensor "w" has the dtype "F8_E4M3", which the lab does not read/);
    expect(p(rawFile({ w: t(0, 4, [1], 'toString') }, four))).toThrow(/dtype "toString"/);
    expect(p(rawFile({ w: t(0, 8) }, four))).toThrow(
      /tensor "w"'s data_offsets \[0, 8\] go beyond the data \(4 bytes after the header\): the file is truncated/,
    );
    expect(p(rawFile({ w: t(0, 4, [2]) }, four))).toThrow(/tensor "w" is F32 \[2\] = 8 bytes, but its data_offsets \[0, 4\] span 4 bytes/);
    expect(p(rawFile({ w: t(4, 0) }, four))).toThrow(/end before they begin/);
    expect(p(rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, four))).toThrow(/shape \[-1\], not a list of non-negative integers/);
    expect(p(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, four))).toThrow(/data_offsets \[0\], not two/);
    expect(p(rawFile({ w: { shape: [1], data_offsets: [0, 4] } }, four))).toThrow(/tensor "w" has no dtype/);
    expect(p(rawFile({ w: 3 }, four))).toThrow(/tensor "w" is not described by an object/);
    expect(p(rawFile({ a: t(0, 4), b: t(2, 6) }, new Uint8Array(6)))).toThrow(/tensor "b" \[2, 6\] overlaps tensor "a" \[0, 4\]/);
    expect(p(rawFile({ a: t(0, 4), b: t(8, 12) }, new Uint8Array(12)))).toThrow(/bytes 4–8 of the data belong to no tensor/);
    expect(p(rawFile({ w: t(0, 4) }, new Uint8Array(7)))).toThrow(/the tensors cover 4 of the 7 data bytes; 3 trailing bytes belong to no tensor/);
    expect(p(rawFile({ __metadata__: { a: 1 }, w: t(0, 4) }, four))).toThrow(/"__metadata__"\."a" is not a string/);
    expect(p(rawFile({ w: t(0, 8, [1], 'I64') }, new Uint8Array(BigInt64Array.from([2n ** 31n]).buffer)))).toThrow(
      /tensor "w" \(I64\): element 0 \(2147483648\) is outside the int32 range/,
    );
    expect(p(rawFile({ w: t(0, 1, [1], 'BOOL') }, Uint8Array.from([2])))).toThrow(/not a boolean/);
    expect(p(good, 16)).toThrow(new RegExp(`model\\.safetensors: the file is ${good.length} bytes, over the limit of 16 bytes`));
    expect(() => parseSafetensors(new Uint8Array(3 * 2 ** 20), { maxBytes: 2 ** 20 })).toThrow(
      /^the safetensors file: the file is 3\.00 MiB \(3,145,728 bytes\), over the limit of 1\.00 MiB \(1,048,576 bytes\)/,
    );
    expect(parseSafetensors(good, { maxBytes: good.length }).tensors.size).toBe(1);
  });

  it('refuses to write inconsistent tensors', () => {
    expect(() => serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/shape \[3\] \(3 elements\) but 2 values/);
    expect(() => serializeSafetensors([{ name: 'w', dtype: 'I32', shape: [2], data: new Float32Array(2) }])).toThrow(
      /declared I32 but its data is a Float32Array/,
    );
    const w = { name: 'w', dtype: 'F32' as const, shape: [1], data: new Float32Array(1) };
    expect(() => serializeSafetensors([w, w])).toThrow(/reserved or repeated/);
    expect(() => serializeSafetensors([{ ...w, name: '__metadata__' }])).toThrow(/reserved or repeated/);
  });
});

describe('GPT checkpoint', () => {
  const chars = Array.from('\n !".?abcdefghijklmnopqrst');
  const base: GptConfig = { vocab: chars.length, context: 16, layers: 2, heads: 2, dModel: 16, norm: 'rms' };
  const tokens = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 5 + 3) % chars.length);
  const meta = {
    chars,
    lmFp: { lr: 3e-3, batch: 32, unit: 'steps' as const, steps: 10, epochs: 1, schedule: 'linear' as const, weightDecay: 0.01, seed: 0 },
    valFraction: 0.1,
    corpusSha256: 'ab'.repeat(32),
    valNll: 1.25,
    note: 'hello',
  };

  beforeAll(async () => {
    await useBackend();
  });

  /** A model whose every variable (biases and gains included) holds distinct random values. */
  function randomModel(config: GptConfig, seed: number): Gpt {
    const m = initGpt(config, seed);
    gptParams(m).forEach((p, i) => tf.tidy(() => p.assign(tf.add(p, tf.randomNormal(p.shape, 0, 0.05, 'float32', seed * 100 + i)))));
    return m;
  }
  const logits = async (m: Gpt) => {
    const t = tf.tidy(() => gptForward(m, tf.tensor2d(tokens, [2, 16], 'int32')));
    const d = await t.data();
    t.dispose();
    return d;
  };

  it('round-trips weights, config and meta: the same logits, no leaked tensors', async () => {
    for (const extra of [{}, { norm: 'layer' as const, bitnet: true }]) {
      const m = randomModel({ ...base, ...extra }, 7);
      const bytes = await saveGpt(m, meta);
      const before = tf.memory().numTensors;
      const { model, meta: got } = loadGpt(bytes, { name: 'tiny.safetensors' });
      expect(model.config).toEqual(m.config);
      expect(got).toEqual({ format: GPT_CHECKPOINT_FORMAT, ...meta });
      const names = gptNamedVariables(m).map(([n]) => n);
      expect(names).toContain('h1.wproj');
      expect(names).toContain(extra.norm === 'layer' ? 'h0.norm1.1' : 'h0.norm1.0');
      expect(gptNamedVariables(model).map(([n]) => n)).toEqual(names);
      for (const [[n, a], [, b]] of gptNamedVariables(m).map((x, i) => [x, gptNamedVariables(model)[i]] as const)) {
        expect(Array.from(await b.data()), n).toEqual(Array.from(await a.data()));
      }
      expect(Array.from(await logits(model))).toEqual(Array.from(await logits(m)));
      const raw = parseSafetensors(bytes);
      expect(raw.metadata.format).toBe(GPT_CHECKPOINT_FORMAT);
      expect(JSON.parse(raw.metadata.config)).toEqual(m.config);
      expect(raw.tensors.get('wte')!.shape).toEqual([base.dModel, base.vocab]);
      disposeGpt(model);
      expect(tf.memory().numTensors).toBe(before);
      disposeGpt(m);
    }
  });

  it('passes unknown optional config fields through', async () => {
    const m = initGpt(base, 1);
    (m.config as GptConfig & { futureField?: string }).futureField = 'kept';
    const { model } = loadGpt(await saveGpt(m, { chars }));
    expect((model.config as GptConfig & { futureField?: string }).futureField).toBe('kept');
    disposeGpt(model);
    disposeGpt(m);
  });

  it('rejects malformed checkpoints with clear messages and leaks nothing', async () => {
    const m = initGpt(base, 2);
    const good = await saveGpt(m, meta);
    disposeGpt(m);
    const { tensors, metadata } = parseSafetensors(good);
    const list = (): SafetensorsInput[] => [...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data as Float32Array }));
    const rebuild = (ts: SafetensorsInput[], md: Record<string, string>) => serializeSafetensors(ts, md);
    const before = tf.memory().numTensors;
    const load = (b: Uint8Array) => () => loadGpt(b, { name: 'ckpt.safetensors' });

    expect(load(good.subarray(0, good.length - 10))).toThrow(/^ckpt\.safetensors: .*the file is truncated|^ckpt\.safetensors: the tensors cover/);
    expect(load(rebuild(list(), { ...metadata, format: 'other/2' }))).toThrow(
      /ckpt\.safetensors: the checkpoint format is "other\/2"; this lab reads "qaft-lab-gpt\/1"/,
    );
    const { format: _f, ...noFormat } = metadata;
    expect(load(rebuild(list(), noFormat))).toThrow(/not a QAFT Lab GPT checkpoint/);
    const { config: _c, ...noConfig } = metadata;
    expect(load(rebuild(list(), noConfig))).toThrow(/has no "config"/);
    expect(load(rebuild(list(), { ...metadata, config: '{oops' }))).toThrow(/"config" is not valid JSON/);
    expect(load(rebuild(list(), { ...metadata, config: JSON.stringify({ ...base, heads: 0 }) }))).toThrow(/"heads" is 0, not a positive integer/);
    expect(load(rebuild(list(), { ...metadata, config: JSON.stringify({ ...base, norm: 'batch' }) }))).toThrow(/"norm" is "batch"/);
    expect(load(rebuild(list(), { ...metadata, config: JSON.stringify({ ...base, dModel: 64 }) }))).toThrow(
      /tensor "wte" has shape \[16, 26\], but the config .* needs \[64, 26\]/,
    );
    expect(load(rebuild(list(), { ...metadata, config: JSON.stringify({ ...base, layers: 3 }) }))).toThrow(/the tensor "h2.wqkv" is missing/);
    expect(load(rebuild(list(), { ...metadata, chars: JSON.stringify(chars.slice(1)) }))).toThrow(
      /"chars" lists 25 characters but the model's vocabulary is 26/,
    );
    expect(load(rebuild(list(), { ...metadata, chars: '[1,2' }))).toThrow(/"chars" is not valid JSON/);
    expect(
      load(
        rebuild(
          list().filter((t) => t.name !== 'h0.bo' && t.name !== 'headBias'),
          metadata,
        ),
      ),
    ).toThrow(/2 tensors are missing: h0\.bo, headBias/);
    expect(load(rebuild([...list(), { name: 'h0.lora', dtype: 'F32', shape: [1], data: new Float32Array(1) }], metadata))).toThrow(
      /tensors this model does not: h0\.lora/,
    );
    expect(
      load(
        rebuild(
          list().map((t) => (t.name === 'h1.wfc' ? { ...t, shape: [4 * base.dModel, base.dModel] } : t)),
          metadata,
        ),
      ),
    ).toThrow(/tensor "h1\.wfc" has shape \[64, 16\]; the model needs \[16, 64\]/);
    expect(
      load(
        rebuild(
          list().map((t) => (t.name === 'h0.bo' ? { ...t, dtype: 'I32', data: new Int32Array(t.data.length) } : t)),
          metadata,
        ),
      ),
    ).toThrow(/tensor "h0\.bo" is I32, not a float tensor/);
    expect(() => loadGpt(good, { maxBytes: 1000 })).toThrow(/^the checkpoint: the file is .* over the limit of 1000 bytes/);
    expect(tf.memory().numTensors).toBe(before);
    const m2 = initGpt(base, 3);
    await expect(saveGpt(m2, { config: 1 })).rejects.toThrow(/"config" is written by the checkpoint format/);
    await expect(saveGpt(m2, { chars: chars.slice(2) })).rejects.toThrow(/"chars" lists 24 characters/);
    disposeGpt(m2);
  });
});

describe('shipped LM assets', () => {
  const corpusPath = path.join(REPO_ROOT, 'public/lm/corpus.txt');
  const ckptPath = path.join(REPO_ROOT, 'public/lm/tiny-gpt.safetensors');

  it('public/lm/corpus.txt is exactly what `npm run corpus` generates: ~1 MB of printable ASCII', async () => {
    const text = readFileSync(corpusPath, 'utf8');
    expect(text.length).toBeGreaterThan(900_000);
    expect(/^[\n\x20-\x7e]*$/.test(text)).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corpus-'));
    try {
      const out = path.join(dir, 'corpus.txt');
      const r = await runChild('npx', ['tsx', 'scripts/make-corpus.ts', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8') === text).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('public/lm/tiny-gpt.safetensors matches the corpus and DEFAULT_CONFIG.lm / lmFp, and beats the unigram model', async () => {
    await useBackend();
    expect(existsSync(ckptPath), 'run `npm run pretrain-lm`').toBe(true);
    const bytes = readFileSync(ckptPath);
    expect(bytes.length).toBeLessThan(5 * 2 ** 20);
    const text = readFileSync(corpusPath, 'utf8');
    const { model, meta } = loadGpt(bytes, { name: 'public/lm/tiny-gpt.safetensors' });
    try {
      const l = DEFAULT_CONFIG.lm;
      expect(meta.corpusSha256).toBe(createHash('sha256').update(text).digest('hex'));
      expect(meta.chars).toEqual(charTokenizer(text).chars);
      expect(model.config).toEqual({
        vocab: meta.chars!.length,
        context: l.context,
        layers: l.layers,
        heads: l.heads,
        dModel: l.dModel,
        norm: l.norm,
        bitnet: l.bitnet,
      });
      expect(meta.valFraction).toBe(l.valFraction);
      expect(JSON.stringify(meta.lmFp), 'the checkpoint was trained with other lmFp settings: re-run `npm run pretrain-lm`').toBe(
        JSON.stringify(DEFAULT_CONFIG.lmFp),
      );
      expect(meta.valNll as number).toBeLessThan((meta.unigramEntropy as number) - 1);
    } finally {
      disposeGpt(model);
    }
  });
});
