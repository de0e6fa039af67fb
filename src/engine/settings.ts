/**
 * The settings of an experiment as named, typed fields: each URL key with its config path and
 * how it is written. The share URL (url.ts) and config files (configfile.ts) read through here,
 * and `settle` makes whatever they read pass every cross-field check. Nothing here throws.
 */
import { z } from 'zod';
import {
  DEFAULT_CONFIG,
  ExperimentSchema,
  formatBitSchedule,
  formatLr,
  readBitSchedule,
  type BitStep,
  type ExperimentConfig,
  type LayerOverride,
} from './core/config';
import { configProblems } from './tasks';
import { quote } from './core/text';

export { clip, quote } from './core/text';

export type Path = readonly [string] | readonly [string, string];
export interface Field {
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
  f('aobs', 'enum', 'act', 'observer'),
  f('agran', 'enum', 'act', 'granularity'),
  f('afmt', 'enum', 'act', 'format'),
  f('apct', 'number', 'act', 'percentile'),
  f('aema', 'number', 'act', 'emaDecay'),
  f('smooth', 'enum', 'act', 'smooth'),
  f('salpha', 'number', 'act', 'alpha'),
  f('qdelay', 'number', 'quant', 'delay'),
  f('bitsched', 'bitsched', 'quant', 'bitSchedule'),
  f('rot', 'enum', 'quant', 'rotate'),
  f('rot_seed', 'number', 'quant', 'rotSeed'),
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
  f('repeats', 'number', 'repeats'),
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

export function getAt(c: ExperimentConfig, path: Path): unknown {
  let o: unknown = c;
  for (const p of path) o = (o as Record<string, unknown>)[p];
  return o;
}
export function setAt(c: ExperimentConfig, path: Path, value: unknown): void {
  let o = c as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path[path.length - 1]] = value;
}
export function schemaAt(path: Path): z.ZodType {
  let s: z.ZodType = ExperimentSchema;
  for (const p of path) s = (s as z.ZodObject<z.ZodRawShape>).shape[p] as z.ZodType;
  return s;
}

export function formatValue(field: Field, v: unknown): string {
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

export const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Turn the raw text of a key into a value for its schema, or a reason it cannot be one. */
export function readValue(field: Field, raw: string): { value: unknown } | { error: string } {
  // '+ 0' turns -0 into 0, so the value writes back as it reads.
  const num = (t: string | undefined) => (t === undefined || t.trim() === '' ? NaN : Number(t) + 0);
  switch (field.kind) {
    case 'enum':
      return { value: raw };
    case 'bool':
      if (['1', 'true', 'yes', 'on'].includes(raw)) return { value: true };
      if (['0', 'false', 'no', 'off'].includes(raw)) return { value: false };
      return { error: `must be 1 or 0, not ${quote(raw)}` };
    case 'numbers':
    case 'lrs': {
      const xs = raw.split(',').map(num);
      if (raw.trim() === '' || xs.some((x) => !Number.isFinite(x))) return { error: `must be a comma-separated list of numbers, not ${quote(raw)}` };
      return { value: xs };
    }
    case 'overrides': {
      if (raw.trim() === '') return { value: [] };
      const out: unknown[] = [];
      for (const part of raw.split(',')) {
        const [layer, bits, scheme = 'auto', ...extra] = part.split(':');
        if (extra.length || !Number.isFinite(num(layer)) || !Number.isFinite(num(bits)))
          return { error: `entries are layer:bits or layer:bits:scheme (e.g. 0:8,4:8), not ${quote(part)}` };
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
      return Number.isFinite(n) ? { value: n } : { error: `must be a number, not ${quote(raw)}` };
    }
  }
}

export const FIELD_BY_KEY: ReadonlyMap<string, Field> = new Map(URL_FIELDS.map((fl) => [fl.key, fl]));

/** A field's default as written in a link ('(none)' for an empty one). */
export function defaultText(field: Field): string {
  return formatValue(field, getAt(DEFAULT_CONFIG, field.path)) || '(none)';
}

/**
 * Make a config that passes the schema field by field also pass every cross-field check: the
 * key a problem blames goes back to its default; when it already is at its default, the keys
 * the problem names with it do (e.g. lm_d for "d_model is not divisible by the heads"). What
 * still does not fit after a few rounds is refused: the defaults, with a message. `name` says
 * how a key is named to the user (a URL key, or a config path for files).
 */
export function settle(
  config: ExperimentConfig,
  messages: string[],
  name: (f: Field) => string = (f) => f.key,
): { config: ExperimentConfig; refused: boolean } {
  for (let round = 0; round < 4; round++) {
    const problems = configProblems(config);
    if (!problems.length) break;
    const reset = new Set<string>();
    for (const pr of problems) {
      const keys = [pr.key, ...(pr.also ?? [])].filter((k) => FIELD_BY_KEY.has(k));
      const changed = keys.filter((k) => !same(getAt(config, FIELD_BY_KEY.get(k)!.path), getAt(DEFAULT_CONFIG, FIELD_BY_KEY.get(k)!.path)));
      for (const k of changed[0] === pr.key ? [pr.key] : changed) reset.add(k);
    }
    if (!reset.size) break;
    for (const key of reset) {
      const field = FIELD_BY_KEY.get(key)!;
      const why = problems
        .filter((pr) => pr.key === key || pr.also?.includes(key))
        .map((pr) => pr.message)
        .join(' ');
      messages.push(`"${name(field)}": ${why.replace(/\.?$/, '.')} Using the default ${defaultText(field)}.`);
      setAt(config, field.path, structuredClone(getAt(DEFAULT_CONFIG, field.path)));
    }
  }
  const whole = ExperimentSchema.safeParse(config);
  if (!whole.success || configProblems(whole.data).length) {
    messages.push('These settings do not fit together; the defaults are used instead.');
    return { config: structuredClone(DEFAULT_CONFIG) as ExperimentConfig, refused: true };
  }
  return { config: whole.data, refused: false };
}

/** Whether a config passes the schema and every cross-field check (what every reader returns). */
export function isRunnableConfig(c: unknown): boolean {
  const r = ExperimentSchema.safeParse(c);
  return r.success && configProblems(r.data).length === 0;
}
