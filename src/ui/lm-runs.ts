/**
 * The results table of the language-model task: validation NLL (nats/token), perplexity, the
 * difference to the FP model, bits per component, storage, the training figures and each
 * method's own figures (RunRecord.extra).
 */
import { formatLr, isFullPrecision, type ExperimentConfig } from '../engine/core/config';
import type { RunRecord } from '../engine/core/runs';
import { lmBitsLabel } from '../engine/lm/naming';
import { fmtStatus, fmtWall, fpReference, METHOD_LABEL, type TableSpec } from './runs';

/** Sources and corpora, in words. */
export function lmModelLabel(c: ExperimentConfig): string {
  const l = c.lm;
  if (l.source === 'hf') return l.hfUrl.replace(/^https?:\/\/(www\.)?huggingface\.co\//, 'hf:').replace(/\/resolve\/main\/?$/, '') || 'Hugging Face (no URL)';
  if (l.source === 'files') return 'dropped checkpoint';
  return `GPT ${l.layers}L ${l.heads}H d${l.dModel} ctx${l.context}${l.norm === 'layer' ? ' LN' : ''}${l.bitnet ? ' BitNet' : ''}${l.pretrained ? '' : ' (own FP)'}`;
}

export function lmCorpusLabel(c: ExperimentConfig): string {
  const l = c.lm;
  if (l.corpus === 'own') return 'own text';
  if (l.corpus === 'url') return l.corpusUrl.replace(/^https?:\/\//, '').slice(0, 48) || 'text URL';
  return 'lab corpus';
}

/** Perplexity: the run's own figure, else exp(NLL). */
export function perplexity(run: RunRecord): number | null {
  const own = run.extra?.find((e) => /^perplexity/i.test(e.label));
  if (own && Number.isFinite(own.value)) return own.value;
  return run.loss === null || !Number.isFinite(run.loss) ? null : Math.exp(run.loss);
}

/** NLL with 4 decimals (nats/token). */
export function fmtNll(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4);
}

export function fmtPpl(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return x >= 1000 ? x.toExponential(2) : x.toFixed(x >= 100 ? 1 : 3);
}

/** Validation NLL minus that of the FP run of the same FP model (nats/token). */
export function nllDelta(run: RunRecord, runs: RunRecord[]): number | null {
  const ref = fpReference(run, runs);
  if (!ref || ref.loss === null || run.loss === null) return null;
  return run.loss - ref.loss;
}

export function fmtDelta(run: RunRecord, runs: RunRecord[]): string {
  const ref = fpReference(run, runs);
  if (ref?.id === run.id) return '0 (ref)';
  const d = nllDelta(run, runs);
  if (d === null || !Number.isFinite(d)) return '—';
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(4)}`;
}

/** Weight storage in KiB or MiB. */
export function fmtStorage(bits: number | undefined): string {
  if (bits === undefined || !Number.isFinite(bits)) return '—';
  const kib = bits / 8 / 1024;
  if (kib >= 1024) return `${(kib / 1024).toPrecision(3)} MiB`;
  return `${kib >= 100 ? kib.toFixed(0) : kib.toPrecision(3)} KiB`;
}

function fmtFigure(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(3) : v.toPrecision(4);
}

/** The method's own figures (all but perplexity, which has its column). */
export function fmtExtra(run: RunRecord): string {
  return (run.extra ?? [])
    .filter((e) => !/^perplexity/i.test(e.label))
    .map((e) => `${e.label} ${fmtFigure(e.value)}`)
    .join('; ');
}

export function fmtLmBits(run: RunRecord): string {
  return run.method === 'fp' ? 'FP32' : lmBitsLabel(run.config);
}

export function fmtLmSteps(run: RunRecord): string {
  if (run.steps === 0 && run.stepsDone === 0) return '—';
  return run.stepsDone === run.steps ? String(run.steps) : `${run.stepsDone}/${run.steps}`;
}

/** ['embed: FP32', 'attn: int3 absmax row', 'mlp: int3 absmax row', 'head: FP32'] → "attn+mlp int3 absmax row; embed+head FP32". */
export function groupLayerQuant(labels: string[]): string {
  const groups = new Map<string, string[]>();
  for (const l of labels) {
    const i = l.indexOf(': ');
    const [who, how] = i < 0 ? ['', l] : [l.slice(0, i), l.slice(i + 2)];
    groups.set(how, [...(groups.get(how) ?? []), who]);
  }
  // Quantized groups first.
  return [...groups.entries()]
    .sort(([a], [b]) => Number(a.startsWith('FP')) - Number(b.startsWith('FP')))
    .map(([how, who]) => `${who.filter(Boolean).join('+')} ${how}`.trim())
    .join('; ');
}

/** Model, text and (for quantized runs) the quantizer of each component. */
export function fmtLmSetup(run: RunRecord): string {
  const c = run.config;
  const parts = [lmModelLabel(c), lmCorpusLabel(c)];
  if (run.method !== 'fp') {
    if (run.layerQuant?.length) parts.push(groupLayerQuant(run.layerQuant));
    if (c.quant.actBits > 0) parts.push(`act ${c.quant.actBits}b`);
    if (run.method === 'gptq') parts.push(`damp ${c.gptq.damp}, block ${c.gptq.blockSize}${c.gptq.actOrder ? ', act-order' : ''}`);
  }
  return parts.join(', ');
}

export const LM_TABLE_HEAD = [
  'Method',
  'Bits',
  'LR',
  'Steps',
  'Val NLL',
  'Perplexity',
  'Δ vs FP',
  'Storage',
  'Seqs',
  'Figures',
  'Status',
  'Wall',
  'Backend',
  'Setup',
];
export const LM_TABLE_CLASS = ['', '', 'num', 'num', 'num', 'num', 'num', 'num', 'num', 'figures', 'status-cell wrap', 'num', '', 'wrap setup'];

export function lmTableCells(run: RunRecord, runs: RunRecord[]): string[] {
  return [
    METHOD_LABEL[run.method],
    fmtLmBits(run),
    run.lr === null ? '—' : formatLr(run.lr),
    fmtLmSteps(run),
    fmtNll(run.loss),
    fmtPpl(perplexity(run)),
    fmtDelta(run, runs),
    fmtStorage(run.storageBits),
    run.examples === undefined || run.examples === null ? '—' : String(run.examples),
    fmtExtra(run),
    fmtStatus(run) + (run.notes && run.notes.length ? ` (${run.notes.join('; ')})` : ''),
    fmtWall(run.wallMs),
    run.backend,
    fmtLmSetup(run),
  ];
}

/** Whether any component of the config is quantized. */
export function lmAnyQuantized(c: ExperimentConfig): boolean {
  const l = c.lm;
  return [l.embedBits, l.attnBits, l.mlpBits, l.headBits].some((b) => !isFullPrecision(b));
}

export const LM_TABLE: TableSpec = { head: LM_TABLE_HEAD, cls: LM_TABLE_CLASS, cells: lmTableCells };
