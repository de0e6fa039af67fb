/** Live loss curves of all runs (finished and running): log-scale y, test solid, train dashed. */
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import { fpKey, type ExperimentConfig, type Method } from '../../engine/config';
import type { CurvePoint } from '../../engine/train';
import { logAxis, fmtTick } from '../chart-utils';
import { colourMap, fmtMse, planned } from '../runs';
import { useLab } from '../store';

interface Series {
  id: string;
  name: string;
  method: Method;
  curve: CurvePoint[];
  config: ExperimentConfig;
  testMse: number | null;
  live: boolean;
  note: string;
  /** Planned steps (the x range a curve will reach). */
  total: number;
}

/** RTN and GPTQ do not train: a horizontal line at their test MSE. */
const isPtq = (m: Method) => m === 'rtn' || m === 'gptq';

export function LossChart() {
  const runs = useLab((s) => s.runs);
  const live = useLab((s) => s.live);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [offsetQaft, setOffsetQaft] = useState(false);
  const [showTrain, setShowTrain] = useState(true);
  const [onlyCurrent, setOnlyCurrent] = useState(false);
  const currentFp = useLab((s) => fpKey(s.config));

  const series: Series[] = useMemo(() => {
    const out: Series[] = runs.map((r) => ({
      id: r.id,
      name: r.name,
      method: r.method,
      curve: r.curve,
      config: r.config,
      testMse: r.testMse,
      live: false,
      total: r.status === 'done' ? r.steps : r.stepsDone,
      note: r.status === 'done' ? '' : r.status === 'diverged' ? ' (diverged)' : ' (stopped)',
    }));
    if (live && !runs.some((r) => r.id === live.runId)) {
      out.push({ id: live.runId, name: live.name, method: live.method, curve: live.curve, config: live.config, testMse: null, live: true, total: live.total, note: ' (running)' });
    }
    return out;
  }, [runs, live]);
  const colours = colourMap(series.map((s) => s.id));
  const listed = onlyCurrent ? series.filter((s) => s.live || fpKey(s.config) === currentFp) : series;
  const visible = listed.filter((s) => !hidden.has(s.id));
  const curves = visible.filter((s) => !isPtq(s.method) && s.curve.length > 0);
  const rtns = visible.filter((s) => isPtq(s.method) && s.testMse !== null && s.testMse > 0 && Number.isFinite(s.testMse));
  const shift = (s: Series) => (offsetQaft && s.method === 'qaft' ? planned(s.config, 'fp') : 0);

  const values: number[] = [];
  for (const s of curves) for (const p of s.curve) values.push(p.test, ...(showTrain ? [p.train] : []));
  for (const s of rtns) values.push(s.testMse as number);
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = pos.length ? Math.min(...pos) : 1e-3;
  const hi = pos.length ? Math.max(...pos) : 1;
  const { domain, ticks } = logAxis(lo, hi);
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
          <label title="Place each QAFT curve after the FP pretraining it started from">
            <input type="checkbox" checked={offsetQaft} onChange={(e) => setOffsetQaft(e.target.checked)} /> QAFT after FP steps
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
          <ResponsiveContainer width="100%" height={320}>
            <LineChart margin={{ top: 8, right: 24, bottom: 20, left: 8 }}>
              <CartesianGrid stroke="#e5e7eb" />
              <XAxis
                type="number"
                dataKey="x"
                domain={[0, xMax]}
                allowDecimals={false}
                label={{ value: offsetQaft ? 'optimizer step (QAFT continues after its FP pretraining)' : 'optimizer step (every run from 0)', position: 'insideBottom', offset: -12 }}
              />
              <YAxis
                scale="log"
                type="number"
                domain={domain}
                ticks={ticks}
                allowDataOverflow
                tickFormatter={fmtTick}
                width={56}
                label={{ value: 'MSE (log)', angle: -90, position: 'insideLeft', offset: 4 }}
              />
              {curves.flatMap((s) => {
                const data = s.curve.map((p) => ({ x: p.step + shift(s), test: p.test > 0 ? p.test : null, train: p.train > 0 ? p.train : null }));
                const c = colours.get(s.id);
                const lines = [
                  <Line key={`${s.id}-test`} data={data} dataKey="test" name={`${s.name} test`} stroke={c} strokeWidth={2} dot={data.length < 3} isAnimationActive={false} />,
                ];
                if (showTrain)
                  lines.push(
                    <Line key={`${s.id}-train`} data={data} dataKey="train" name={`${s.name} train`} stroke={c} strokeWidth={1.2} strokeDasharray="5 4" dot={false} isAnimationActive={false} />,
                  );
                return lines;
              })}
              {rtns.map((s) => (
                <ReferenceLine
                  key={s.id}
                  y={s.testMse as number}
                  stroke={colours.get(s.id)}
                  strokeDasharray="2 3"
                  strokeWidth={1.5}
                  // With many RTN/GPTQ lines the labels would pile up: the legend names them.
                  label={rtns.length <= 2 ? { value: `${s.name} test`, position: 'insideTopRight', fill: colours.get(s.id), fontSize: 11 } : undefined}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
          <ul className="legend">
            {listed.map((s) => {
              const last = isPtq(s.method) ? s.testMse : (s.curve[s.curve.length - 1]?.test ?? null);
              return (
                <li key={s.id} className={hidden.has(s.id) ? 'off' : ''}>
                  <button type="button" onClick={() => toggle(s.id)} title={hidden.has(s.id) ? 'Show this run' : 'Hide this run'}>
                    <span className={`swatch${isPtq(s.method) ? ' dotted' : ''}`} style={{ borderColor: colours.get(s.id) }} />
                    {s.name}
                    <span className="muted">
                      {s.note} · test {fmtMse(last)}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
          <p className="muted small">
            Solid: test MSE; dashed: mean training MSE since the previous point. RTN and GPTQ do not train: their test MSE is a horizontal dotted line. Click a name to hide or show it.
          </p>
        </>
      )}
    </section>
  );
}
