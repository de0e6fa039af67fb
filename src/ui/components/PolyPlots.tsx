/**
 * Small multiples of the first test examples: the 7 input points, the true polynomial, and
 * the FP, RTN, QAFT and scratch predictions (model outputs 100..199 against the grid x).
 */
import { useMemo } from 'react';
import { methodsOf, type Method } from '../../engine/core/methods';
import { IN_DIM, N_GRID, N_POINTS, OUT_DIM, makeDataset } from '../../engine/poly/data';
import type { RunRecord } from '../../engine/core/runs';
import { colourMap, plottedRuns } from '../runs';
import { useLab } from '../store';
import { ExportableFigure } from './ExportableFigure';

/**
 * Number of fixed test examples the engine keeps predictions for (N_SHOWN in
 * engine/experiment.ts, not imported: that module would pull TensorFlow.js into the page).
 * makeDataset is one sequential stream per seed, so makeDataset(6, d, seed) is exactly the
 * first 6 examples of the test set.
 */
const SHOWN = 6;
const W = 220;
const H = 160;
const PAD = { l: 6, r: 6, t: 6, b: 6 };

const STYLE: Record<Method, { dash?: string; width: number; label: string }> = {
  fp: { width: 1.6, label: 'FP' },
  rtn: { dash: '5 3', width: 1.6, label: 'RTN' },
  gptq: { dash: '8 3 2 3', width: 1.8, label: 'GPTQ' },
  qaft: { width: 2.2, label: 'QAFT' },
  scratch: { dash: '1.5 2.5', width: 2, label: 'Scratch' },
  lsq: { dash: '8 3', width: 2, label: 'LSQ' },
  scaleonly: { dash: '2 2 6 2', width: 2, label: 'Scale-only' },
  qalora: { dash: '6 2', width: 2, label: 'QA-LoRA' },
  datafree: { dash: '3 3', width: 2, label: 'Data-free' },
  tiled: { dash: '4 1', width: 2, label: 'Tiled' },
  'gptq-qaft': { dash: '10 2 2 2', width: 2.2, label: 'GPTQ→QAFT' },
};
const ORDER: Method[] = methodsOf('poly');

interface Example {
  px: number[];
  py: number[];
  gx: number[];
  gy: number[];
}

function examples(degree: number, seed: number): Example[] {
  const d = makeDataset(SHOWN, degree, seed);
  return Array.from({ length: d.n }, (_, i) => {
    const x = d.x.subarray(i * IN_DIM, (i + 1) * IN_DIM);
    const y = d.y.subarray(i * OUT_DIM, (i + 1) * OUT_DIM);
    return {
      px: Array.from(x.subarray(0, N_POINTS)),
      py: Array.from(x.subarray(N_POINTS)),
      gx: Array.from(y.subarray(0, N_GRID)),
      gy: Array.from(y.subarray(N_GRID)),
    };
  });
}

