/**
 * Reading, writing and validating one field of the ExperimentConfig by its path, with the
 * field's own zod schema from src/engine/config.ts (the single source of truth).
 */
import type { z } from 'zod';
import { ExperimentSchema, type ExperimentConfig } from '../engine/core/config';

export type ConfigPath = readonly [string] | readonly [string, string];

export function getIn(c: ExperimentConfig, path: ConfigPath): unknown {
  let o: unknown = c;
  for (const p of path) o = (o as Record<string, unknown>)[p];
  return o;
}

/** A new config with one field replaced (the old one is not mutated). */
export function setIn(c: ExperimentConfig, path: ConfigPath, value: unknown): ExperimentConfig {
  const next = structuredClone(c);
  let o = next as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path[path.length - 1]] = value;
  return next;
}

export function schemaAt(path: ConfigPath): z.ZodType {
  let s: z.ZodType = ExperimentSchema;
  for (const p of path) s = (s as unknown as z.ZodObject<z.ZodRawShape>).shape[p] as z.ZodType;
  return s;
}

export type Checked = { ok: true; value: number } | { ok: false; message: string };

/** Parse a typed-in number and check it against the field's schema. */
export function checkNumber(path: ConfigPath, raw: string): Checked {
  const t = raw.trim();
  if (t === '') return { ok: false, message: 'Enter a number.' };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, message: `"${t}" is not a number.` };
  const r = schemaAt(path).safeParse(n);
  if (!r.success) return { ok: false, message: humanIssue(r.error.issues[0]?.message ?? 'Invalid value.') };
  return { ok: true, value: r.data as number };
}

/** Zod's "Too small: expected number to be >=16" → "must be ≥ 16". */
function humanIssue(m: string): string {
  return m
    .replace(/^Too (small|big):\s*/i, '')
    .replace(/expected (number|int) to be >=\s*/i, 'must be ≥ ')
    .replace(/expected (number|int) to be <=\s*/i, 'must be ≤ ')
    .replace(/expected (number|int) to be >\s*/i, 'must be > ')
    .replace(/expected (number|int) to be <\s*/i, 'must be < ')
    .replace(/^Invalid input: expected int, received number$/i, 'Must be a whole number.');
}
