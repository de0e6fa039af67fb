/**
 * Generated bad input for the readers of settings (share links, config files, CLI arguments):
 * none throws anything but its own clear Error, and every config they return passes the schema
 * and every cross-field check, and reads back the same from its own link. Seeded, so a failure
 * reproduces; fast-check prints the seed and the shrunk input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { configFromJson } from '../src/engine/configfile';
import { isRunnableConfig, URL_FIELDS } from '../src/engine/settings';
import { configToParams, parseParams } from '../src/engine/url';
import { loadExperiment } from '../src/cli/load';

const MAX_MESSAGE = 600;

/** Pieces that hit the parsers' edges: separators, numbers at and past the limits, enum words. */
const TOKENS = [
  '',
  ' ',
  '0',
  '1',
  '-1',
  '2',
  '3',
  '4',
  '8',
  '9',
  '13',
  '1.58',
  '16',
  '32',
  '0.5',
  '1e-3',
  '1e9',
  '-0',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  ':',
  '::',
  '0:',
  ':8',
  '0:8',
  '0:8:asym',
  '5:3:kmeans',
  '0:8:nope',
  '@',
  '8@',
  '@0',
  '8@0',
  '4@0.5',
  '2@1',
  ',',
  ',,',
  'true',
  'false',
  'auto',
  'sym-narrow',
  'asym',
  'ternary',
  'binary',
  'kmeans',
  'nf4',
  'row',
  'tensor',
  'group',
  'block',
  'mse',
  'none',
  'all',
  'inner',
  'nofirst',
  'nolast',
  'lm',
  'poly',
  'hf',
  'tiny',
  'files',
  'url',
  'own',
  'builtin',
  'rms',
  'layer',
  'kl',
  'ce',
  'wasm',
  'webgpu',
  '/lm/corpus.txt',
  '/../../etc/passwd',
  'http://',
  'https://example.org/m/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '%',
  '%zz',
  '&',
  '#',
  '=',
];
const KEYS = [...URL_FIELDS.map((f) => f.key), 'v', 'run', 'bogus', '', '__proto__', 'constructor'];

const value = fc.oneof(
  fc.constantFrom(...TOKENS),
  fc.tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 4 }), fc.constantFrom(',', ':', '@', '')).map(([xs, sep]) => xs.join(sep)),
  fc.double().map(String),
  fc.integer({ min: -5, max: 5000 }).map(String),
  fc.string({ maxLength: 12 }),
  fc.string({ minLength: 200, maxLength: 3000 }),
);
const link = fc
  .array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 8 })
  .map((kv) => 'v=1&' + kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

function expectRunnable(config: unknown, messages: string[]): void {
  expect(isRunnableConfig(config), messages.join('\n')).toBe(true);
  for (const m of messages) {
    expect(typeof m).toBe('string');
    expect(m.length, m.slice(0, 200)).toBeLessThanOrEqual(MAX_MESSAGE);
  }
}

/** A link written from a config reads back as exactly that config, with no message. */
function expectRoundTrip(config: Parameters<typeof configToParams>[0]): void {
  const again = parseParams(configToParams(config));
  expect(again.messages).toEqual([]);
  expect(again.config).toEqual(config);
}

describe('generated share links', () => {
  it('never throw; every config returned is runnable and writes a link that reads back the same', () => {
    fc.assert(
      fc.property(link, (q) => {
        const p = parseParams(q);
        expectRunnable(p.config, p.messages);
        expectRoundTrip(p.config);
      }),
      { seed: 9, numRuns: 3000 },
    );
  });

  it('the same with the LM task on (its own keys and cross-field rules)', () => {
    fc.assert(
      fc.property(link, (q) => {
        const p = parseParams(`task=lm&${q.replace(/^v=1&/, '')}`);
        expectRunnable(p.config, p.messages);
        expectRoundTrip(p.config);
      }),
      { seed: 10, numRuns: 2000 },
    );
  });

  it('arbitrary text as a link never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), (s) => {
        const p = parseParams(s);
        expectRunnable(p.config, p.messages);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('the cases from the issue each get a message and a runnable config', () => {
    const lq = parseParams('#v=1&lq=0');
    expect(lq.messages.join(' ')).toMatch(/"lq" entries are layer:bits/);
    const lm = parseParams('task=lm&lm_d=9');
    expect(lm.messages.join(' ')).toMatch(/"lm_d": d_model 9 is not divisible by 4 heads/);
    expect(lm.config.lm.dModel % lm.config.lm.heads).toBe(0);
    expectRoundTrip(lm.config);
    const long = parseParams(`bits=${'9'.repeat(100_000)}`);
    expect(long.messages.join(' ').length).toBeLessThan(300);
    expect(long.messages[0]).toMatch(/\(100000 characters\)/);
  });
});

/** Default config with some leaves replaced by arbitrary JSON, some keys added, some objects replaced. */
const configLike = fc
  .array(
    fc.tuple(
      fc.constantFrom(...URL_FIELDS.map((f) => f.path.join('.')), 'quant', 'lm', 'bogus', 'quant.bitz', 'config'),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, -1, 0, 3, 1.58, 1e9, 'auto', 'lm', [], {}, [{ layer: 0, bits: 8, scheme: 'auto' }])),
    ),
    { maxLength: 6 },
  )
  .map((edits) => {
    const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
    for (const [path, v] of edits) {
      const parts = path.split('.');
      let o = out;
      for (const p of parts.slice(0, -1)) {
        if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
        o = o[p] as Record<string, unknown>;
      }
      o[parts[parts.length - 1]] = v;
    }
    return out;
  });

