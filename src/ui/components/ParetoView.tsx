/**
 * Test MSE against weight storage for every finished run of the current FP setting, coloured by
 * method, with the Pareto front (no other run is both smaller and better) drawn as a line.
 */
import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { METHOD_IDS, type Method } from '../../engine/core/methods';
import { fmtTick, logAxisOf } from '../chart-utils';
import { fmtKib, fmtMse, kib, METHOD_COLOUR } from '../runs';
import { paretoFront, runsOfFp } from '../select';
import { useLab } from '../store';
import { Empty, MethodLegend } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

interface Pt {
  x: number;
  y: number;
  id: string;
  name: string;
  method: Method;
  bits: number;
}

function Tip({ active, payload, lm }: { active?: boolean; payload?: readonly { payload?: unknown }[]; lm?: boolean }) {
  const p = active && payload && payload.length ? (payload[0].payload as Pt | undefined) : undefined;
  if (!p) return null;
  return (
    <div className="chart-tip">
      <strong>{p.name}</strong>
      <div>{lm ? `validation NLL ${p.y.toFixed(4)}` : `test MSE ${fmtMse(p.y)}`}</div>
      <div>storage {fmtKib(p.x * 8 * 1024)}</div>
    </div>
  );
}

export function ParetoView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const lm = config.task === 'lm';
  const pts: Pt[] = runsOfFp(runs, config)
    .filter((r) => r.storageBits !== undefined && (r.loss as number) > 0)
    .map((r) => ({ x: kib(r.storageBits as number), y: r.loss as number, id: r.id, name: r.name, method: r.method, bits: r.bits }));
  const front = paretoFront(pts);
  const methods = METHOD_IDS.filter((m) => pts.some((p) => p.method === m));
  const xa = logAxisOf(pts.map((p) => p.x));
  const ya = logAxisOf(pts.map((p) => p.y));
  return (
    <div data-testid="view-pareto" className="view">
      <p className="view-intro">
        {lm
          ? 'Each finished run with the current model, text and FP settings: validation NLL against the storage of its weights (codes, scales, zero points and codebooks; FP32 where not quantized).'
          : 'Each finished run with the current data, model and FP settings: test MSE against the storage of its weights (codes, scales, zero points and codebooks, FP32 biases).'}{' '}
        The black line joins the Pareto front: runs that no other run beats on both size and error.
      </p>
      {pts.length === 0 ? (
        <Empty>
          No finished runs for these settings yet. Press {lm ? 'Run comparison (or Run all)' : 'PTQ vs QAFT (or Run comparison)'} and the runs appear here.
        </Empty>
      ) : (
        <>
          <ExportableFigure name="pareto" title={`${lm ? 'Validation NLL' : 'Test MSE'} vs weight storage (Pareto front)`}>
            <MethodLegend
              methods={methods}
              extra={
                <li>
                  <span className="swatch" style={{ borderColor: '#111' }} /> Pareto front ({front.length} of {pts.length} runs)
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
                    value: lm ? 'validation NLL (log)' : 'test MSE (log)',
                    angle: -90,
                    position: 'insideLeft',
                    offset: 4,
                    style: { textAnchor: 'middle' },
                  }}
                />
                <Tooltip content={(p) => <Tip {...(p as Parameters<typeof Tip>[0])} lm={lm} />} cursor={{ strokeDasharray: '3 3' }} isAnimationActive={false} />
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
                  <Scatter key={m} name={m} data={pts.filter((p) => p.method === m)} fill={METHOD_COLOUR[m]} isAnimationActive={false} />
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
