/**
 * Live loss curves of all runs (finished and running): log-scale y, test solid, train dashed.
 * Runs that repeat each other over seeds (repeats=N) are one mean curve with a min–max band.
 */
import { useMemo, useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, ReferenceArea, ReferenceLine, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import { fpKey, fpSteps, taskMetric } from '../../engine/tasks';
import { seedless } from '../../engine/core/plans';
import { type ExperimentConfig } from '../../engine/core/config';
import { type Method } from '../../engine/core/methods';
import type { CurvePoint } from '../../engine/core/loop';
import type { RunRecord } from '../../engine/core/runs';
import { curveBand, latestPerSeeds, summarize, type BandPoint } from '../../engine/core/stats';
import { pageRepeatKey } from '../select';
import { colourMap, trainIsTaskLoss } from '../runs';
import { useLab } from '../store';
import { UI_TASKS } from '../tasks';
import { ExportableFigure } from './ExportableFigure';

interface Series {
  id: string;
  name: string;
  method: Method;
  curve: CurvePoint[];
  config: ExperimentConfig;
  loss: number | null;
  live: boolean;
  note: string;
  /** Planned steps (the x range a curve will reach). */
  total: number;
  /** Planned steps of the whole run. */
  planned: number;
  /** Repeats over seeds drawn as one: how many, the test loss's band per step, the final loss's spread. */
  repeats?: { n: number; band: BandPoint[]; min: number; max: number; ci95: number };
}

/** The series of a finished run. */
const runSeries = (r: RunRecord): Series => ({
  id: r.id,
  name: r.name,
  method: r.method,
  curve: r.curve,
  config: r.config,
  loss: r.loss,
  live: false,
  total: r.status === 'done' ? r.steps : r.stepsDone,
  planned: r.steps,
  note: r.status === 'done' ? '' : r.status === 'diverged' ? ' (diverged)' : ' (stopped)',
});

/**
 * Finished runs as series: the done runs that repeat each other over seeds (pageRepeatKey: same
 * method, name and settings but the seeds) become one series, the mean of their curves with the min–max band
 * of the test loss; every other run is its own series. In order of each group's first run.
 */
function seriesOf(runs: readonly RunRecord[]): Series[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = r.status === 'done' && r.loss !== null && Number.isFinite(r.loss) ? pageRepeatKey(r) : r.id;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((all) => {
    const rs = latestPerSeeds(all);
    if (rs.length < 2) return runSeries(rs[0]);
    const test = curveBand(rs.map((r) => r.curve.map((p) => ({ step: p.step, value: p.test }))));
    const train = new Map(curveBand(rs.map((r) => r.curve.map((p) => ({ step: p.step, value: p.train })))).map((b) => [b.step, b.mean]));
    const losses = rs.map((r) => r.loss as number);
    const last = rs[rs.length - 1];
    return {
      ...runSeries(last),
      id: `repeats:${rs[0].id}`,
      curve: test.map((b) => ({ step: b.step, test: b.mean, train: train.get(b.step) ?? NaN })),
      loss: summarize(losses).mean,
      note: ` · mean of ${rs.length} seeds`,
      repeats: { n: rs.length, band: test, min: Math.min(...losses), max: Math.max(...losses), ci95: summarize(losses).ci95 },
    };
  });
}

/** RTN and GPTQ do not train: a horizontal line at their test MSE. */
const isPtq = (m: Method) => m === 'rtn' || m === 'gptq';
/** Runs drawn as a horizontal line: RTN, GPTQ, and a finished run without a curve (an FP checkpoint that was loaded, not trained). */
const isFlat = (s: { method: Method; live: boolean; curve: CurvePoint[] }) => isPtq(s.method) || (!s.live && s.curve.length === 0);

export function LossChart() {
  const runs = useLab((s) => s.runs);
  const live = useLab((s) => s.live);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [offsetQaft, setOffsetQaft] = useState(false);
  const [showTrain, setShowTrain] = useState(true);
  const [onlyCurrent, setOnlyCurrent] = useState(false);
  const currentFp = useLab((s) => fpKey(s.config));
  const currentSeedlessFp = useLab((s) => fpKey(seedless(s.config)));
  const task = useLab((s) => s.config.task);
  const t = UI_TASKS[task];
  const loss = t.loss;
  const unit = taskMetric(task).unit;

  const series: Series[] = useMemo(() => {
    const out: Series[] = seriesOf(runs.filter((r) => r.config.task === task));
    if (live && live.config.task === task && !runs.some((r) => r.id === live.runId)) {
      out.push({
        id: live.runId,
        name: live.name,
        method: live.method,
        curve: live.curve,
        config: live.config,
        loss: null,
        live: true,
        total: live.total,
        planned: live.total,
        note: ' (running)',
      });
    }
    return out;
  }, [runs, live, task]);
  const colours = colourMap(series.map((s) => s.id));
  // Repeats moved the seeds of the FP model: they are current when the settings but the seeds are.
  const isCurrent = (s: Series) => s.live || (s.repeats ? fpKey(seedless(s.config)) === currentSeedlessFp : fpKey(s.config) === currentFp);
  const listed = onlyCurrent ? series.filter(isCurrent) : series;
  const visible = listed.filter((s) => !hidden.has(s.id));
  const curves = visible.filter((s) => !isFlat(s) && s.curve.length > 0);
  const rtns = visible.filter((s) => isFlat(s) && s.loss !== null && s.loss > 0 && Number.isFinite(s.loss));
  // The steps of the FP run of the same FP model (0 for a loaded checkpoint), else the FP steps the settings plan.
  const fpRunSteps = new Map(series.filter((x) => x.method === 'fp' && !x.live).map((x) => [fpKey(x.config), x.curve.length ? x.planned : 0]));
  const shift = (s: Series) =>
    offsetQaft && s.method !== 'fp' && s.method !== 'scratch' && !isFlat(s) ? (fpRunSteps.get(fpKey(s.config)) ?? fpSteps(s.config)) : 0;

  const values: number[] = [];
  // The train loss is drawn where it is the task's loss on its data (not data-free's distillation loss, nor the tiles' L2).
  const trainAt = (s: Series, step: number) => showTrain && trainIsTaskLoss(s.method, s.config, s.planned, step);
  for (const s of curves) for (const p of s.curve) values.push(p.test, ...(trainAt(s, p.step) ? [p.train] : []));
  for (const s of curves) for (const b of s.repeats?.band ?? []) values.push(b.min, b.max);
  for (const s of rtns) values.push(s.loss as number, ...(s.repeats ? [s.repeats.min, s.repeats.max] : []));
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = pos.length ? Math.min(...pos) : 1e-3;
  const hi = pos.length ? Math.max(...pos) : 1;
  const { domain, ticks } = loss.axis(lo, hi);
  const xMax = Math.max(1, ...curves.map((s) => Math.max(s.total, s.curve[s.curve.length - 1]?.step ?? 0) + shift(s)));
  const empty = listed.length === 0;

  const toggle = (id: string) =>
    setHidden((h) => {
      const n = new Set(h);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <section className="card" data-testid="loss-chart">
      <div className="card-head">
        <h2>Loss curves</h2>
        <div className="chart-options">
          <label title="Only runs with the current data, model and FP settings">
            <input type="checkbox" checked={onlyCurrent} onChange={(e) => setOnlyCurrent(e.target.checked)} /> current settings only
          </label>
          <label>
            <input type="checkbox" checked={showTrain} onChange={(e) => setShowTrain(e.target.checked)} /> train loss (dashed)
          </label>
          <label title={`Place each ${t.fineTune} curve after the FP pretraining it started from`}>
            <input type="checkbox" checked={offsetQaft} onChange={(e) => setOffsetQaft(e.target.checked)} /> {t.fineTune} after FP steps
          </label>
        </div>
      </div>
      {empty ? (
        <p className="empty">
          {series.length === 0
            ? 'No loss curves yet. Press Run comparison: curves appear here while the models train.'
            : 'No runs with the current data, model and FP settings yet. Press Run comparison, or untick "current settings only".'}
        </p>
      ) : (
        <>
          <ExportableFigure name="loss" title={`Loss curves (${loss.name}${unit ? `, ${unit}` : ''})`}>
            <ResponsiveContainer width="100%" height={320}>
              <ComposedChart margin={{ top: 8, right: 24, bottom: 20, left: 8 }}>
                <CartesianGrid stroke="#e5e7eb" />
                <XAxis
                  type="number"
                  dataKey="x"
                  domain={[0, xMax]}
                  allowDecimals={false}
                  label={{
                    value: offsetQaft ? `optimizer step (${t.fineTune} continues after its FP pretraining)` : 'optimizer step (every run from 0)',
                    position: 'insideBottom',
                    offset: -12,
                  }}
                />
                <YAxis
                  scale={loss.scale}
                  type="number"
                  domain={domain}
                  ticks={ticks}
                  allowDataOverflow
                  tickFormatter={loss.tick}
                  width={loss.axisWidth}
                  label={{
                    value: loss.axisLabel,
                    angle: -90,
                    position: 'insideLeft',
                    offset: loss.axisLabelOffset,
                    style: { textAnchor: 'middle' },
                  }}
                />
                {curves.flatMap((s) => {
                  const band = new Map((s.repeats?.band ?? []).map((b) => [b.step, b]));
                  const data = s.curve.map((p) => {
                    const b = band.get(p.step);
                    return {
                      x: p.step + shift(s),
                      test: p.test > 0 ? p.test : null,
                      train: p.train > 0 && trainAt(s, p.step) ? p.train : null,
                      band: b && b.n > 1 && b.min > 0 ? [b.min, b.max] : null,
                    };
                  });
                  const c = colours.get(s.id);
                  const lines = [
                    ...(s.repeats
                      ? [
                          <Area
                            key={`${s.id}-band`}
                            data={data}
                            dataKey="band"
                            name={`${s.name} min–max over ${s.repeats.n} seeds`}
                            stroke="none"
                            fill={c}
                            fillOpacity={0.18}
                            legendType="none"
                            isAnimationActive={false}
                          />,
                        ]
                      : []),
                    <Line
                      key={`${s.id}-test`}
                      data={data}
                      dataKey="test"
                      name={`${s.name} test`}
                      stroke={c}
                      strokeWidth={2}
                      dot={data.length < 3}
                      isAnimationActive={false}
                    />,
                  ];
                  if (showTrain && data.some((d) => d.train !== null))
                    lines.push(
                      <Line
                        key={`${s.id}-train`}
                        data={data}
                        dataKey="train"
                        name={`${s.name} train`}
                        stroke={c}
                        strokeWidth={1.2}
                        strokeDasharray="5 4"
                        dot={false}
                        isAnimationActive={false}
                      />,
                    );
                  return lines;
                })}
                {curves.length === 0 ? (
                  // Only horizontal lines: recharts draws reference lines once the chart has a series.
                  <Line
                    data={[
                      { x: 0, y: null },
                      { x: xMax, y: null },
                    ]}
                    dataKey="y"
                    stroke="none"
                    legendType="none"
                    isAnimationActive={false}
                  />
                ) : null}
                {rtns
                  .filter((s) => s.repeats && s.repeats.min > 0)
                  .map((s) => (
                    <ReferenceArea
                      key={`${s.id}-band`}
                      y1={s.repeats?.min}
                      y2={s.repeats?.max}
                      fill={colours.get(s.id)}
                      fillOpacity={0.12}
                      stroke="none"
                      ifOverflow="hidden"
                    />
                  ))}
                {rtns.map((s) => (
                  <ReferenceLine
                    key={s.id}
                    y={s.loss as number}
                    stroke={colours.get(s.id)}
                    strokeDasharray="2 3"
                    strokeWidth={1.5}
                    // With many RTN/GPTQ lines the labels would pile up: the legend names them.
                    label={
                      rtns.length <= 2 ? { value: `${s.name} ${loss.short}`, position: 'insideTopRight', fill: colours.get(s.id), fontSize: 11 } : undefined
                    }
                  />
                ))}
              </ComposedChart>
            </ResponsiveContainer>
            <ul className="legend">
              {listed.map((s) => {
                const last = isFlat(s) || s.repeats ? s.loss : (s.curve[s.curve.length - 1]?.test ?? null);
                return (
                  <li key={s.id} className={hidden.has(s.id) ? 'off' : ''} data-testid="legend-run" data-method={s.method}>
                    <button type="button" onClick={() => toggle(s.id)} title={hidden.has(s.id) ? 'Show this run' : 'Hide this run'}>
                      <span className={`swatch${isFlat(s) ? ' dotted' : ''}`} style={{ borderColor: colours.get(s.id) }} />
                      {s.name}
                      <span className="muted">
                        {s.note} · {loss.short} {loss.fmt(last)}
                        {s.repeats && Number.isFinite(s.repeats.ci95) ? ` ± ${loss.fmt(s.repeats.ci95)}` : ''}
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </ExportableFigure>
          <p className="muted small">
            {t.lossCaption}
            {series.some((x) => x.repeats)
              ? ` Runs repeated over seeds (repeats=N) are drawn once: the mean of their curves, with a shaded band from the lowest to the highest seed at each logged step (min–max, not a confidence interval); the legend gives the final ${loss.name} as mean ± 95 % interval.`
              : ''}
          </p>
        </>
      )}
    </section>
  );
}
