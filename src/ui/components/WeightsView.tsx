/**
 * Weight histograms per layer: the FP weights with the quantization levels overlaid, and the
 * quantized weights of a chosen run, on one shared x range.
 */
import { useState } from 'react';
import { fpKey } from '../../engine/tasks';
import { isFullPrecision } from '../../engine/core/config';
import type { LayerHistogram } from '../../engine/poly/histogram';
import { fmtNum, fmtStat } from '../chart-utils';
import { computeHistograms, fpUnavailable } from '../probes';
import { METHOD_COLOUR } from '../runs';
import { latest } from '../select';
import { isWorking, useLab } from '../store';
import { Empty, Notes, ProbeProgress, useViewBits } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

const W = 300;
const H = 120;
const PAD = { l: 6, r: 6, t: 8, b: 18 };

function Histogram({
  h,
  counts,
  colour,
  levels,
  title,
  testId,
}: {
  h: LayerHistogram;
  counts: number[];
  colour: string;
  levels: number[] | null;
  title: string;
  testId: string;
}) {
  const bins = counts.length;
  // Square-root heights: the tails stay visible next to a tall bin (e.g. all the weights rounded to 0).
  const max = Math.sqrt(Math.max(1, ...counts));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const sx = (v: number) => PAD.l + ((v - h.lo) / (h.hi - h.lo || 1)) * iw;
  const bw = iw / bins;
  return (
    <figure className="hist" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <rect x={PAD.l} y={PAD.t} width={iw} height={ih} className="plot-bg" />
        {counts.map((c, i) =>
          c > 0 ? (
            <rect
              key={i}
              x={PAD.l + i * bw + 0.3}
              width={Math.max(0.6, bw - 0.6)}
              y={PAD.t + ih - (Math.sqrt(c) / max) * ih}
              height={(Math.sqrt(c) / max) * ih}
              fill={colour}
            />
          ) : null,
        )}
        {levels?.map((v) => (
          <line key={v} className="level-tick" x1={sx(v)} x2={sx(v)} y1={PAD.t} y2={PAD.t + ih} />
        ))}
        {h.lo < 0 && h.hi > 0 ? <line x1={sx(0)} x2={sx(0)} y1={PAD.t + ih} y2={PAD.t + ih + 4} stroke="#111" /> : null}
        <text x={PAD.l} y={H - 4} className="hist-tick">
          {fmtNum(h.lo)}
        </text>
        {h.lo < 0 && h.hi > 0 ? (
          <text x={sx(0)} y={H - 4} className="hist-tick" textAnchor="middle">
            0
          </text>
        ) : null}
        <text x={W - PAD.r} y={H - 4} className="hist-tick" textAnchor="end">
          {fmtNum(h.hi)}
        </text>
      </svg>
    </figure>
  );
}

export function WeightsView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const sessionIds = useLab((s) => s.sessionRunIds);
  const view = useLab((s) => s.histograms);
  const working = useLab(isWorking);
  const cachedFpKey = useLab((s) => s.cachedFpKey);
  const backendPhase = useLab((s) => s.backendPhase);
  const { bits } = useViewBits();
  const [chosen, setChosen] = useState<string | null>(null);
  const key = fpKey(config);
  const session = new Set(sessionIds);
  const quantized = runs.filter((r) => r.method !== 'fp' && r.status === 'done' && !isFullPrecision(r.bits) && fpKey(r.config) === key);
  const candidates = quantized.filter((r) => session.has(r.id));
  const byDefault = latest(candidates.filter((r) => r.config.quant.bits === bits)) ?? latest(candidates);
  const run = candidates.find((r) => r.id === chosen) ?? byDefault;
  const noFp = run ? fpUnavailable({ cachedFpKey, backendPhase }, run.config) : null;
  const shownRun = view ? runs.find((r) => r.id === view.runId) : undefined;
  return (
    <div data-testid="view-weights" className="view">
      <div className="view-head">
        <p className="view-intro">
          The distribution of each layer's weights: FP on the left, the chosen run's quantized weights on the right, on one x range per layer. Blue ticks: the
          distinct values the quantized weights take (shown when there are at most 64; with per-channel or per-group scales this is the union of every channel's
          grid). Bar heights are √count, so the tails stay visible. Under each layer: the FP weights' excess kurtosis (0 for a Gaussian; large when a few
          weights are outliers) and largest |w| in standard deviations, as stored → after a randomized Hadamard rotation of the layer's inputs (rot=hadamard
          quantizes there: R·q(Rᵀ·W)). A run that rotated a layer shows it in the rotated basis, where its grid lies.
        </p>
        <div className="view-actions">
          <select
            data-testid="input-weights-run"
            aria-label="Run"
            value={run?.id ?? ''}
            disabled={candidates.length === 0}
            onChange={(e) => setChosen(e.target.value)}
          >
            {candidates.length === 0 ? <option value="">no run with weights</option> : null}
            {candidates.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="primary"
            data-testid="run-histograms"
            disabled={!run || working || noFp !== null}
            onClick={() => run && computeHistograms(run)}
          >
            Show weights
          </button>
        </div>
      </div>
      <ProbeProgress kind="histograms" />
      {noFp ? <Notes notes={[noFp]} /> : null}
      {candidates.length === 0 ? (
        <Empty>
          {quantized.length
            ? 'The quantized runs for these settings are from an earlier page session: only their results were kept, not their weights. Press PTQ vs QAFT (or a method) to run them again.'
            : 'No quantized runs for these settings yet. Press PTQ vs QAFT (or RTN, GPTQ, QAFT), then Show weights.'}
        </Empty>
      ) : !view ? (
        <Empty>Pick a run and press Show weights.</Empty>
      ) : null}
      {view ? (
        <>
          <p className="muted small" data-testid="weights-run">
            {view.runName}
            {shownRun?.layerQuant ? ` — ${shownRun.layerQuant.map((l, i) => `layer ${i}: ${l}`).join('; ')}` : ''}
          </p>
          <ExportableFigure name="weights" title={`Weights of ${view.runName}`}>
            <div className="hist-grid">
              {view.layers.map((h) => (
                <div key={h.layer} className="hist-pair" data-testid="hist-pair">
                  <Histogram
                    h={h}
                    counts={h.fp}
                    colour="#9ca3af"
                    levels={h.levels}
                    title={`layer ${h.layer}: FP weights${h.rotated ? ' (rotated, Rᵀ·W)' : ''}${h.levels ? ` + ${h.levels.length} quantized values` : ''}`}
                    testId="hist-fp"
                  />
                  <Histogram
                    h={h}
                    counts={h.quantized}
                    colour={METHOD_COLOUR[shownRun?.method ?? 'rtn']}
                    levels={null}
                    title={`layer ${h.layer}: quantized${h.rotated ? ' (rotated)' : ''}${h.levels ? ` (${h.levels.length} distinct values)` : ' (more than 64 distinct values)'}`}
                    testId="hist-q"
                  />
                  <p className="hist-tails small" data-testid="hist-tails">
                    kurtosis <strong>{fmtStat(h.tails.before.kurtosis)}</strong> → {fmtStat(h.tails.after.kurtosis)}, max|w|/σ{' '}
                    <strong>{fmtStat(h.tails.before.maxOverStd)}</strong> → {fmtStat(h.tails.after.maxOverStd)}{' '}
                    <span className="muted">(as stored → rotated)</span>
                  </p>
                </div>
              ))}
            </div>
          </ExportableFigure>
        </>
      ) : null}
    </div>
  );
}
