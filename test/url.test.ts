/** The share URL codec (src/engine/url.ts): round trips, readability, and rejection of bad keys. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { URL_FIELDS, configToParams, paramsOf, parseParams } from '../src/engine/url';
import { taskViews } from '../src/engine/tasks';
import { PRESETS, presetById } from '../src/engine/presets';

/** A valid config in which every field the URL carries differs from the default. */
function everythingChanged(): ExperimentConfig {
  return {
    task: 'lm',
    lm: {
      source: 'hf',
      pretrained: false,
      hfUrl: 'https://example.org/models/pythia-14m/',
      layers: 2,
      heads: 2,
      dModel: 64,
      context: 32,
      norm: 'layer',
      bitnet: true,
      corpus: 'url',
      corpusUrl: 'https://example.org/a text.txt?x=1&y=2#frag',
      valFraction: 0.2,
      embedBits: 8,
      attnBits: 4,
      mlpBits: 2,
      headBits: 6,
      loraRank: 4,
      loraAlpha: 8,
      dfSequences: 64,
      dfTemperature: 0.7,
      dfLoss: 'ce',
      tileK: 2,
      tileSteps: 50,
      tileGlobal: 0,
      prompt: 'Once upon a time, "x" & y = 1%',
      sampleLength: 80,
      sampleTemp: 0,
      sampleSeed: 3,
    },
    lmFp: { lr: 1e-3, batch: 12, unit: 'epochs', steps: 500, epochs: 2, schedule: 'constant', weightDecay: 0, seed: 1 },
    lmQaft: { lr: 2e-4, batch: 8, unit: 'epochs', steps: 100, epochs: 3, schedule: 'constant', weightDecay: 0.05, seed: 2 },
    data: { degree: 6, trainSize: 4096, budget: 256, testSize: 512, trainSeed: 17, testSeed: 99 },
    model: { width: 128, depth: 3 },
    quant: {
      bits: 4,
      scheme: 'asym',
      granularity: 'block',
      groupSize: 32,
      clip: 'mse',
      overrides: [
        { layer: 0, bits: 8, scheme: 'auto' },
        { layer: 3, bits: 6, scheme: 'sym-full' },
      ],
      layers: 'inner',
      actBits: 8,
      delay: 100,
      bitSchedule: [
        { bits: 8, at: 0 },
        { bits: 4, at: 0.5 },
      ],
      rotate: 'hadamard',
      rotSeed: 7,
    },
    act: { observer: 'mse', granularity: 'tensor', format: 'fp8-e4m3', percentile: 99, emaDecay: 0.5, smooth: 'smoothquant', alpha: 0.6 },
    gptq: { damp: 0.05, blockSize: 32, actOrder: true },
    sweep: { bits: [4, 2], lrs: [1e-4, 3e-3] },
    fp: { lr: 3e-3, batch: 128, unit: 'epochs', steps: 700, epochs: 7, schedule: 'constant', weightDecay: 0.01, seed: 5 },
    qaft: { lr: 2.5e-5, batch: 64, unit: 'epochs', steps: 321, epochs: 3, schedule: 'constant', weightDecay: 0.1, seed: 6 },
    backend: 'wasm',
    logEvery: 10,
    repeats: 3,
  };
}

const keysOf = (query: string) => [...new URLSearchParams(query).keys()];

