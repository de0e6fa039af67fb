/**
 * The share URL: every setting as a readable key=value pair (only values that differ from
 * the defaults, plus a format version `v`). Parsing never throws: each bad key gets a
 * message naming it, and that field keeps its default.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG, ExperimentSchema, cloneConfig, formatBitSchedule, formatLr, readBitSchedule, type BitStep, type ExperimentConfig, type LayerOverride } from './config';
import { quantProblems } from './layerspec';
import { PLANS, type Plan } from './runs';

export const URL_FORMAT_VERSION = 1;

type Path = readonly [string] | readonly [string, string];
interface Field {
  key: string;
  path: Path;
  /** number | enum | lr (number written as 1e-3) | bool (1/0) | numbers / lrs (comma lists) | overrides (layer:bits[:scheme],…) | bitsched (bits@fraction,…) */
  kind: 'number' | 'enum' | 'lr' | 'bool' | 'numbers' | 'lrs' | 'overrides' | 'bitsched' | 'string';
}

const f = (key: string, kind: Field['kind'], ...path: [string] | [string, string]): Field => ({ key, path, kind });
const trainFields = (prefix: string, group: string): Field[] => [
  f(`${prefix}lr`, 'lr', group, 'lr'),
  f(`${prefix}batch`, 'number', group, 'batch'),
  f(`${prefix}unit`, 'enum', group, 'unit'),
  f(`${prefix}steps`, 'number', group, 'steps'),
  f(`${prefix}epochs`, 'number', group, 'epochs'),
  f(`${prefix}sched`, 'enum', group, 'schedule'),
  f(`${prefix}wd`, 'number', group, 'weightDecay'),
  f(`${prefix}seed`, 'number', group, 'seed'),
];

/** URL key ↔ config path. The order here is the order in the URL. */
export const URL_FIELDS: readonly Field[] = [
  f('task', 'enum', 'task'),
  f('bits', 'number', 'quant', 'bits'),
  f('scheme', 'enum', 'quant', 'scheme'),
  f('gran', 'enum', 'quant', 'granularity'),
  f('group', 'number', 'quant', 'groupSize'),
  f('clip', 'enum', 'quant', 'clip'),
  f('lq', 'overrides', 'quant', 'overrides'),
  f('layers', 'enum', 'quant', 'layers'),
  f('abits', 'number', 'quant', 'actBits'),
  f('qdelay', 'number', 'quant', 'delay'),
  f('bitsched', 'bitsched', 'quant', 'bitSchedule'),
  ...trainFields('', 'qaft'),
  ...trainFields('fp_', 'fp'),
  f('budget', 'number', 'data', 'budget'),
  f('damp', 'number', 'gptq', 'damp'),
  f('gblock', 'number', 'gptq', 'blockSize'),
  f('actorder', 'bool', 'gptq', 'actOrder'),
  f('sweep_bits', 'numbers', 'sweep', 'bits'),
  f('sweep_lr', 'lrs', 'sweep', 'lrs'),
  f('deg', 'number', 'data', 'degree'),
  f('ntrain', 'number', 'data', 'trainSize'),
  f('ntest', 'number', 'data', 'testSize'),
  f('dseed', 'number', 'data', 'trainSeed'),
  f('tseed', 'number', 'data', 'testSeed'),
  f('width', 'number', 'model', 'width'),
  f('depth', 'number', 'model', 'depth'),
  f('backend', 'enum', 'backend'),
  f('log', 'number', 'logEvery'),
  // Language modelling (task=lm).
  f('lm_src', 'enum', 'lm', 'source'),
  f('hf', 'string', 'lm', 'hfUrl'),
  f('lm_pre', 'bool', 'lm', 'pretrained'),
  f('lm_layers', 'number', 'lm', 'layers'),
  f('lm_heads', 'number', 'lm', 'heads'),
  f('lm_d', 'number', 'lm', 'dModel'),
  f('lm_ctx', 'number', 'lm', 'context'),
  f('lm_norm', 'enum', 'lm', 'norm'),
  f('bitnet', 'bool', 'lm', 'bitnet'),
  f('text', 'enum', 'lm', 'corpus'),
  f('text_url', 'string', 'lm', 'corpusUrl'),
  f('val_frac', 'number', 'lm', 'valFraction'),
  f('bits_embed', 'number', 'lm', 'embedBits'),
  f('bits_attn', 'number', 'lm', 'attnBits'),
  f('bits_mlp', 'number', 'lm', 'mlpBits'),
  f('bits_head', 'number', 'lm', 'headBits'),
  ...trainFields('lm_', 'lmQaft'),
  ...trainFields('lm_fp_', 'lmFp'),
  f('lora_r', 'number', 'lm', 'loraRank'),
  f('lora_alpha', 'number', 'lm', 'loraAlpha'),
  f('df_n', 'number', 'lm', 'dfSequences'),
  f('df_temp', 'number', 'lm', 'dfTemperature'),
  f('df_loss', 'enum', 'lm', 'dfLoss'),
  f('tile_k', 'number', 'lm', 'tileK'),
  f('tile_steps', 'number', 'lm', 'tileSteps'),
  f('tile_global', 'number', 'lm', 'tileGlobal'),
  f('prompt', 'string', 'lm', 'prompt'),
  f('sample_len', 'number', 'lm', 'sampleLength'),
  f('sample_temp', 'number', 'lm', 'sampleTemp'),
  f('sample_seed', 'number', 'lm', 'sampleSeed'),
];

