/**
 * What a config would make the browser fetch from another origin, and which of those hosts
 * the page must ask about before fetching (pure: no DOM, no store; tested in test/origins.test.ts).
 *
 * Each task names the URLs in its settings (engine/tasks.ts: the language model's Hugging Face
 * folder `hf`, fetched with `lm_src=hf`, and text file `text_url`, with `text=url`; the polynomial
 * task has none). Site paths such as
 * "/lm/corpus.txt" resolve to the page's own origin and need no consent. URLs are resolved
 * with the same parser the browser's fetch uses, so "//host/x", "/\host/x" or " https://host"
 * count as the other host they reach.
 */
import { TASKS, type ExperimentConfig } from '../engine/core/config';
import { settingUrls } from '../engine/tasks';

/** One fetch from another origin: the URL key it came from, the URL as written and its host (with port). */
export interface ForeignFetch {
  key: string;
  url: string;
  host: string;
}

/** The host of `url` resolved against the page, when that is an http(s) URL of another origin; else null. */
export function foreignHost(url: string, pageUrl: string): string | null {
  if (url.trim() === '') return null;
  let page: URL;
  let target: URL;
  try {
    page = new URL(pageUrl);
    target = new URL(url, page);
  } catch {
    return null; // fetch() cannot parse it either: nothing is fetched
  }
  // Other schemes are never fetched from the network (data:, blob:) or refused by fetch (file:, ftp:).
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return null;
  return target.origin === page.origin ? null : target.host;
}

/** The fetches from other origins that running this config would make (in the order of its task's settings: hf, text_url). */
export function foreignFetches(config: ExperimentConfig, pageUrl: string): ForeignFetch[] {
  const out: ForeignFetch[] = [];
  for (const { key, url, active } of settingUrls(config)) {
    const host = active ? foreignHost(url, pageUrl) : null;
    if (host) out.push({ key, url, host });
  }
  return out;
}

/** The distinct hosts of other origins that running this config would fetch from. */
export function foreignHosts(config: ExperimentConfig, pageUrl: string): string[] {
  return [...new Set(foreignFetches(config, pageUrl).map((f) => f.host))];
}

/**
 * The URL values of other origins a link put in the config, active or not: these are fetched
 * only after the user allows their host (values the user types in the page are not listed).
 */
export function linkForeignUrls(config: ExperimentConfig, pageUrl: string): string[] {
  // Every task's URLs, active or not: a link may set one before switching to its task.
  return TASKS.flatMap((t) => settingUrls(config, t))
    .filter((f) => foreignHost(f.url, pageUrl) !== null)
    .map((f) => f.url);
}

/**
 * The fetches to ask about before running `config`: those from other origins whose URL came
 * from a link (`fromLink`) and whose host the user has not allowed (`allowedHosts`).
 */
export function fetchesToAsk(config: ExperimentConfig, pageUrl: string, fromLink: Iterable<string>, allowedHosts: Iterable<string>): ForeignFetch[] {
  const link = new Set(fromLink);
  const allowed = new Set(allowedHosts);
  return foreignFetches(config, pageUrl).filter((f) => link.has(f.url) && !allowed.has(f.host));
}

/** "a", "a and b", "a, b and c". */
export function listHosts(hosts: readonly string[]): string {
  if (hosts.length <= 1) return hosts.join('');
  return `${hosts.slice(0, -1).join(', ')} and ${hosts[hosts.length - 1]}`;
}