describe('configToParams → parseParams round trip', () => {
  it('the default config: just v=1, and it parses back to the defaults with no messages', () => {
    const q = configToParams(DEFAULT_CONFIG);
    expect(q).toBe('v=1');
    const p = parseParams(q);
    expect(p.config).toEqual(DEFAULT_CONFIG);
    expect(p.messages).toEqual([]);
    expect(p.run).toBeNull();
  });

  it('a config with every field changed round-trips exactly, and every URL key appears', () => {
    const c = everythingChanged();
    // Sanity: the fixture really changes every field.
    for (const f of URL_FIELDS) {
      const get = (o: unknown) => f.path.reduce((x, k) => (x as Record<string, unknown>)[k], o);
      expect(get(c), f.key).not.toEqual(get(DEFAULT_CONFIG));
    }
    const q = configToParams(c);
    expect(keysOf(q).sort()).toEqual(['v', ...URL_FIELDS.map((f) => f.key)].sort());
    // The rotation is refused with smoothing and a static observer (actProblems): all of them changed
    // at once read back with the rotation off and one message.
    const all = parseParams(q);
    expect(all.messages.length).toBe(1);
    expect(all.messages[0]).toMatch(/^"rot": .*smooth=smoothquant.*aobs=mse/);
    expect(all.config).toEqual({ ...c, quant: { ...c.quant, rotate: 'none' } });
    // Each side on its own round-trips exactly.
    const noRot = { ...c, quant: { ...c.quant, rotate: 'none' as const } };
    const rotDynamic = { ...c, act: { ...c.act, observer: 'dynamic' as const, smooth: 'none' as const } };
    for (const v of [noRot, rotDynamic]) {
      const p = parseParams(configToParams(v));
      expect(p.messages).toEqual([]);
      expect(p.config).toEqual(v);
    }
  });

  it('only non-default values (plus v=1) appear, readably', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.bits = 2;
    c.qaft.lr = 1e-3;
    c.model.width = 64;
    const q = configToParams(c);
    expect(keysOf(q).sort()).toEqual(['bits', 'lr', 'v', 'width']);
    expect(q).toContain('v=1');
    expect(q).toContain('bits=2');
    expect(q).toContain('lr=1e-3');
    expect(q).toContain('width=64');
    expect(q).not.toContain('%');
    expect(parseParams(q).config).toEqual(c);
  });

  it('readable values for learning rates, fractional bits and enums', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.bits = 8; // default 1.58
    c.fp.lr = 3e-4;
    c.quant.granularity = 'tensor';
    const q = configToParams(c);
    expect(q).toContain('fp_lr=3e-4');
    expect(q).toContain('gran=tensor');
    expect(q).toContain('bits=8');
    expect(parseParams(q).config).toEqual(c);
    // 1.58 (the default) is written and read as a plain decimal.
    expect(parseParams('bits=1.58').config.quant.bits).toBe(1.58);
    expect(parseParams('bits=1.58').messages).toEqual([]);
  });

  it('extra parameters (run=1) are appended and detected', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.quant.bits = 3;
    const q = configToParams(c, { run: '1' });
    expect(q).toContain('run=1');
    const p = parseParams(q);
    expect(p.run).toBe('methods');
    expect(p.messages).toEqual([]);
    expect(p.config.quant.bits).toBe(3);
  });
});