function Plot({ ex, index, shown, colours }: { ex: Example; index: number; shown: [Method, RunRecord][]; colours: Map<string, string> }) {
  const preds = shown.map(([m, r]) => [m, r, r.predictions?.[index]?.slice(N_GRID, 2 * N_GRID) ?? []] as const);
  let lo = -0.1;
  let hi = 1.1;
  for (const [, , p] of preds)
    for (const v of p) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, Math.max(v, -0.6));
        hi = Math.max(hi, Math.min(v, 1.6));
      }
    }
  const sx = (x: number) => PAD.l + x * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - ((y - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const path = (ys: number[]) => ys.map((y, j) => (Number.isFinite(y) ? `${j === 0 ? 'M' : 'L'}${sx(ex.gx[j]).toFixed(1)},${sy(y).toFixed(1)}` : '')).join('');
  const mse = (p: number[]) => p.reduce((s, v, j) => s + (v - ex.gy[j]) ** 2, 0) / Math.max(1, p.length);
  const clip = `clip-${index}`;
  const title = preds.map(([m, , p]) => `${STYLE[m].label}: curve MSE ${mse(p).toPrecision(3)}`).join('\n');
  return (
    <figure className="poly-plot" data-testid="poly-plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Test example ${index + 1}`}>
        <title>{`Test example ${index + 1}${title ? '\n' + title : ''}`}</title>
        <defs>
          <clipPath id={clip}>
            <rect x={PAD.l} y={PAD.t} width={W - PAD.l - PAD.r} height={H - PAD.t - PAD.b} />
          </clipPath>
        </defs>
        <rect x={PAD.l} y={PAD.t} width={W - PAD.l - PAD.r} height={H - PAD.t - PAD.b} className="plot-bg" />
        <line x1={PAD.l} x2={W - PAD.r} y1={sy(0)} y2={sy(0)} className="plot-axis" />
        <line x1={PAD.l} x2={W - PAD.r} y1={sy(1)} y2={sy(1)} className="plot-axis" />
        <g clipPath={`url(#${clip})`}>
          <path d={path(ex.gy)} className="true-curve" />
          {preds.map(([m, r, p]) => (
            <path key={r.id} d={path(p)} fill="none" stroke={colours.get(r.id)} strokeWidth={STYLE[m].width} strokeDasharray={STYLE[m].dash} />
          ))}
        </g>
        {ex.px.map((x, k) => (
          <circle key={k} cx={sx(x)} cy={sy(ex.py[k])} r={3.2} className="input-point" />
        ))}
      </svg>
      <figcaption>example {index + 1}</figcaption>
    </figure>
  );
}

export function PolyPlots() {
  const degree = useLab((s) => s.config.data.degree);
  const testSeed = useLab((s) => s.config.data.testSeed);
  const config = useLab((s) => s.config);
  const runs = useLab((s) => s.runs);
  const live = useLab((s) => s.live);
  const exs = useMemo(() => examples(degree, testSeed), [degree, testSeed]);
  const picked = useMemo(() => plottedRuns(runs, config), [runs, config]);
  const shown = ORDER.filter((m) => picked[m]).map((m) => [m, picked[m] as RunRecord] as [Method, RunRecord]);
  const colours = colourMap([...runs.map((r) => r.id), ...(live ? [live.runId] : [])]);
  return (
    <section className="card" data-testid="poly-plots">
      <div className="card-head">
        <h2>Predictions on the first {SHOWN} test examples</h2>
        <span className="muted">
          degree {degree}, test seed {testSeed}
        </span>
      </div>
      <ExportableFigure name="poly" title={`Predictions on the first ${SHOWN} test examples (degree ${degree}, test seed ${testSeed})`}>
        <ul className="legend poly-legend">
          <li>
            <span className="swatch-dot" /> 7 input points
          </li>
          <li>
            <span className="swatch true" /> true least-squares polynomial
          </li>
          {shown.map(([m, r]) => (
            <li key={r.id}>
              <svg width="26" height="10" aria-hidden>
                <line x1="1" x2="25" y1="5" y2="5" stroke={colours.get(r.id)} strokeWidth={STYLE[m].width + 0.4} strokeDasharray={STYLE[m].dash} />
              </svg>
              {r.name}
            </li>
          ))}
        </ul>
        {shown.length === 0 ? (
          <p className="empty">No predictions yet. Press Run comparison to draw the FP, RTN, QAFT and scratch predictions on these examples.</p>
        ) : shown.length < 4 ? (
          <p className="muted small">Missing methods have not been run on these test examples yet.</p>
        ) : null}
        <div className="poly-grid">
          {exs.map((ex, i) => (
            <Plot key={i} ex={ex} index={i} shown={shown} colours={colours} />
          ))}
        </div>
      </ExportableFigure>
      <p className="muted small">
        Each panel: a network input (7 points) and its target curve. Lines show the latest run per method for the current settings (or else the latest on these
        examples). Hover a panel for per-curve MSE. Values outside the frame are clipped.
      </p>
    </section>
  );
}
