/**
 * The block inspector (both tasks): one block of one weight matrix of the FP model under the
 * current quantizer — its values, its scale, the grid of representable levels, each value's
 * rounding and the block's error. The data comes from the worker (core/inspect.ts via probes.ts).
 * Keyboard: ←/→ (or j/k) move between blocks, Home jumps to the largest error.
 */
import type { KeyboardEvent } from 'react';
import type { BlockErrors, BlockInspection, LayerInspection } from '../../engine/core/inspect';
import { computeInspect, fpUnavailable } from '../probes';
import { isWorking, useLab } from '../store';
import { Empty, Notes, ProbeProgress } from './ViewParts';

/** How many of the worst blocks are listed as shortcuts. */
const WORST = 8;

const num = (x: number, p = 4): string => (Number.isFinite(x) ? Number(x.toPrecision(p)).toString() : String(x));

const sqnr = (e: BlockErrors) => (e.sqnrDb === null ? '—' : e.sqnrDb === Infinity ? '∞' : `${num(e.sqnrDb, 3)} dB`);

/** The block's and the whole layer's error side by side. */
function ErrorTable({ block, layer }: { block: BlockErrors; layer: BlockErrors }) {
  const rows: [string, (e: BlockErrors) => string][] = [
    ['MSE', (e) => num(e.mse)],
    ['max |error|', (e) => num(e.maxAbs)],
    ['SQNR', sqnr],
  ];
  return (
    <table className="inspect-scale inspect-errors">
      <thead>
        <tr>
          <th />
          <th>block</th>
          <th>whole layer</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, f]) => (
          <tr key={name}>
            <th>{name}</th>
            <td data-testid={`inspect-error-${name === 'SQNR' ? 'sqnr' : name === 'MSE' ? 'mse' : 'max'}`}>{f(block)}</td>
            <td>{f(layer)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Each value as a row: a dot at its FP value, an arrow to the level it rounds to; the levels are the vertical lines. */
function RoundingPlot({ b }: { b: BlockInspection }) {
  const n = b.values.length;
  const W = 580;
  const padL = 30;
  const padR = 12;
  const row = Math.max(4, Math.min(14, 360 / Math.max(1, n)));
  const H = n * row + 34;
  const finite = [...b.values, ...b.dequant].filter(Number.isFinite);
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  const span = hi - lo || 1;
  lo -= span * 0.04;
  hi += span * 0.04;
  const x = (v: number) => padL + ((v - lo) / (hi - lo)) * (W - padL - padR);
  const shown = b.levels.filter((l) => l >= lo && l <= hi);
  const hidden = b.levels.length - shown.length;
  // Too many levels to draw apart (FP8): draw them faintly.
  const dense = shown.length > 120;
  return (
    <figure className="inspect-plot">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Each value of the block and the level it rounds to" data-testid="inspect-plot">
        <defs>
          <marker id="inspect-arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" orient="auto">
            <path d="M0,0 L6,3 L0,6 z" fill="#c2410c" />
          </marker>
        </defs>
        {shown.map((l) => (
          <line key={l} x1={x(l)} x2={x(l)} y1={4} y2={n * row + 6} stroke="#2563eb" strokeOpacity={dense ? 0.18 : 0.45} strokeWidth={l === 0 ? 1.5 : 1} />
        ))}
        {b.values.map((v, t) => {
          const y = 6 + t * row + row / 2;
          const q = b.dequant[t];
          const far = Math.abs(x(q) - x(v)) > 3;
          return (
            <g key={t}>
              <title>{`in ${t}: ${num(v, 6)} → ${num(q, 6)} (code ${num(b.codes[t], 6)})`}</title>
              {far ? <line x1={x(v)} x2={x(q)} y1={y} y2={y} stroke="#c2410c" strokeWidth={1.2} markerEnd="url(#inspect-arrow)" /> : null}
              <circle cx={x(v)} cy={y} r={Math.min(3, row / 2.5)} fill="#111827" />
            </g>
          );
        })}
        <line x1={padL} x2={W - padR} y1={n * row + 8} y2={n * row + 8} stroke="#6b7280" />
        {[lo, 0, hi].map((v, k) => (
          <text key={k} x={x(v)} y={n * row + 22} fontSize="11" textAnchor={k === 0 ? 'start' : k === 2 ? 'end' : 'middle'} fill="#374151">
            {num(v, 3)}
          </text>
        ))}
        {b.values.map((_, t) =>
          t % (n > 32 ? 16 : 4) === 0 ? (
            <text key={t} x={padL - 6} y={6 + t * row + row / 2 + 3} fontSize="9" textAnchor="end" fill="#6b7280">
              {t}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="muted small">
        Blue lines: the {b.levels.length} representable values of this block's scale{hidden > 0 ? ` (${shown.length} in view)` : ''}. Dots: the FP values (one
        row each, in input order); orange arrows: where each rounds to.
      </figcaption>
    </figure>
  );
}

function Detail({ r, onUnit }: { r: LayerInspection; onUnit: (u: number) => void }) {
  const b = r.block;
  const count = r.units.length;
  const worst = r.unitMse
    .map((mse, k) => ({ mse, k }))
    .sort((a, c) => c.mse - a.mse)
    .slice(0, WORST);
  const largest = worst[0]?.k ?? 0;
  const onKey = (e: KeyboardEvent) => {
    if ((e.key === 'ArrowRight' || e.key === 'k') && r.picked + 1 < count) onUnit(r.picked + 1);
    else if ((e.key === 'ArrowLeft' || e.key === 'j') && r.picked > 0) onUnit(r.picked - 1);
    else if (e.key === 'Home') onUnit(largest);
    else return;
    e.preventDefault();
  };
  return (
    <div
      className="inspect-detail"
      tabIndex={0}
      onKeyDown={onKey}
      data-testid="inspect-detail"
      aria-label="Block detail: arrow keys move between blocks, Home jumps to the largest error"
    >
      <div className="inspect-nav">
        <button type="button" data-testid="inspect-prev" disabled={r.picked === 0} onClick={() => onUnit(r.picked - 1)} aria-label="Previous block">
          ◀
        </button>
        <label>
          Block{' '}
          <input
            type="number"
            data-testid="inspect-unit"
            min={1}
            max={count}
            value={r.picked + 1}
            onChange={(e) => {
              const v = Number(e.target.value);
              if (Number.isInteger(v) && v >= 1 && v <= count) onUnit(v - 1);
            }}
          />{' '}
          of {count}
        </label>
        <button type="button" data-testid="inspect-next" disabled={r.picked + 1 >= count} onClick={() => onUnit(r.picked + 1)} aria-label="Next block">
          ▶
        </button>
        <button type="button" data-testid="inspect-largest" disabled={r.picked === largest} onClick={() => onUnit(largest)}>
          Largest error
        </button>
        <span className="muted small" data-testid="inspect-where">
          {b.unit.label} ({b.values.length} values{r.picked === largest ? ', the largest error of this layer' : ''})
        </span>
      </div>
      <div className="inspect-worst small">
        Worst blocks:{' '}
        {worst.map((w) => (
          <button key={w.k} type="button" className={w.k === r.picked ? 'chip active' : 'chip'} onClick={() => onUnit(w.k)} title={`MSE ${num(w.mse)}`}>
            {w.k + 1}
          </button>
        ))}
      </div>
      <div className="inspect-cols">
        <div>
          <h4>Scale</h4>
          <table className="inspect-scale" data-testid="inspect-scale">
            <tbody>
              {b.scale.map((s) => (
                <tr key={s.name}>
                  <th>{s.name}</th>
                  <td>{s.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>Error</h4>
          <ErrorTable block={b.errors} layer={r.errors} />
        </div>
        <RoundingPlot b={b} />
      </div>
      <details className="inspect-values">
        <summary>Values, codes and rounding ({b.values.length})</summary>
        <table data-testid="inspect-values">
          <thead>
            <tr>
              <th>#</th>
              <th>value</th>
              <th>code</th>
              <th>dequantized</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {b.values.map((v, t) => (
              <tr key={t}>
                <td>{t}</td>
                <td>{num(v, 6)}</td>
                <td>{num(b.codes[t], 6)}</td>
                <td>{num(b.dequant[t], 6)}</td>
                <td>{num(b.dequant[t] - v, 3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

export function BlockInspector() {
  const config = useLab((s) => s.config);
  const view = useLab((s) => s.inspector);
  const working = useLab(isWorking);
  const cachedFpKey = useLab((s) => s.cachedFpKey);
  const backendPhase = useLab((s) => s.backendPhase);
  const noFp = fpUnavailable({ cachedFpKey, backendPhase }, config);
  const shown = view && view.config.task === config.task ? view : null;
  const stale = shown !== null && JSON.stringify(shown.config) !== JSON.stringify(config);
  const r = shown?.result;
  const ask = (layer: number | undefined, unit?: number) => computeInspect({ layer, unit });
  return (
    <div data-testid="view-inspector" className="view">
      <div className="view-head">
        <p className="view-intro">
          One block of one weight matrix of the FP model under the current quantizer: the values, the block's scale, the grid of levels it can take, where each
          value rounds to, and the error. A block is a block of the block formats (MX 32, NVFP4 16), a group of group quantization, or a 32-input piece of a
          channel when the scale covers a whole channel or tensor. It opens on the block with the largest error.
        </p>
        <div className="view-actions">
          {r ? (
            <select
              data-testid="inspect-layer"
              aria-label="Layer"
              value={String(r.layer)}
              disabled={working || noFp !== null}
              onChange={(e) => ask(Number(e.target.value))}
            >
              {r.layers.map((l, k) => (
                <option key={k} value={String(k)} disabled={l.label === 'FP32'}>
                  {l.name} — {l.label}
                </option>
              ))}
            </select>
          ) : null}
          <button type="button" className="primary" data-testid="run-inspect" disabled={working || noFp !== null} onClick={() => ask(r?.layer)}>
            {r ? 'Refresh' : 'Inspect'}
          </button>
        </div>
      </div>
      <ProbeProgress kind="inspect" />
      {noFp ? <Notes notes={[noFp]} /> : null}
      {stale ? <Notes notes={['The settings changed since this was computed: press Refresh to inspect them.']} testId="inspect-stale" /> : null}
      {!r ? (
        <Empty>Run FP (or a comparison), then press Inspect.</Empty>
      ) : (
        <>
          <h3 className="inspect-title" data-testid="inspect-title">
            {r.inspection.name} [{r.inspection.shape.join(' × ')}] — {r.inspection.label}
          </h3>
          {r.inspection.note ? <Notes notes={[r.inspection.note]} testId="inspect-note" /> : null}
          <Detail r={r.inspection} onUnit={(u) => !working && noFp === null && ask(r.layer, u)} />
        </>
      )}
    </div>
  );
}
