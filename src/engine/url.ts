/**
 * The share URL: every setting as a readable key=value pair (only values that differ from
 * the defaults, plus a format version `v`). Parsing never throws: each bad key gets a
 * message naming it, and that field keeps its default.
 */
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from './core/config';
import { PLANS, type Plan } from './core/plans';
import { planProblem, taskName, taskViews } from './tasks';
import { tourById, TOURS } from './tours';
import { FIELD_BY_KEY, URL_FIELDS, clip, defaultText, formatValue, getAt, quote, readValue, same, schemaAt, setAt, settle } from './settings';

export { URL_FIELDS } from './settings';

export const URL_FORMAT_VERSION = 1;

/** Keys of the page, not of the config: the format version, what to start, embed mode, and the guided tour. */
const RESERVED = new Set(['v', 'run', 'embed', 'view', 'tour', 'step']);

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
  /** `embed=1`: the page shows only `view` with its run button (sized for an iframe). */
  embed: boolean;
  /** `view=…`: a view of the config's task (taskViews), or null when absent or not one (with a message). */
  view: string | null;
  /** `tour=<id>&step=<k>`: the guided tour to open at step k (1-based); null = none. */
  tour: { id: string; step: number } | null;
}

/** The `embed` and `view` keys: a bad value gets a message and the full page (or the default view). */
function readEmbed(params: URLSearchParams, config: ExperimentConfig, messages: string[]): { embed: boolean; view: string | null } {
  const rawEmbed = params.get('embed');
  let embed = false;
  if (rawEmbed === '1') embed = true;
  else if (rawEmbed !== null && rawEmbed !== '0') messages.push(`"embed" must be 1 or 0, not ${quote(rawEmbed)}; the whole page is shown.`);
  const rawView = params.get('view');
  if (rawView === null) return { embed, view: null };
  const views = taskViews(config.task).map((v) => v.id);
  if (views.includes(rawView)) return { embed, view: rawView };
  messages.push(
    `"view=${quote(rawView).slice(1)} is not a view of the ${taskName(config.task)} (${views.join(', ')}); ${embed ? `showing ${views[0]}` : 'it is ignored'}.`,
  );
  return { embed, view: null };
}

/** The `tour` and `step` keys: a known tour and a step in its range (step 1 when absent or out of range, with a message). */
function readTour(id: string | null, rawStep: string | null, messages: string[]): ParsedUrl['tour'] {
  if (id === null) {
    if (rawStep !== null) messages.push(`"step=${quote(rawStep).slice(1)} needs a tour (tour=…); it was ignored.`);
    return null;
  }
  const tour = tourById(id);
  if (!tour) {
    messages.push(`There is no tour ${quote(id, 40)} (tours: ${TOURS.map((t) => t.id).join(', ')}); no tour was opened.`);
    return null;
  }
  if (rawStep === null) return { id, step: 1 };
  const n = Number(rawStep);
  if (!Number.isInteger(n) || n < 1 || n > tour.steps.length) {
    messages.push(`"step=${quote(rawStep).slice(1)} is not a step of the tour "${tour.title}" (steps 1 to ${tour.steps.length}); it opens at step 1.`);
    return { id, step: 1 };
  }
  return { id, step: n };
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
    return { config, messages: ['The link could not be read; using the default settings.'], run: null, embed: false, view: null, tour: null };
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
  return {
    config: settled.config,
    messages,
    run: settled.refused ? null : readRun(params.get('run'), settled.config, messages),
    ...readEmbed(params, settled.config, messages),
    tour: readTour(params.get('tour'), params.get('step'), messages),
  };
}
