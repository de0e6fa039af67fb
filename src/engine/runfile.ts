/**
 * Runs as files: the JSON export (`qaft-lab-runs`, version 1) that the page and the CLI write
 * and the page imports, its validation, and the CSV exports (one row per run; curves in long
 * format). A run from a file or from IndexedDB goes through `checkRun`: its shape is checked
 * with zod, its config is brought up to this version of the lab (upgradeConfig), and a run
 * saved before the task interface gets its `loss` and `metric`.
 */
import { z } from 'zod';
import { upgradeConfig } from './core/config';
import { flattenConfig } from './core/configdiff';
import { isMethod } from './core/methods';
import type { RunRecord } from './core/runs';
import { taskMetric } from './tasks';

export const RUNS_FORMAT = 'qaft-lab-runs';
export const RUNS_FORMAT_VERSION = 1;

/** The JSON export: a format tag and version, where and when it was written, and the runs (RunRecords) oldest first. */
export interface RunsFile {
  format: typeof RUNS_FORMAT;
  version: number;
  /** ISO time of the export. */
  exportedAt: string;
  /** What wrote it: "QAFT Lab page" or "QAFT Lab CLI". */
  source: string;
  runs: RunRecord[];
}

/** JSON has no NaN or Infinity: a diverged run's loss points are written as null and read back as NaN. */
const loosePoint = z.union([z.number(), z.null()]).transform((v) => (v === null ? NaN : v));

const RunShape = z.looseObject({
  id: z.string().min(1, 'must not be empty'),
  name: z.string(),
  method: z.string().refine(isMethod, { message: 'is not a method of the lab' }),
  bits: z.number(),
  lr: z.number().nullable().optional(),
  steps: z.number().optional(),
  stepsDone: z.number().optional(),
  loss: z.number().nullable().optional(),
  curve: z.array(z.looseObject({ step: z.number(), train: loosePoint, test: loosePoint })),
  predictions: z.array(z.array(loosePoint)).nullable().optional(),
  wallMs: z.number().optional(),
  createdAt: z.number(),
  status: z.enum(['done', 'diverged', 'stopped']),
  backend: z.string().optional(),
  config: z.unknown(),
});

/** A stored or imported run brought up to this version of the lab, or what is wrong with it (naming the field). */
export function checkRun(v: unknown): { run: RunRecord } | { problem: string } {
  const r = RunShape.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = i.path.join('.');
    return { problem: path ? `"${path}" ${i.message.replace(/^Invalid input: /, '')}` : i.message };
  }
  const old = r.data as unknown as RunRecord & { testMse?: number | null };
  let config;
  try {
    config = upgradeConfig(old.config);
  } catch (e) {
    return { problem: `its config is not usable (${(e as Error).message.replace(/^Invalid experiment config: /, '')})` };
  }
  const loss = typeof old.loss === 'number' || old.loss === null ? old.loss : typeof old.testMse === 'number' ? old.testMse : null;
  const metric = old.metric?.name ? old.metric : taskMetric(config.task);
  const { testMse: _old, ...rest } = old;
  return { run: { ...rest, loss, metric, config } };
}

/** A stored run brought up to this version of the lab, or null if unusable. */
export function upgradeRun(v: unknown): RunRecord | null {
  const c = checkRun(v);
  return 'run' in c ? c.run : null;
}

export function runsFile(runs: RunRecord[], source: string): RunsFile {
  return { format: RUNS_FORMAT, version: RUNS_FORMAT_VERSION, exportedAt: new Date().toISOString(), source, runs };
}

/** The export as JSON text (non-finite numbers become null, as JSON requires). */
export function runsFileText(runs: RunRecord[], source: string): string {
  return JSON.stringify(runsFile(runs, source), null, 1) + '\n';
}

export interface RunsFileRead {
  runs: RunRecord[];
  /** One line per run that was left out, naming the run and what is wrong. */
  problems: string[];
}

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/**
 * Read a runs export. Throws an Error saying what is wrong when the text is not such a file (not
 * JSON, another format, a newer version, no list of runs); a run that does not check out is left
 * out with a problem line, and the others are read.
 */
export function parseRunsFile(text: string, source: string): RunsFileRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message}).`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${source} holds ${kindOf(json)}, not a QAFT Lab runs export.`);
  const f = json as Record<string, unknown>;
  if (f.format !== RUNS_FORMAT)
    throw new Error(
      `${source} is not a QAFT Lab runs export: its "format" is ${f.format === undefined ? 'missing' : JSON.stringify(f.format).slice(0, 60)}, not "${RUNS_FORMAT}".`,
    );
  if (typeof f.version !== 'number' || !Number.isInteger(f.version) || f.version < 1)
    throw new Error(`${source}: "version" must be a whole number from 1, not ${JSON.stringify(f.version) ?? 'missing'}.`);
  if (f.version > RUNS_FORMAT_VERSION)
    throw new Error(`${source} was written by a newer version of the lab (format version ${f.version}; this page reads up to ${RUNS_FORMAT_VERSION}).`);
  if (!Array.isArray(f.runs)) throw new Error(`${source}: "runs" must be a list of runs, not ${kindOf(f.runs)}.`);
  const runs: RunRecord[] = [];
  const problems: string[] = [];
  f.runs.forEach((v, i) => {
    const c = checkRun(v);
    if ('run' in c) runs.push(c.run);
    else {
      const name =
        typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' ? ` ("${(v as { name: string }).name.slice(0, 60)}")` : '';
      problems.push(`run ${i + 1}${name}: ${c.problem}`);
    }
  });
  return { runs, problems };
}

// ---------------------------------------------------------------- CSV

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. null/undefined is empty. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV text (CRLF line ends, as RFC 4180 has it). */
export function csvText(rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The results table's columns (headings, and each run's cells as shown). */
export interface TableColumns {
  head: string[];
  cells(run: RunRecord, runs: RunRecord[]): string[];
}

/**
 * One row per run: `run_id`, the table's columns as shown, then the exact figures (`loss` in the
 * run's metric, `metric`, `created_at`), then every setting of its config as `config.<path>`
 * (the union of the runs' settings, in the first run's order).
 */
export function runsCsv(runs: RunRecord[], table: TableColumns): string {
  const flat = runs.map((r) => flattenConfig(r.config));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flat)
    for (const p of f.keys())
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
  const head = ['run_id', ...table.head, 'loss', 'metric', 'created_at', ...paths.map((p) => `config.${p}`)];
  const rows = runs.map((r, i) => [
    r.id,
    ...table.cells(r, runs),
    r.loss,
    r.metric.unit ? `${r.metric.name} (${r.metric.unit})` : r.metric.name,
    new Date(r.createdAt).toISOString(),
    ...paths.map((p) => flat[i].get(p)),
  ]);
  return csvText([head, ...rows]);
}

/** Curves in long format: one row per logged point of every run (`test_loss` is the run's metric, e.g. test MSE or val NLL). */
export function curvesCsv(runs: RunRecord[]): string {
  const head = ['run_id', 'run_name', 'method', 'step', 'train_loss', 'test_loss', 'metric'];
  const rows = runs.flatMap((r) => r.curve.map((p) => [r.id, r.name, r.method, p.step, p.train, p.test, r.metric.name]));
  return csvText([head, ...rows]);
}
