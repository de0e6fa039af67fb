/**
 * The share URL: every setting as a readable key=value pair (only values that differ from
 * the defaults, plus a format version `v`). Parsing never throws: each bad key gets a
 * message naming it, and that field keeps its default.
 */
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from './core/config';
import { PLANS, type Plan } from './core/plans';
import { planProblem } from './tasks';
import { FIELD_BY_KEY, URL_FIELDS, clip, defaultText, formatValue, getAt, quote, readValue, same, schemaAt, setAt, settle } from './settings';

export { URL_FIELDS } from './settings';

export const URL_FORMAT_VERSION = 1;

const RESERVED = new Set(['v', 'run']);

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
  /** What to start at once: 'methods' (the comparison, `run=1`), 'ptq' (`run=ptq`), 'sweep' (`run=sweep`), 'formats' (`run=formats`); null = nothing. */
  run: Plan | null;
}

/** The `run` key: '1' = the comparison, or a plan of the polynomial task; '0' or absent = nothing. */
function readRun(raw: string | null, config: ExperimentConfig, messages: string[]): Plan | null {
  if (raw === null || raw === '0') return null;
  if (raw === '1') return 'methods';
  if (raw !== 'methods' && (PLANS as readonly string[]).includes(raw)) {
    const why = planProblem(config, raw as Plan);
    if (why) {
      messages.push(`"run=${raw}": ${why}. Nothing was started.`);
      return null;
    }
    return raw as Plan;
  }
  messages.push(`"run=${quote(raw).slice(1)} is not understood (use run=1 for the comparison, run=ptq for PTQ vs QAFT or run=sweep); nothing was started.`);
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
    params = new URLSearchParams(paramsOf(String(input)));
  } catch {
    return { config, messages: ['The link could not be read; using the default settings.'], run: null };
  }
  const seen = new Set<string>();
  for (const [key, raw] of params) {
    if (seen.has(key)) {
      messages.push(`${quote(key, 40)} appears more than once; the first value is used.`);
      continue;
    }
    seen.add(key);
    if (RESERVED.has(key)) continue;
    const field = FIELD_BY_KEY.get(key);
    if (!field) {
      messages.push(`Unknown setting ${quote(key, 40)} in the link was ignored.`);
      continue;
    }
    const read = readValue(field, raw);
    if ('error' in read) {
      messages.push(`"${key}" ${read.error}; using the default ${defaultText(field)}.`);
      continue;
    }
    const r = schemaAt(field.path).safeParse(read.value);
    if (!r.success) {
      const why = r.error.issues[0]?.message ?? 'invalid value';
      messages.push(`"${key}=${quote(raw).slice(1)} is not allowed (${why}); using the default ${defaultText(field)}.`);
      continue;
    }
    setAt(config, field.path, r.data);
  }
  const v = params.get('v');
  if (v !== null && v !== String(URL_FORMAT_VERSION)) {
    messages.push(`This link has format version ${clip(v, 20)}; this lab reads version ${URL_FORMAT_VERSION}. Settings were read as far as possible.`);
  }
  // Settings that are valid alone but not together: reset what conflicts, or refuse the link.
  const settled = settle(config, messages);
  return { config: settled.config, messages, run: settled.refused ? null : readRun(params.get('run'), settled.config, messages) };
}
