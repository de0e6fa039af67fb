/**
 * The share URL: every setting as a readable key=value pair (only values that differ from
 * the defaults, plus a format version `v`). Parsing never throws: each bad key gets a
 * message naming it, and that field keeps its default.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG, ExperimentSchema, cloneConfig, formatLr, type ExperimentConfig } from './config';

export const URL_FORMAT_VERSION = 1;

type Path = readonly [string] | readonly [string, string];
interface Field {
  key: string;
  path: Path;
  kind: 'number' | 'enum' | 'lr';
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
  f('bits', 'number', 'quant', 'bits'),
  f('gran', 'enum', 'quant', 'granularity'),
  f('layers', 'enum', 'quant', 'layers'),
  f('abits', 'number', 'quant', 'actBits'),
  ...trainFields('', 'qaft'),
  ...trainFields('fp_', 'fp'),
  f('deg', 'number', 'data', 'degree'),
  f('ntrain', 'number', 'data', 'trainSize'),
  f('ntest', 'number', 'data', 'testSize'),
  f('dseed', 'number', 'data', 'trainSeed'),
  f('tseed', 'number', 'data', 'testSeed'),
  f('width', 'number', 'model', 'width'),
  f('depth', 'number', 'model', 'depth'),
  f('backend', 'enum', 'backend'),
  f('log', 'number', 'logEvery'),
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
  return field.kind === 'lr' ? formatLr(v as number) : String(v);
}

/** The query string (without `#`) for a config: `v=1` plus every non-default value. */
export function configToParams(c: ExperimentConfig, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  p.set('v', String(URL_FORMAT_VERSION));
  for (const field of URL_FIELDS) {
    const v = getAt(c, field.path);
    if (v !== getAt(DEFAULT_CONFIG, field.path)) p.set(field.key, formatValue(field, v));
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  // URLSearchParams escapes '.', '-' and 'e' fine; keep it readable.
  return p.toString();
}

export interface ParsedUrl {
  config: ExperimentConfig;
  /** One message per problem, each naming the key. */
  messages: string[];
  /** `run=1`: start the comparison at once. */
  run: boolean;
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
    return { config, messages: ['The link could not be read; using the default settings.'], run: false };
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
    let value: unknown = raw;
    if (field.kind !== 'enum') {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) {
        messages.push(`"${key}" must be a number, not "${raw}"; using the default ${dflt}.`);
        continue;
      }
      value = n;
    }
    const r = schemaAt(field.path).safeParse(value);
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
  // Whole-config check (cross-field rules); per-field checks above make this pass in practice.
  const whole = ExperimentSchema.safeParse(config);
  if (!whole.success) {
    messages.push('Some settings did not fit together; using the defaults.');
    return { config: cloneConfig(DEFAULT_CONFIG), messages, run: false };
  }
  return { config: whole.data, messages, run: params.get('run') === '1' };
}
