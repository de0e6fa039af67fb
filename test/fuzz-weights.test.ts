/**
 * Property-based tests (fast-check, seeded) of the weight loaders on damaged files: a valid tiny
 * checkpoint in the lab's own format (saveGpt) and a tiny Hugging Face GPT-2 / GPT-NeoX checkpoint
 * are mutated — random bytes flipped in the header and in the data, the file truncated, float32
 * elements set to NaN / ±Infinity, header and config JSON values replaced by values of other
 * types — and every load either succeeds with all-finite weights, or throws a plain Error with a
 * message (never a TypeError, RangeError or other class), never accepts a non-finite weight, and
 * leaves no tfjs tensors behind.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { loadGpt, saveGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt, gptTensors, initGpt, type Gpt } from '../src/engine/lm/gpt';
import { loadHfModel, type HfModelFiles } from '../src/engine/lm/hf';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { useBackend } from './helpers/backend';
import { bpeTokenizerJson, gpt2Config, gpt2Tensors, neoxConfig, neoxTensors, safetensorsOf, type ModelSpec } from './helpers/hf-fixtures';

const SEED = 42;
const CHARS = [...'abcdefgh'];

const CORPUS = 'the cat sat on the mat; the dog ran.\n'.repeat(4);
const GPT2_TOK = bpeTokenizerJson(CORPUS, 4, 'gpt2');
const NEOX_TOK = bpeTokenizerJson(CORPUS, 4, 'neox');
const G2: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(GPT2_TOK).vocab, nPos: 16, inner: 16 };
const NX: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(NEOX_TOK).vocab, nPos: 16, inner: 16 };
const GPT2_CONFIG = gpt2Config(G2);
const NEOX_CONFIG = neoxConfig(NX, 0.5);

let own: Uint8Array;
let gpt2Weights: Uint8Array;
let neoxWeights: Uint8Array;

beforeAll(async () => {
  await useBackend();
  const m = initGpt({ vocab: CHARS.length, context: 8, layers: 1, heads: 2, dModel: 8, norm: 'layer', mlpHidden: 16 }, 1);
  own = await saveGpt(m, { chars: CHARS, valFraction: 0.1, lmFp: DEFAULT_CONFIG.lmFp });
  disposeGpt(m);
  gpt2Weights = safetensorsOf(gpt2Tensors(G2, 3));
  neoxWeights = safetensorsOf(neoxTensors(NX, 4));
});

// ---------------------------------------------------------------- the file's parts

const headerLength = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getUint32(0, true);

function headerOf(b: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + headerLength(b))));
}

/** The file with another header (space-padded to 8 bytes, as serializeSafetensors writes it) and the same data. */
function withHeader(b: Uint8Array, header: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = Math.ceil(json.length / 8) * 8;
  const data = b.subarray(8 + headerLength(b));
  const out = new Uint8Array(8 + len + data.length).fill(0x20, 8, 8 + len);
  new DataView(out.buffer).setUint32(0, len, true);
  out.set(json, 8);
  out.set(data, 8 + len);
  return out;
}

// ---------------------------------------------------------------- mutations

/** A JSON value of any type: the replacement for a header or config value. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('false', 'true', '8', 'F32', 'NaN', ''),
  fc.integer({ min: -3, max: 300 }),
  fc.constantFrom(0, -1, 0.5, 1e9, 2 ** 31, 2 ** 53, 1e308, -1e308, 1e-320),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: -2, max: 64 }), { maxLength: 4 }),
  fc.constant({}),
  fc.dictionary(fc.constantFrom('dtype', 'shape', 'x'), fc.constantFrom(1, 'a', null), { maxKeys: 2 }),
);

type Mutation =
  | { kind: 'flip'; region: 'header' | 'data' | 'any'; edits: { at: number; xor: number }[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'nonfinite'; at: number[]; value: number }
  | { kind: 'retype'; target: 'tensor' | 'metadata' | 'metadata-json' | 'config'; entry: number; key: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    region: fc.constantFrom('header' as const, 'data' as const, 'any' as const),
    edits: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('nonfinite' as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    value: fc.constantFrom(NaN, Infinity, -Infinity),
  }),
  fc.record({
    kind: fc.constant('retype' as const),
    target: fc.constantFrom('tensor' as const, 'metadata' as const, 'metadata-json' as const, 'config' as const),
    entry: fc.nat(),
    key: fc.nat(),
    value: jsonValue,
  }),
);

/** Apply a mutation to a safetensors file; `nonfinite` says whether a data float became NaN / ±Infinity. */
function mutate(b: Uint8Array, m: Mutation): { bytes: Uint8Array; nonfinite: boolean } {
  const h = headerLength(b);
  const dataStart = 8 + h;
  if (m.kind === 'flip') {
    const out = b.slice();
    for (const e of m.edits) {
      const at = m.region === 'header' ? e.at % dataStart : m.region === 'data' ? dataStart + (e.at % (b.length - dataStart)) : e.at % b.length;
      out[at] ^= e.xor;
    }
    return { bytes: out, nonfinite: false };
  }
  if (m.kind === 'truncate') return { bytes: b.slice(0, m.at % b.length), nonfinite: false };
  if (m.kind === 'nonfinite') {
    const out = b.slice();
    // The data starts 8-byte aligned (the header is padded) and every tensor is F32: each 4-byte slot is one element.
    const dv = new DataView(out.buffer);
    const n = (b.length - dataStart) / 4;
    for (const i of m.at) dv.setFloat32(dataStart + 4 * (i % n), m.value, true);
    return { bytes: out, nonfinite: true };
  }
  const header = headerOf(b);
  const meta = header.__metadata__ as Record<string, string>;
  const tensors = Object.keys(header).filter((k) => k !== '__metadata__');
  if (m.target === 'config' && typeof meta.config === 'string') {
    // The lab's own format: a value inside the stored GptConfig, or an optional key beside them.
    const config = JSON.parse(meta.config) as Record<string, unknown>;
    const keys = [...Object.keys(config), 'bitnet', 'positions', 'rotaryPct', 'mlpHidden', 'untiedHead', 'normEps'];
    config[keys[m.key % keys.length]] = m.value;
    meta.config = JSON.stringify(config);
  } else if (m.target !== 'tensor') {
    const keys = Object.keys(meta);
    const key = keys[m.key % keys.length];
    // Metadata values are strings: a string of JSON of another type, or a non-string.
    (meta as Record<string, unknown>)[key] = m.target === 'metadata-json' ? JSON.stringify(m.value) : m.value;
  } else {
    const keys = ['dtype', 'shape', 'data_offsets'];
    (header[tensors[m.entry % tensors.length]] as Record<string, unknown>)[keys[m.key % keys.length]] = m.value;
  }
  return { bytes: withHeader(b, header), nonfinite: false };
}