describe('generated config files', () => {
  const readOrRefuse = (json: unknown) => {
    try {
      const r = configFromJson(json, 'x.json');
      expectRunnable(r.config, r.messages);
      for (const m of r.messages) expect(m.startsWith('x.json: ')).toBe(true);
    } catch (e) {
      // Only the loader's own, readable refusal.
      expect((e as Error).constructor).toBe(Error);
      expect((e as Error).message).toMatch(/^x\.json/);
    }
  };

  it('mangled configs and saved runs never throw anything but a clear Error, and what is read is runnable', () => {
    fc.assert(fc.property(configLike, readOrRefuse), { seed: 12, numRuns: 2000 });
    fc.assert(
      fc.property(configLike, (c) => readOrRefuse({ id: 'r1', name: 'x', config: c })),
      { seed: 13, numRuns: 500 },
    );
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), readOrRefuse), { seed: 14, numRuns: 1000 });
  });

  it('names unknown and misspelled keys, refuses a run without a config, and keeps valid settings', () => {
    const r = configFromJson({ quant: { bitz: 3, bits: 4 }, modle: { width: 8 } }, 'my.json');
    expect(r.config.quant.bits).toBe(4);
    expect(r.messages).toEqual(['my.json: Unknown setting "quant.bitz" was ignored.', 'my.json: Unknown setting "modle" was ignored.']);
    expect(() => configFromJson({ config: null }, 'run.json')).toThrow('run.json: "config" is null, not an object of settings.');
    expect(() => configFromJson([], 'list.json')).toThrow(/list\.json holds a list/);
    const lm = configFromJson({ task: 'lm', lm: { dModel: 9 } }, 'lm.json');
    expect(lm.messages.join(' ')).toMatch(/"lm\.dModel": d_model 9 is not divisible/);
    expect(isRunnableConfig(lm.config)).toBe(true);
  });
});

describe('CLI arguments', () => {
  it('arbitrary arguments load or are refused with a plain Error', () => {
    fc.assert(
      fc.property(
        fc.oneof(link, fc.string({ maxLength: 40 }), fc.constantFrom('x.json', '/', '.', '/etc', 'ptq-narrow', 'README.md', 'package.json')),
        (arg) => {
          try {
            const l = loadExperiment(arg);
            expectRunnable(l.config, l.messages);
          } catch (e) {
            expect((e as Error).constructor).toBe(Error);
            expect((e as Error).message.length).toBeGreaterThan(0);
          }
        },
      ),
      { seed: 15, numRuns: 1000 },
    );
  });

  it('a missing file is named as a missing file, not as an unknown setting', () => {
    expect(() => loadExperiment('x.json')).toThrow(/No file "x\.json"/);
  });
});
