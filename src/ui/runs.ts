/**
 * Derived views of the runs: colours, the FP reference of a run, which runs the polynomial
 * plots show, table cells and the Markdown table.
 */
import { fpKey } from '../engine/tasks';
import { formatBits, formatLr, isFullPrecision, totalSteps, type ExperimentConfig } from '../engine/core/config';
import { METHOD_REGISTRY, methodsOf, type Method } from '../engine/core/methods';
import type { RunRecord } from '../engine/core/runs';
import { settingsKey as methodKey } from './select';

/** Each method's name (the registry's label). */
export const METHOD_LABEL = Object.fromEntries(METHOD_REGISTRY.map((m) => [m.id, m.label])) as Record<Method, string>;
/** One colour per method, for the views that compare methods (not runs): the registry's. */
export const METHOD_COLOUR = Object.fromEntries(METHOD_REGISTRY.map((m) => [m.id, m.colour])) as Record<Method, string>;

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#a6a000', '#393b79'];

/** One colour per run, by its position among all runs (the live run comes last). */
export function colourMap(ids: string[]): Map<string, string> {
  return new Map(ids.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
}

/** The FP run a run is compared with: same fpKey, done, the latest one not after the run. */
export function fpReference(run: RunRecord, runs: RunRecord[]): RunRecord | null {
  const key = fpKey(run.config);
  const fps = runs.filter((r) => r.method === 'fp' && r.status === 'done' && r.loss !== null && fpKey(r.config) === key);
  if (fps.length === 0) return null;
  const before = fps.filter((r) => r.createdAt <= run.createdAt);
  return (before.length ? before : fps).reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
}

/**
 * The run per method shown in the polynomial plots: the latest one with predictions for the
 * current settings; else the latest one on the same test examples (same degree and test seed).
 */
export function plottedRuns(runs: RunRecord[], c: ExperimentConfig): Partial<Record<Method, RunRecord>> {
  const out: Partial<Record<Method, RunRecord>> = {};
  const sameExamples = (r: RunRecord) => r.config.data.degree === c.data.degree && r.config.data.testSeed === c.data.testSeed;
  for (const method of methodsOf('poly')) {
    const cands = runs.filter((r) => r.method === method && r.predictions && r.predictions.length > 0 && sameExamples(r));
    const key = methodKey(method, c);
    const exact = cands.filter((r) => methodKey(method, r.config) === key);
    const pool = exact.length ? exact : cands;
    if (pool.length) out[method] = pool.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  }
  return out;
}

/**
 * Whether a run's training loss at `step` is the task's loss on its real data (test MSE, NLL on
 * the text; comparable with the test curve): not data-free QAFT's (a distillation loss: MSE to
 * the FP model's outputs, KL or CE on generated text), nor tiled QAT's during its tiles (an L2 to
 * the FP activations), only in its global QAFT after them. Both tasks read tile_global.
 */
export function trainIsTaskLoss(method: Method, c: ExperimentConfig, planned: number, step: number): boolean {
  if (method === 'tiled') return step > planned - c.lm.tileGlobal;
  return method !== 'datafree';
}

// ---------------------------------------------------------------- cells

/** 4 significant digits. */
export function fmtMse(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(3) : x.toPrecision(4);
}

/** A mean ± 95 % half-width with one exponent for both, e.g. "1.23e-2 ± 0.31e-2" ("1.234 ± 0.05" near 1); the mean alone when there is no interval. */
export function fmtPm(mean: number, ci95: number): string {
  if (!Number.isFinite(mean)) return '—';
  if (!Number.isFinite(ci95)) return fmtMse(mean);
  const e = mean === 0 ? 0 : Math.floor(Math.log10(Math.abs(mean)));
  if (e === 0) return `${mean.toFixed(3)} ± ${ci95.toFixed(3)}`;
  return `${(mean / 10 ** e).toFixed(2)}e${e} ± ${(ci95 / 10 ** e).toFixed(2)}e${e}`;
}

export function fmtRatio(run: RunRecord, runs: RunRecord[]): string {
  if (run.loss === null) return '—';
  const ref = fpReference(run, runs);
  if (!ref || ref.loss === null || ref.loss <= 0) return '—';
  if (ref.id === run.id) return '1 (ref)';
  const r = run.loss / ref.loss;
  return `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)}×`;
}

export function fmtWall(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

export function fmtSteps(run: RunRecord): string {
  if (run.method === 'rtn' || run.method === 'gptq') return '—';
  const t = run.method === 'fp' ? run.config.fp : run.config.qaft;
  // Tiled QAT's length is its steps per tile and global steps, never epochs.
  const ep = t.unit === 'epochs' && run.method !== 'tiled' ? ` (${t.epochs} ep)` : '';
  return run.stepsDone === run.steps ? `${run.steps}${ep}` : `${run.stepsDone}/${run.steps}${ep}`;
}

export function fmtStatus(run: RunRecord): string {
  // A run that does not train (RTN, GPTQ, a loaded checkpoint) diverges only by its final loss.
  if (run.status === 'diverged' && run.diverged)
    return run.lr === null || run.steps === 0
      ? `diverged (final ${run.metric.name} not finite)`
      : `diverged at step ${run.diverged.step} (lr ${formatLr(run.diverged.lr)})`;
  if (run.status === 'stopped') return `stopped at step ${run.stepsDone}`;
  return 'done';
}

/** Weight storage in KiB (codes, scales, zero points and FP32 biases). */
export function kib(bits: number): number {
  return bits / 8 / 1024;
}

export function fmtKib(bits: number | undefined): string {
  if (bits === undefined || !Number.isFinite(bits)) return '—';
  const k = kib(bits);
  return `${k >= 100 ? k.toFixed(0) : k.toPrecision(3)} KiB`;
}

/** Examples seen after FP pretraining (GPTQ calibration, QAFT / scratch training). */
export function fmtExamples(run: RunRecord): string {
  if (run.examples === undefined || run.examples === null) return '—';
  // A budget larger than the training set means all of it.
  return String(Math.min(run.examples, run.config.data.trainSize));
}

/** The quantizer of each layer, compressed: one label when all layers agree. */
export function fmtLayerQuant(labels: string[] | undefined): string {
  if (!labels || labels.length === 0) return '';
  if (labels.every((l) => l === labels[0])) return labels[0];
  return labels.map((l, i) => `L${i} ${l}`).join(', ');
}

/** Model, data and (for quantized runs) the quantizer of each layer and method options. */
export function fmtSetup(run: RunRecord): string {
  const c = run.config;
  const parts = [`${c.model.width}×${c.model.depth}`, `deg ${c.data.degree}`, `n=${c.data.trainSize}`];
  if (run.method !== 'fp' && !isFullPrecision(c.quant.bits)) {
    if (run.layerQuant) parts.push(fmtLayerQuant(run.layerQuant));
    else {
      if (c.quant.bits !== 1.58 && c.quant.granularity === 'tensor') parts.push('per-tensor');
      if (c.quant.layers !== 'all') parts.push(`layers ${c.quant.layers}`);
    }
    if (c.quant.actBits > 0) parts.push(`act ${c.quant.actBits}b`);
    if (run.method === 'gptq') parts.push(`damp ${c.gptq.damp}, block ${c.gptq.blockSize}${c.gptq.actOrder ? ', act-order' : ''}`);
  }
  return parts.join(', ');
}

export function planned(c: ExperimentConfig, which: 'fp' | 'qaft'): number {
  return totalSteps(c[which], c.data.trainSize);
}

export const TABLE_HEAD = ['Method', 'Bits', 'LR', 'Steps', 'Test MSE', 'Ratio to FP', 'Storage', 'Examples', 'Status', 'Wall', 'Backend', 'Setup'];
/** CSS class of each column's cells. */
export const TABLE_CLASS = ['', '', 'num', 'num', 'num', 'num', 'num', 'num', 'status-cell wrap', 'num', '', 'wrap'];

export function tableCells(run: RunRecord, runs: RunRecord[]): string[] {
  return [
    METHOD_LABEL[run.method],
    formatBits(run.bits) + (run.method !== 'fp' && run.config.quant.overrides.length ? ' (mixed)' : ''),
    run.lr === null ? '—' : formatLr(run.lr),
    fmtSteps(run),
    fmtMse(run.loss),
    fmtRatio(run, runs),
    fmtKib(run.storageBits),
    fmtExamples(run),
    fmtStatus(run) + (run.notes && run.notes.length ? ` (${run.notes.join('; ')})` : ''),
    fmtWall(run.wallMs),
    run.backend,
    fmtSetup(run),
  ];
}

/** The columns of a results table: headers, cell classes ('num' = right-aligned) and the cells of a run. */
export interface TableSpec {
  head: string[];
  cls: string[];
  cells(run: RunRecord, runs: RunRecord[]): string[];
}
export const POLY_TABLE: TableSpec = { head: TABLE_HEAD, cls: TABLE_CLASS, cells: tableCells };

/** The results as a GitHub-flavoured Markdown table. */
export function markdownTable(runs: RunRecord[], spec: TableSpec = POLY_TABLE): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const right = new Set(spec.cls.flatMap((c, i) => (c === 'num' ? [i] : [])));
  const lines = [
    `| ${spec.head.join(' | ')} |`,
    `| ${spec.head.map((_, i) => (right.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...runs.map((r) => `| ${spec.cells(r, runs).map(esc).join(' | ')} |`),
  ];
  return lines.join('\n');
}
