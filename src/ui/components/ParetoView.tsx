/**
 * Test MSE against weight storage for every finished run of the current FP setting, coloured by
 * method, with the Pareto front (no other run is both smaller and better) drawn as a line. Runs
 * repeated over seeds (repeats=N) are one point at their mean with a 95 % error bar, and the front
 * joins means.
 */
import { CartesianGrid, ErrorBar, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { METHOD_IDS, type Method } from '../../engine/core/methods';
import { fmtTick, logAxisOf } from '../chart-utils';
import { groupRepeats } from '../../engine/core/stats';
import { fmtKib, fmtPm, kib, METHOD_COLOUR } from '../runs';
import { pageRepeatKey, paretoFront, runsOfFpAnySeed } from '../select';
import { useLab } from '../store';
import { UI_TASKS, type LossLabels } from '../tasks';
import { Empty, MethodLegend } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

interface Pt {
  x: number;
  y: number;
  id: string;
  name: string;
  method: Method;
  bits: number;
  /** Repeats over seeds: how many, and the mean's 95 % half-width. */
  n: number;
  ci95: number;
  /** The error bar below and above y on the plot (null: none), cut at the axis's bottom on the log scale. */
  err: [number, number] | null;
}

function Tip({ active, payload, loss }: { active?: boolean; payload?: readonly { payload?: unknown }[]; loss: LossLabels }) {
  const p = active && payload && payload.length ? (payload[0].payload as Pt | undefined) : undefined;
  if (!p) return null;
  return (
    <div className="chart-tip">
      <strong>{p.name}</strong>
      <div>{p.n > 1 ? `${loss.name} ${fmtPm(p.y, p.ci95)} (mean ± 95 % interval, ${p.n} seeds)` : `${loss.name} ${loss.fmt(p.y)}`}</div>
      <div>storage {fmtKib(p.x * 8 * 1024)}</div>
    </div>
  );
}

export function ParetoView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const t = UI_TASKS[config.task];
  const pool = runsOfFpAnySeed(runs, config).filter((r) => r.storageBits !== undefined && (r.loss as number) > 0);
  const storage = new Map(pool.map((r) => [r.id, kib(r.storageBits as number)]));
  // One point per setting: the mean over its seeds (a single run is its own mean).
  const means = groupRepeats(pool, pageRepeatKey).map((g) => ({
    x: g.runIds.reduce((a, id) => a + (storage.get(id) as number), 0) / g.n,
    y: g.mean,
    id: g.runIds[0],
    name: g.name,
    method: g.method,
    bits: g.bits,
    n: g.n,
    ci95: g.ci95,
  }));
  const front = paretoFront(means);
  const methods = METHOD_IDS.filter((m) => means.some((p) => p.method === m));
  const xa = logAxisOf(means.map((p) => p.x));
  const ya = logAxisOf(means.flatMap((p) => (p.n > 1 ? [p.y, p.y + p.ci95, ...(p.y - p.ci95 > 0 ? [p.y - p.ci95] : [])] : [p.y])));
  const pts: Pt[] = means.map((p) => ({ ...p, err: p.n > 1 && Number.isFinite(p.ci95) ? [Math.min(p.ci95, p.y - ya.domain[0]), p.ci95] : null }));
  const repeated = pts.some((p) => p.err);
  return (
    <div data-testid="view-pareto" className="view">
      <p className="view-intro">
        {t.paretoIntro} The black line joins the Pareto front: runs that no other run beats on both size and error.
        {repeated
          ? ' Settings run over several seeds (repeats=N) are one point at the mean, with an error bar of the 95 % interval of the mean (cut at the bottom of the log axis when it reaches below), and the front joins means.'
          : ''}
      </p>
      {pts.length === 0 ? (
        <Empty>No finished runs for these settings yet. Press {t.paretoButtons} and the runs appear here.</Empty>
      ) : (
        <>
          <ExportableFigure name="pareto" title={`${t.loss.title} vs weight storage (Pareto front)`}>
            <MethodLegend
              methods={methods}
              extra={
                <li>
                  <span className="swatch" style={{ borderColor: '#111' }} /> Pareto front ({front.length} of {pts.length} {repeated ? 'settings' : 'runs'})
                </li>
              }
            />
            <ResponsiveContainer width="100%" height={340}>
              <ScatterChart margin={{ top: 10, right: 24, bottom: 24, left: 8 }}>
                <CartesianGrid stroke="#e5e7eb" />
                <XAxis
                  type="number"
                  dataKey="x"
                  scale="log"
                  domain={xa.domain}
                  ticks={xa.ticks}
                  allowDataOverflow
                  tickFormatter={fmtTick}
                  label={{ value: 'weight storage, KiB (log)', position: 'insideBottom', offset: -14 }}
                />
                <YAxis
                  type="number"
                  dataKey="y"
                  scale="log"
                  domain={ya.domain}
                  ticks={ya.ticks}
                  allowDataOverflow
                  tickFormatter={fmtTick}
                  width={60}
                  label={{
                    value: `${t.loss.name} (log)`,
                    angle: -90,
                    position: 'insideLeft',
                    offset: 4,
                    style: { textAnchor: 'middle' },
                  }}
                />
                <Tooltip
                  content={(p) => <Tip {...(p as Omit<Parameters<typeof Tip>[0], 'loss'>)} loss={t.loss} />}
                  cursor={{ strokeDasharray: '3 3' }}
                  isAnimationActive={false}
                />
                <Scatter
                  name="Pareto front"
                  data={front}
                  fill="none"
                  line={{ stroke: '#111', strokeWidth: 1.5 }}
                  lineType="joint"
                  shape={(props: { cx?: number; cy?: number }) => <circle cx={props.cx} cy={props.cy} r={8} fill="none" stroke="#111" strokeWidth={1.5} />}
                  isAnimationActive={false}
                />
                {methods.map((m) => (
                  <Scatter key={m} name={m} data={pts.filter((p) => p.method === m)} fill={METHOD_COLOUR[m]} isAnimationActive={false}>
                    {repeated ? <ErrorBar dataKey="err" direction="y" width={6} stroke={METHOD_COLOUR[m]} strokeWidth={1.5} isAnimationActive={false} /> : null}
                  </Scatter>
                ))}
              </ScatterChart>
            </ResponsiveContainer>
          </ExportableFigure>
          <p className="muted small" data-testid="pareto-front">
            On the front: {front.map((p) => p.name).join(' → ')}. Hover a point for its run.
          </p>
        </>
      )}
    </div>
  );
}