// ---------------------------------------------------------------- the property

async function allFinite(m: Gpt): Promise<boolean> {
  for (const t of gptTensors(m)) {
    if (t.dtype !== 'float32') continue;
    const d = (await t.data()) as Float32Array;
    if (!d.every((x) => x - x === 0)) return false;
  }
  return true;
}

/** Load, and check the outcome: a model with finite weights, or a plain Error with a message; no tensors left. */
async function check(load: () => Promise<Gpt> | Gpt, mustFail: RegExp | null): Promise<'loaded' | 'refused'> {
  const before = tf.memory().numTensors;
  let model: Gpt;
  try {
    model = await load();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(Error);
    expect((e as Error).constructor, `${(e as Error).constructor.name}: ${(e as Error).message}`).toBe(Error);
    expect((e as Error).message.trim().length).toBeGreaterThan(0);
    if (mustFail) expect((e as Error).message).toMatch(mustFail);
    expect(tf.memory().numTensors).toBe(before);
    return 'refused';
  }
  try {
    expect(mustFail, 'a load that had to fail succeeded').toBeNull();
    expect(await allFinite(model), 'a loaded model holds a non-finite weight').toBe(true);
  } finally {
    disposeGpt(model);
  }
  expect(tf.memory().numTensors).toBe(before);
  return 'loaded';
}

const NONFINITE = /holds non-finite values \((NaN|Infinity|-Infinity) at element \d+/;

describe('fuzzed weight files (fast-check, seed 42)', () => {
  it("the lab's own checkpoint format: loads finite weights or says what is wrong", async () => {
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const { bytes, nonfinite } = mutate(own, m);
        seen[await check(() => loadGpt(bytes, { name: 'fuzz.safetensors' }).model, nonfinite ? NONFINITE : null)] += 1;
      }),
      { seed: SEED, numRuns: 500 },
    );
    // Both outcomes happen: the mutations are not all fatal, nor all harmless.
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(100);
  });

  it('Hugging Face GPT-2 and GPT-NeoX weights: loads finite weights or says what is wrong', async () => {
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.boolean(), mutation, async (neox, m) => {
        const { bytes, nonfinite } = mutate(neox ? neoxWeights : gpt2Weights, m);
        const files: HfModelFiles = { config: JSON.stringify(neox ? NEOX_CONFIG : GPT2_CONFIG), weights: bytes, tokenizer: neox ? NEOX_TOK : GPT2_TOK };
        seen[await check(async () => (await loadHfModel(files, { context: 8 })).model, nonfinite ? NONFINITE : null)] += 1;
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(50);
  });

  it('Hugging Face config.json values of any type: loads or names the key', async () => {
    const keys = (c: Record<string, unknown>) => [
      ...Object.keys(c),
      'use_parallel_residual',
      'attention_bias',
      'rope_parameters',
      'partial_rotary_factor',
      'rope_theta',
      'n_inner',
      'scale_attn_weights',
    ];
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), jsonValue, async (neox, k, value) => {
        const config = { ...(neox ? NEOX_CONFIG : GPT2_CONFIG) };
        const ks = keys(config);
        config[ks[k % ks.length]] = value;
        const files: HfModelFiles = { config: JSON.stringify(config), weights: neox ? neoxWeights : gpt2Weights, tokenizer: neox ? NEOX_TOK : GPT2_TOK };
        seen[await check(async () => (await loadHfModel(files, { context: 8 })).model, null)] += 1;
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(50);
  });
});