describe('input forms', () => {
  const want = (s: string) => {
    const p = parseParams(s);
    expect(p.messages, s).toEqual([]);
    expect(p.config.quant.bits, s).toBe(2);
    expect(p.config.model.width, s).toBe(64);
  };
  it('full URL with a hash, with a ?query, a bare #…, a bare ?…, a bare string, surrounding spaces', () => {
    want('https://lab.example.org/qaft/#v=1&bits=2&width=64');
    want('https://lab.example.org/qaft/index.html?v=1&bits=2&width=64');
    want('#v=1&bits=2&width=64');
    want('?v=1&bits=2&width=64');
    want('v=1&bits=2&width=64');
    want('  v=1&bits=2&width=64\n');
  });
  it('a URL with both a query and a hash reads the hash', () => {
    expect(paramsOf('https://x.org/?a=1#v=1&bits=2')).toBe('v=1&bits=2');
    expect(parseParams('https://x.org/?bits=4#v=1&bits=2&width=64').config.quant.bits).toBe(2);
  });
  it('an empty string or a bare URL gives the defaults without messages', () => {
    for (const s of ['', 'https://lab.example.org/qaft/', '#']) {
      const p = parseParams(s);
      expect(p.config).toEqual(DEFAULT_CONFIG);
      expect(p.messages).toEqual([]);
    }
  });
  it('run=1 is detected; run=0 or absent is not', () => {
    expect(parseParams('v=1&run=1').run).toBe('methods');
    expect(parseParams('https://x.org/#bits=2&run=1').run).toBe('methods');
    expect(parseParams('v=1&run=0').run).toBeNull();
    expect(parseParams('v=1').run).toBeNull();
  });
  it('run=ptq and run=sweep name a plan of the toy; anything else is a message, and nothing starts', () => {
    expect(parseParams('v=1&run=1')).toMatchObject({ run: 'methods', messages: [] });
    expect(parseParams('v=1&run=ptq')).toMatchObject({ run: 'ptq', messages: [] });
    expect(parseParams('v=1&run=sweep')).toMatchObject({ run: 'sweep', messages: [] });
    const bad = parseParams('v=1&bits=2&run=yes');
    expect(bad.run).toBeNull();
    expect(bad.config.quant.bits).toBe(2);
    expect(bad.messages.join(' ')).toMatch(/"run=yes" is not understood/);
    const lm = parseParams('v=1&task=lm&run=ptq');
    expect(lm.run).toBeNull();
    expect(lm.messages.join(' ')).toMatch(/run=ptq.*the language model runs its methods \(run=1/);
  });
  it('embed=1&view=… names one view of the task; a bad embed or view is a message, the settings are kept', () => {
    expect(parseParams('v=1&bits=2&embed=1&view=sweep')).toMatchObject({ embed: true, view: 'sweep', messages: [] });
    expect(parseParams('v=1&embed=1')).toMatchObject({ embed: true, view: null, messages: [] });
    expect(parseParams('v=1&view=pareto')).toMatchObject({ embed: false, view: 'pareto', messages: [] });
    expect(parseParams('v=1&task=lm&embed=1&view=samples')).toMatchObject({ embed: true, view: 'samples', messages: [] });
    // Every view of a task is a view the page can show alone (the embed renders each of these ids).
    expect(taskViews('poly').map((v) => v.id)).toEqual(['loss', 'sweep', 'pareto', 'local-global', 'landscape', 'weights', 'sensitivity', 'plots', 'results']);
    expect(taskViews('lm').map((v) => v.id)).toEqual(['loss', 'samples', 'layers', 'pareto', 'results']);
    const badView = parseParams('v=1&bits=2&embed=1&view=<script>');
    expect(badView).toMatchObject({ embed: true, view: null });
    expect(badView.config.quant.bits).toBe(2);
    expect(badView.messages).toEqual([
      '"view=<script>" is not a view of the polynomial task (loss, sweep, pareto, local-global, landscape, weights, sensitivity, plots, results); showing loss.',
    ]);
    const lmSweep = parseParams('v=1&task=lm&embed=1&view=sweep');
    expect(lmSweep.view).toBeNull();
    expect(lmSweep.messages.join(' ')).toMatch(/"view=sweep" is not a view of the language model/);
    const badEmbed = parseParams('v=1&embed=yes&view=loss');
    expect(badEmbed).toMatchObject({ embed: false, view: 'loss' });
    expect(badEmbed.messages).toEqual(['"embed" must be 1 or 0, not "yes"; the whole page is shown.']);
    // The page's keys are not settings: the CLI reads such a link without complaint.
    expect(configToParams(parseParams('v=1&bits=2&embed=1&view=loss').config)).toBe('v=1&bits=2');
  });
});

describe('presets (the page\'s "Experiments to try")', () => {
  it('every preset is a clean link that starts something, with a unique id', () => {
    expect(new Set(PRESETS.map((p) => p.id)).size).toBe(PRESETS.length);
    for (const p of PRESETS) {
      const parsed = parseParams(p.params);
      expect(parsed.messages, p.id).toEqual([]);
      expect(parsed.run, p.id).not.toBeNull();
      expect(p.title.length + p.shows.length).toBeGreaterThan(40);
    }
    expect(parseParams(presetById('ptq-narrow')!.params)).toMatchObject({ run: 'ptq', config: { model: { width: 32, depth: 3 }, data: { budget: 128 } } });
    expect(parseParams(presetById('lm-ptq')!.params).config.task).toBe('lm');
  });
});

describe('rejection: a message naming the key, that field at its default, the rest kept', () => {
  const cases: { name: string; bad: string; key: string; check: (c: ExperimentConfig) => void }[] = [
    { name: 'unknown key', bad: 'colour=red', key: 'colour', check: () => {} },
    { name: 'wrong type', bad: 'bits=banana', key: 'bits', check: (c) => expect(c.quant.bits).toBe(1.58) },
    { name: 'empty number', bad: 'deg=', key: 'deg', check: (c) => expect(c.data.degree).toBe(4) },
    { name: 'out of range (deg=9)', bad: 'deg=9', key: 'deg', check: (c) => expect(c.data.degree).toBe(4) },
    { name: 'negative lr', bad: 'lr=-3', key: 'lr', check: (c) => expect(c.qaft.lr).toBe(1e-4) },
    { name: 'zero lr', bad: 'lr=0', key: 'lr', check: (c) => expect(c.qaft.lr).toBe(1e-4) },
    { name: 'lr too large', bad: 'fp_lr=11', key: 'fp_lr', check: (c) => expect(c.fp.lr).toBe(1e-3) },
    { name: 'non-integer width', bad: 'width=33.5', key: 'width', check: (c) => expect(c.model.width).toBe(512) },
    { name: 'bits not offered', bad: 'bits=9', key: 'bits', check: (c) => expect(c.quant.bits).toBe(1.58) },
    { name: 'activation bits 1', bad: 'abits=1', key: 'abits', check: (c) => expect(c.quant.actBits).toBe(0) },
    { name: 'bad enum', bad: 'gran=diagonal', key: 'gran', check: (c) => expect(c.quant.granularity).toBe('row') },
    { name: 'bad backend', bad: 'backend=tpu', key: 'backend', check: (c) => expect(c.backend).toBe('auto') },
    { name: 'Infinity', bad: 'steps=Infinity', key: 'steps', check: (c) => expect(c.qaft.steps).toBe(600) },
  ];
  const keptGood = (c: ExperimentConfig) => {
    expect(c.model.width).toBe(32);
    expect(c.model.depth).toBe(3);
    expect(c.qaft.schedule).toBe('constant');
  };

  for (const t of cases) {
    it(`${t.name}: ${t.bad}`, () => {
      // The bad key between valid ones (for the width case, without a valid width).
      const input = t.key === 'width' ? `v=1&depth=3&${t.bad}&sched=constant` : `v=1&width=32&depth=3&${t.bad}&sched=constant`;
      const p = parseParams(input);
      expect(p.messages).toHaveLength(1);
      expect(p.messages[0]).toContain(`"${t.key}`);
      t.check(p.config);
      if (t.key !== 'width') keptGood(p.config);
      else expect(p.config.model.depth).toBe(3);
      expect(p.run).toBeNull();
    });
  }

  it('the messages are readable and say what happens', () => {
    expect(parseParams('bits=banana').messages[0]).toMatch(/"bits" must be a number, not "banana"; using the default 1\.58/);
    expect(parseParams('deg=9').messages[0]).toMatch(/"deg=9" is not allowed .*; using the default 4/);
    expect(parseParams('lr=0').messages[0]).toMatch(/"lr=0" is not allowed .*using the default 1e-4/);
    expect(parseParams('gran=diagonal').messages[0]).toMatch(/"gran=diagonal" is not allowed .*using the default row/);
    expect(parseParams('colour=red').messages[0]).toMatch(/Unknown setting "colour"/);
  });

  it('a duplicated key: message names it, the first value is used, the rest kept', () => {
    const p = parseParams('v=1&width=32&bits=2&width=64&depth=3');
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toContain('"width"');
    expect(p.messages[0]).toMatch(/more than once/);
    expect(p.config.model.width).toBe(32);
    expect(p.config.quant.bits).toBe(2);
    expect(p.config.model.depth).toBe(3);
  });

  it('another format version: a message about the version, settings read as far as possible', () => {
    const p = parseParams('v=2&bits=2&width=64');
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0]).toMatch(/version 2/);
    expect(p.messages[0]).toMatch(/reads version 1/);
    expect(p.config.quant.bits).toBe(2);
    expect(p.config.model.width).toBe(64);
  });

  it('several problems at once: one message each, every good field kept', () => {
    const p = parseParams('https://x.org/#v=1&bits=banana&deg=9&gran=diagonal&colour=red&lr=0&width=32&layers=inner&run=1');
    expect(p.messages).toHaveLength(5);
    for (const key of ['bits', 'deg', 'gran', 'colour', 'lr'])
      expect(
        p.messages.some((m) => m.includes(`"${key}`)),
        key,
      ).toBe(true);
    const want = cloneConfig(DEFAULT_CONFIG);
    want.model.width = 32;
    want.quant.layers = 'inner';
    expect(p.config).toEqual(want);
    expect(p.run).toBe('methods');
  });

  it('parsing never throws, even on junk', () => {
    for (const s of ['%%%', '&&&', '=1', 'a=%E0%A4%A', '#?#?', 'v', 'bits']) {
      expect(() => parseParams(s), s).not.toThrow();
    }
  });
});
