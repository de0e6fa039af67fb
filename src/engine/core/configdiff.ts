/**
 * A config as flat `path = value` settings, and the difference between two configs: what a code
 * diff of two runs' settings shows (the path, the value in A, the value in B) and how many
 * settings are the same. Lists (per-layer overrides, sweep bits, a bit schedule) are one setting
 * each, shown as JSON.
 */

/** A setting's value as a string: strings as they are, lists and objects as JSON, a setting absent from one side as undefined. */
export type FlatValue = string | undefined;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** Every leaf of a (nested) config as "a.b.c" → its value as text, in the config's own key order. */
export function flattenConfig(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, prefix: string) => {
    if (isPlainObject(v) && (Object.keys(v).length > 0 || prefix === '')) {
      for (const [k, sub] of Object.entries(v)) walk(sub, prefix ? `${prefix}.${k}` : k);
    } else out.set(prefix, show(v));
  };
  walk(config, '');
  return out;
}

export interface ConfigChange {
  path: string;
  a: FlatValue;
  b: FlatValue;
}

export interface ConfigDiff {
  /** The settings that differ, in A's order (settings only B has come last). */
  changed: ConfigChange[];
  /** How many settings are the same in both. */
  same: number;
}

export function diffConfigs(a: unknown, b: unknown): ConfigDiff {
  const fa = flattenConfig(a);
  const fb = flattenConfig(b);
  const changed: ConfigChange[] = [];
  let same = 0;
  for (const [path, va] of fa) {
    const vb = fb.get(path);
    if (vb === va) same += 1;
    else changed.push({ path, a: va, b: vb });
  }
  for (const [path, vb] of fb) if (!fa.has(path)) changed.push({ path, a: undefined, b: vb });
  return { changed, same };
}
