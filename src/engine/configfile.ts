/**
 * A config file (a full or partial experiment config, or a saved run carrying one under
 * "config"), read like a share link: every setting is checked on its own against the schema,
 * a bad or unknown one gets a message naming it by its path (e.g. "quant.bits") and keeps its
 * default, and the result passes every cross-field check (settings.ts). Only a file that holds
 * no settings at all (not an object, or a run whose "config" is not one) is refused, with an
 * Error that says so.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG, ExperimentSchema, cloneConfig, type ExperimentConfig } from './core/config';
import { quote, settle } from './settings';

export interface ConfigFileRead {
  config: ExperimentConfig;
  /** One message per problem, each naming the setting by its path in the file. */
  messages: string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function shapeOf(s: z.ZodType): Record<string, z.ZodType> | null {
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : null;
}

/** Copy every valid setting of `input` onto `target`, walking the schema; messages for the rest. */
function readInto(
  schema: Record<string, z.ZodType>,
  input: Record<string, unknown>,
  target: Record<string, unknown>,
  prefix: string,
  messages: string[],
): void {
  for (const [key, value] of Object.entries(input)) {
    const path = prefix + key;
    const sub = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!sub) {
      messages.push(`Unknown setting ${quote(path, 60)} was ignored.`);
      continue;
    }
    const shape = shapeOf(sub);
    if (shape) {
      if (!isPlainObject(value)) messages.push(`"${path}" must be an object of settings, not ${kindOf(value)}; its defaults are used.`);
      else readInto(shape, value, target[key] as Record<string, unknown>, `${path}.`, messages);
      continue;
    }
    const r = sub.safeParse(value);
    if (!r.success) {
      const why = r.error.issues[0]?.message ?? 'invalid value';
      const shown = typeof value === 'string' ? quote(value) : quote(JSON.stringify(value) ?? String(value)).replace(/^"(.*)"/, '$1');
      messages.push(`"${path}" = ${shown} is not allowed (${why}); using the default ${JSON.stringify(target[key])}.`);
      continue;
    }
    target[key] = r.data;
  }
}

/**
 * Read parsed JSON as an experiment config. `source` names the file in messages. Throws an Error
 * (with a readable message) only when the JSON holds no settings at all.
 */
export function configFromJson(json: unknown, source: string): ConfigFileRead {
  const messages: string[] = [];
  if (!isPlainObject(json)) throw new Error(`${source} holds ${kindOf(json)}, not an experiment config (an object of settings, or a saved run with "config").`);
  // A saved run carries its config under "config" (its other fields are the run's, not settings).
  let settings: Record<string, unknown> = json;
  if (Object.hasOwn(json, 'config')) {
    if (!isPlainObject(json.config)) throw new Error(`${source}: "config" is ${kindOf(json.config)}, not an object of settings.`);
    settings = json.config;
  }
  const config = cloneConfig(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  readInto(shapeOf(ExperimentSchema)!, settings, config, '', messages);
  const pathOf = (f: { path: readonly string[] }) => f.path.join('.');
  const settled = settle(config as unknown as ExperimentConfig, messages, pathOf);
  return { config: settled.config, messages: messages.map((m) => `${source}: ${m}`) };
}
