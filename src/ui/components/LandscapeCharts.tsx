/** The two loss-landscape charts: loss along the lines between weight sets, and radial sweeps from FP. */
import { CartesianGrid, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNum, fmtTick, logAxisOf, logY, spreadLabels } from '../chart-utils';
import { METHOD_COLOUR } from '../runs';
import type { LandscapeView } from '../store';

const DIRECTION_COLOURS = ['#6b7280', '#9ca3af', '#4b5563', '#a8a29e', '#78716c', '#57534e'];
const pos = (v: number) => (v > 0 && Number.isFinite(v) ? v : null);
/** Approximate plot height of the 320 px charts (minus margins and the x axis), for label spacing. */
const PLOT_H = 250;
const LABEL_GAP = 14;

/** Levels (0, 1, 2 …) for labels at x positions so that labels closer than `gap` do not overlap. */
function levels(xs: number[], gap: number): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const out = new Array<number>(xs.length).fill(0);
  const lastAt: number[] = [];
  for (const o of order) {
    let lv = 0;
    while (lastAt[lv] !== undefined && o.x - lastAt[lv] < gap) lv += 1;
    lastAt[lv] = o.x;
    out[o.i] = lv;
  }
  return out;
}

export function LineChartView({ view }: { view: LandscapeView }) {
  const axis = logAxisOf(view.lines.flatMap((l) => l.points.map((p) => p.loss)));
  const ts = view.lines[0]?.points.map((p) => p.t) ?? [0, 1];
  const endpoints = new Map<string, { t: number; loss: number; label: string; colour: string; dy: number }>();
  for (const l of view.lines) {
    const at = (t: number) => l.points.find((p) => p.t === t)?.loss;
    const a = at(0);
    const b = at(1);
    if (a !== undefined && pos(a)) endpoints.set(`0:${l.from.id}`, { t: 0, loss: a, label: l.from.label, colour: METHOD_COLOUR[l.from.method], dy: 0 });
    if (b !== undefined && pos(b)) endpoints.set(`1:${l.to.id}`, { t: 1, loss: b, label: l.to.label, colour: METHOD_COLOUR[l.to.method], dy: 0 });
  }
  // Labels at the same t that would overlap are pushed apart.
  for (const t of [0, 1]) {
    const group = [...endpoints.values()].filter((e) => e.t === t);
    const dys = spreadLabels(
      group.map((e) => logY(e.loss, axis.domain, PLOT_H)),
      LABEL_GAP,
    );
    group.forEach((e, k) => (e.dy = dys[k]));
  }
  return (
    <figure className="chart-box" data-testid="landscape-lines">
      <figcaption>Test loss along straight lines (1 − t)·A + t·B (log)</figcaption>
      <ResponsiveContainer width="100%" height={320}>
        <LineChart margin={{ top: 14, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid stroke="#e5e7eb" />
          <XAxis
            type="number"
            dataKey="t"
            domain={[Math.min(...ts), Math.max(...ts)]}
            ticks={[-0.25, 0, 0.25, 0.5, 0.75, 1, 1.25]}
            label={{ value: 't (0 = start A, 1 = end B)', position: 'insideBottom', offset: -14 }}
          />
          <YAxis scale="log" type="number" domain={axis.domain} ticks={axis.ticks} allowDataOverflow tickFormatter={fmtTick} width={60} />
          <Tooltip formatter={(v) => fmtNum(Number(v))} labelFormatter={(t) => `t = ${t}`} isAnimationActive={false} />
          <ReferenceLine x={0} stroke="#9ca3af" strokeDasharray="3 3" />
          <ReferenceLine x={1} stroke="#9ca3af" strokeDasharray="3 3" />
          {view.lines.map((l) => (
            <Line
              key={`${l.from.id}-${l.to.id}`}
              data={l.points.map((p) => ({ t: p.t, loss: pos(p.loss) }))}
              dataKey="loss"
              name={`${l.from.label} → ${l.to.label}`}
              stroke={METHOD_COLOUR[l.to.method]}
              strokeWidth={2}
              strokeDasharray={l.from.id === 'fp' ? undefined : '6 4'}
              dot={false}
              isAnimationActive={false}
            />
          ))}
          {[...endpoints.entries()].map(([k, e]) => (
            <ReferenceDot
              key={k}
              x={e.t}
              y={e.loss}
              r={5}
              fill={e.colour}
              stroke="#fff"
              label={{ value: e.label, position: e.t === 0 ? 'left' : 'right', fill: e.colour, fontSize: 12, fontWeight: 600, dy: e.dy }}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <ul className="legend">
        {view.lines.map((l) => (
          <li key={`${l.from.id}-${l.to.id}`}>
            <svg width="26" height="10" aria-hidden>
              <line
                x1="1"
                x2="25"
                y1="5"
                y2="5"
                stroke={METHOD_COLOUR[l.to.method]}
                strokeWidth={2.4}
                strokeDasharray={l.from.id === 'fp' ? undefined : '6 4'}
              />
            </svg>
            {l.from.label} → {l.to.label}
          </li>
        ))}
      </ul>
    </figure>
  );
}

export function RadialChartView({ view }: { view: LandscapeView }) {
  const losses = view.radial.flatMap((c) => c.points.map((p) => p.loss));
  const endLoss = (id: string) => view.lines.find((l) => l.from.id === 'fp' && l.to.id === id)?.points.find((p) => p.t === 1)?.loss;
  const marks = view.distances.map((d) => ({ ...d, loss: endLoss(d.point.id) }));
  const axis = logAxisOf([...losses, ...marks.map((m) => m.loss ?? NaN)]);
  const xMax = Math.max(...view.radial.flatMap((c) => c.points.map((p) => p.distance)), ...marks.map((m) => m.distance), 1e-9);
  const markLevels = levels(
    marks.map((m) => m.distance),
    xMax * 0.1,
  );
  return (
    <figure className="chart-box" data-testid="landscape-radial">
      <figcaption>Radial sweeps from FP along {view.radial.length} random unit directions (log)</figcaption>
      <ResponsiveContainer width="100%" height={320}>
        <LineChart margin={{ top: 14, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid stroke="#e5e7eb" />
          <XAxis
            type="number"
            dataKey="distance"
            domain={[0, xMax]}
            tickFormatter={(v: number) => fmtNum(v)}
            label={{ value: 'L2 distance from the FP weights', position: 'insideBottom', offset: -14 }}
          />
          <YAxis scale="log" type="number" domain={axis.domain} ticks={axis.ticks} allowDataOverflow tickFormatter={fmtTick} width={60} />
          <Tooltip formatter={(v) => fmtNum(Number(v))} labelFormatter={(d) => `distance ${fmtNum(Number(d))}`} isAnimationActive={false} />
          {view.radial.map((c) => (
            <Line
              key={c.direction}
              data={c.points.map((p) => ({ distance: p.distance, loss: pos(p.loss) }))}
              dataKey="loss"
              name={`random direction ${c.direction + 1}`}
              stroke={DIRECTION_COLOURS[c.direction % DIRECTION_COLOURS.length]}
              strokeWidth={1.6}
              dot={false}
              isAnimationActive={false}
            />
          ))}
          {marks.map((m, k) => (
            <ReferenceLine
              key={m.point.id}
              x={m.distance}
              stroke={METHOD_COLOUR[m.point.method]}
              strokeDasharray="5 3"
              strokeWidth={1.5}
              label={{
                value: m.point.label,
                position: 'insideTopRight',
                fill: METHOD_COLOUR[m.point.method],
                fontSize: 12,
                fontWeight: 600,
                dy: markLevels[k] * LABEL_GAP,
              }}
            />
          ))}
          {marks.map((m) =>
            m.loss !== undefined && pos(m.loss) ? (
              <ReferenceDot key={`dot-${m.point.id}`} x={m.distance} y={m.loss} r={5} fill={METHOD_COLOUR[m.point.method]} stroke="#fff" />
            ) : null,
          )}
        </LineChart>
      </ResponsiveContainer>
      <p className="muted small">
        Grey: the loss at FP + r·d for random unit directions d. Dashed verticals: the L2 distance of each quantized model from FP (
        {marks.map((m) => `${m.point.label} ${fmtNum(m.distance)}`).join(', ')}); dots: its actual loss. A dot far below the grey curves at its distance means
        the quantized weights sit in a much better direction than a random one of the same length.
      </p>
    </figure>
  );
}