const RESERVED = new Set(['v', 'run']);

function getAt(c: ExperimentConfig, path: Path): unknown {
  let o: unknown = c;
  for (const p of path) o = (o as Record<string, unknown>)[p];
  return o;
}
function setAt(c: ExperimentConfig, path: Path, value: unknown): void {
  let o = c as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path[path.length - 1]] = value;
}
function schemaAt(path: Path): z.ZodType {
  let s: z.ZodType = ExperimentSchema;
  for (const p of path) s = (s as z.ZodObject<z.ZodRawShape>).shape[p] as z.ZodType;
  return s;
}

function formatValue(field: Field, v: unknown): string {
  switch (field.kind) {
    case 'lr':
      return formatLr(v as number);
    case 'bool':
      return v ? '1' : '0';
    case 'numbers':
      return (v as number[]).join(',');
    case 'lrs':
      return (v as number[]).map(formatLr).join(',');
    case 'overrides':
      return (v as LayerOverride[]).map((o) => `${o.layer}:${o.bits}${o.scheme === 'auto' ? '' : `:${o.scheme}`}`).join(',');
    case 'bitsched':
      return formatBitSchedule(v as BitStep[]);
    default:
      return String(v);
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Turn the raw text of a key into a value for its schema, or a reason it cannot be one. */
function readValue(field: Field, raw: string): { value: unknown } | { error: string } {
  const num = (t: string) => (t.trim() === '' ? NaN : Number(t));
  switch (field.kind) {
    case 'enum':
      return { value: raw };
    case 'bool':
      if (['1', 'true', 'yes', 'on'].includes(raw)) return { value: true };
      if (['0', 'false', 'no', 'off'].includes(raw)) return { value: false };
      return { error: `must be 1 or 0, not "${raw}"` };
    case 'numbers':
    case 'lrs': {
      const xs = raw.split(',').map(num);
      if (raw.trim() === '' || xs.some((x) => !Number.isFinite(x))) return { error: `must be a comma-separated list of numbers, not "${raw}"` };
      return { value: xs };
    }
    case 'overrides': {
      if (raw.trim() === '') return { value: [] };
      const out: unknown[] = [];
      for (const part of raw.split(',')) {
        const [layer, bits, scheme = 'auto', ...extra] = part.split(':');
        if (extra.length || !Number.isFinite(num(layer)) || !Number.isFinite(num(bits)))
          return { error: `entries are layer:bits or layer:bits:scheme (e.g. 0:8,4:8), not "${part}"` };
        out.push({ layer: num(layer), bits: num(bits), scheme });
      }
      return { value: out };
    }
    case 'bitsched':
      return readBitSchedule(raw);
    case 'string':
      return { value: raw };
    default: {
      const n = num(raw);
      return Number.isFinite(n) ? { value: n } : { error: `must be a number, not "${raw}"` };
    }
  }
}

/** The query string (without `#`) for a config: `v=1` plus every non-default value. */
export function configToParams(c: ExperimentConfig, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  p.set('v', String(URL_FORMAT_VERSION));
  for (const field of URL_FIELDS) {
    const v = getAt(c, field.path);
    if (!same(v, getAt(DEFAULT_CONFIG, field.path))) p.set(field.key, formatValue(field, v));
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  // URLSearchParams escapes '.', '-' and 'e' fine; keep it readable.
  return p.toString();
}

export interface ParsedUrl {
  config: ExperimentConfig;
  /** One message per problem, each naming the key. */
  messages: string[];
  /** What to start at once: 'methods' (the comparison, `run=1`), 'ptq' (`run=ptq`), 'sweep' (`run=sweep`); null = nothing. */
  run: Plan | null;
}

/** The `run` key: '1' = the comparison, or a plan of the polynomial task; '0' or absent = nothing. */
function readRun(raw: string | null, config: ExperimentConfig, messages: string[]): Plan | null {
  if (raw === null || raw === '0') return null;
  if (raw === '1') return 'methods';
  if (raw !== 'methods' && (PLANS as readonly string[]).includes(raw)) {
    if (config.task === 'lm') {
      messages.push(`"run=${raw}" is a plan of the polynomial task; the language model starts with run=1. Nothing was started.`);
      return null;
    }
    return raw as Plan;
  }
  messages.push(`"run=${raw}" is not understood (use run=1 for the comparison, run=ptq for PTQ vs QAFT or run=sweep); nothing was started.`);
  return null;
}

/** Extract the parameter part of a full URL, a `#…` hash, a `?…` query, or a bare `a=b&c=d`. */
export function paramsOf(input: string): string {
  const s = input.trim();
  const hash = s.indexOf('#');
  if (hash >= 0) return s.slice(hash + 1);
  const q = s.indexOf('?');
  if (q >= 0) return s.slice(q + 1);
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(s)) return ''; // a full URL without parameters
  return s;
}

export function parseParams(input: string): ParsedUrl {
  const config = cloneConfig(DEFAULT_CONFIG);
  const messages: string[] = [];
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(paramsOf(input));
  } catch {
    return { config, messages: ['The link could not be read; using the default settings.'], run: null };
  }
  const byKey = new Map(URL_FIELDS.map((fl) => [fl.key, fl]));
  const seen = new Set<string>();
  for (const [key, raw] of params) {
    if (seen.has(key)) {
      messages.push(`"${key}" appears more than once; the first value is used.`);
      continue;
    }
    seen.add(key);
    if (RESERVED.has(key)) continue;
    const field = byKey.get(key);
    if (!field) {
      messages.push(`Unknown setting "${key}" in the link was ignored.`);
      continue;
    }
    const dflt = formatValue(field, getAt(DEFAULT_CONFIG, field.path));
    const read = readValue(field, raw);
    if ('error' in read) {
      messages.push(`"${key}" ${read.error}; using the default ${dflt}.`);
      continue;
    }
    const r = schemaAt(field.path).safeParse(read.value);
    if (!r.success) {
      const why = r.error.issues[0]?.message ?? 'invalid value';
      messages.push(`"${key}=${raw}" is not allowed (${why}); using the default ${dflt}.`);
      continue;
    }
    setAt(config, field.path, r.data);
  }
  const v = params.get('v');
  if (v !== null && v !== String(URL_FORMAT_VERSION)) {
    messages.push(`This link has format version ${v}; this lab reads version ${URL_FORMAT_VERSION}. Settings were read as far as possible.`);
  }
  // Settings that are valid alone but not together: the named key falls back to its default.
  const problems = quantProblems(config);
  for (const key of new Set(problems.map((pr) => pr.key))) {
    const field = byKey.get(key) as Field;
    const why = problems.filter((pr) => pr.key === key).map((pr) => pr.message).join(' ');
    messages.push(`"${key}": ${why.replace(/\.?$/, '.')} Using the default ${formatValue(field, getAt(DEFAULT_CONFIG, field.path)) || '(none)'}.`);
    setAt(config, field.path, structuredClone(getAt(DEFAULT_CONFIG, field.path)));
  }
  if (quantProblems(config).length) {
    messages.push('The quantizer settings still did not fit together; scheme, granularity, group size, clipping and layer overrides were reset.');
    for (const k of ['scheme', 'gran', 'group', 'clip', 'lq']) {
      const field = byKey.get(k) as Field;
      setAt(config, field.path, structuredClone(getAt(DEFAULT_CONFIG, field.path)));
    }
  }
  // Whole-config check (cross-field rules); per-field checks above make this pass in practice.
  const whole = ExperimentSchema.safeParse(config);
  if (!whole.success) {
    messages.push('Some settings did not fit together; using the defaults.');
    return { config: cloneConfig(DEFAULT_CONFIG), messages, run: null };
  }
  return { config: whole.data, messages, run: readRun(params.get('run'), whole.data, messages) };
}
