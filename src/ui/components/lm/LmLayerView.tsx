/**
 * Per-layer local error of the LM's quantized models: for each block linear ("h0.attn.qkv" …),
 * ‖x·(Wq − W)‖² of the latest RTN, GPTQ, QAFT, QA-LoRA, data-free and tiled runs of the
 * current settings (log scale), beside their validation NLL.
 */
import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunRecord } from '../../../engine/core/runs';
import { fmtNum, fmtStat, fmtTick, logAxisOf } from '../../chart-utils';
import { fmtNll } from '../../lm-runs';
import { latestLmRuns } from '../../lm-select';
import { methodLabel, type Method } from '../../../engine/core/methods';
import { METHOD_COLOUR, METHOD_LABEL } from '../../runs';
import { useLab } from '../../store';
import { Empty, MethodLegend } from '../ViewParts';
import { linearAxis } from './axes';
import { ExportableFigure } from '../ExportableFigure';

export function LmLayerView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const all = latestLmRuns(runs, config);
  const fp = all.find((x) => x.method === 'fp')?.run ?? null;
  const quant = all.filter((x): x is { method: Method; run: RunRecord } => x.method !== 'fp');
  const withErrors = quant.filter((x) => x.run.layerErrors && x.run.layerErrors.length > 0 && x.run.layerNames && x.run.layerNames.length > 0);
  // The union of the layer names, in the order of the first run that has them.
  const names: string[] = [];
  for (const { run } of withErrors) for (const n of run.layerNames ?? []) if (!names.includes(n)) names.push(n);
  const data = names.map((name) => {
    const row: Record<string, number | string | null> = { layer: name };
    for (const { method, run } of withErrors) {
      const i = run.layerNames?.indexOf(name) ?? -1;
      const e = i >= 0 ? run.layerErrors?.[i] : undefined;
      row[method] = e !== undefined && e !== null && e > 0 && Number.isFinite(e) ? e : null;
    }
    return row;
  });
  const axis = logAxisOf(data.flatMap((row) => withErrors.map(({ method }) => row[method] as number | null).filter((v): v is number => v !== null)));
  const global = quant.map(({ method, run }) => ({ name: methodLabel(method), method, nll: run.loss as number }));
  const gLo = Math.min(...global.map((g) => g.nll), fp?.loss ?? Infinity);
  const gHi = Math.max(...global.map((g) => g.nll), fp?.loss ?? -Infinity);
  // Room below the lowest bar, so that it shows.
  const gAxis = linearAxis(gLo - Math.max(gHi - gLo, 0.01) * 0.25, gHi);
  const wide = names.length > 8;
  const tailsRun = quant.map((x) => x.run).find((r) => r.layerTails && r.layerNames && r.layerTails.length === r.layerNames.length) ?? null;
  return (
    <div data-testid="view-lm-layers" className="view">
      <p className="view-intro">
        <strong>Which linears does each method leave worst?</strong> Local error of a linear: the mean over calibration sequences of ‖x·(W<sub>q</sub> − W)‖²,
        with W the FP weights, W<sub>q</sub> the method's quantized weights and x the linear's input on the quantized model's own path. GPTQ minimizes it layer
        by layer; QAFT, QA-LoRA and tiled QAT lower the loss and may move the weights far from FP.
      </p>
      {quant.length === 0 ? (
        <Empty>No quantized runs for these settings yet. Press Run comparison (or Run all).</Empty>
      ) : (
        <>
          <ExportableFigure name="lm-layers" title="Local error per linear and validation NLL">
            <MethodLegend methods={quant.map((x) => x.method)} />
            <div className="two-charts">
              <figure className="chart-box wide">
                <figcaption>Local error per linear (log)</figcaption>
                {withErrors.length === 0 ? (
                  <Empty>These runs have no per-layer errors.</Empty>
                ) : (
                  <ResponsiveContainer width="100%" height={wide ? 340 : 300}>
                    <BarChart data={data} margin={{ top: 8, right: 12, bottom: wide ? 48 : 8, left: 8 }} barCategoryGap="14%">
                      <CartesianGrid stroke="#e5e7eb" vertical={false} />
                      <XAxis
                        dataKey="layer"
                        tick={{ fontSize: 11 }}
                        interval={0}
                        angle={wide ? -40 : 0}
                        textAnchor={wide ? 'end' : 'middle'}
                        height={wide ? 60 : 30}
                      />
                      <YAxis scale="log" type="number" domain={axis.domain} ticks={axis.ticks} allowDataOverflow tickFormatter={fmtTick} width={60} />
                      <Tooltip formatter={(v) => fmtNum(Number(v))} isAnimationActive={false} />
                      {withErrors.map(({ method }) => (
                        <Bar key={method} dataKey={method} name={METHOD_LABEL[method]} fill={METHOD_COLOUR[method]} isAnimationActive={false} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                )}
              </figure>
              <figure className="chart-box narrow">
                <figcaption>Global: validation NLL (nats/token)</figcaption>
                <ResponsiveContainer width="100%" height={wide ? 340 : 300}>
                  <BarChart data={global} margin={{ top: 8, right: 30, bottom: 8, left: 8 }}>
                    <CartesianGrid stroke="#e5e7eb" vertical={false} />
                    <XAxis
                      dataKey="name"
                      tick={{ fontSize: 11 }}
                      interval={0}
                      angle={global.length > 4 ? -35 : 0}
                      textAnchor={global.length > 4 ? 'end' : 'middle'}
                      height={global.length > 4 ? 56 : 30}
                    />
                    <YAxis
                      type="number"
                      domain={gAxis.domain}
                      ticks={gAxis.ticks}
                      allowDataOverflow
                      tickFormatter={(v: number) => String(Number(v.toPrecision(4)))}
                      width={48}
                    />
                    <Tooltip formatter={(v) => fmtNll(Number(v))} isAnimationActive={false} />
                    <Bar dataKey="nll" name="validation NLL" isAnimationActive={false}>
                      {global.map((g) => (
                        <Cell key={g.method} fill={METHOD_COLOUR[g.method]} />
                      ))}
                    </Bar>
                    {fp?.loss ? (
                      <ReferenceLine y={fp.loss} stroke="#111" strokeDasharray="4 3" label={{ value: 'FP', position: 'right', fontSize: 11, fill: '#111' }} />
                    ) : null}
                  </BarChart>
                </ResponsiveContainer>
              </figure>
            </div>
          </ExportableFigure>
          <div className="table-wrap">
            <table className="results compact" data-testid="lm-layer-table">
              <thead>
                <tr>
                  <th>Linear</th>
                  {withErrors.map(({ method }) => (
                    <th key={method} className="num" style={{ color: METHOD_COLOUR[method] }}>
                      {METHOD_LABEL[method]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.map((row) => (
                  <tr key={row.layer as string}>
                    <td className="mono">{row.layer}</td>
                    {withErrors.map(({ method }) => (
                      <td key={method} className="num">
                        {row[method] === null ? '—' : fmtNum(row[method] as number)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {fp?.loss ? <p className="muted small">Dashed line: the FP model's validation NLL ({fmtNll(fp.loss)}).</p> : null}
          {tailsRun?.layerTails && tailsRun.layerNames ? <TailsTable names={tailsRun.layerNames} tails={tailsRun.layerTails} /> : null}
        </>
      )}
    </div>
  );
}

/** The FP weights' outliers per linear, as stored and as a rot=hadamard quantizer sees them (folded and/or online-rotated). */
function TailsTable({ names, tails }: { names: string[]; tails: NonNullable<RunRecord['layerTails']> }) {
  return (
    <div className="table-wrap">
      <p className="view-intro">
        <strong>Outliers before and after the Hadamard rotation.</strong> Per linear, the FP weights' excess kurtosis (0 for a Gaussian; large when a few
        weights are outliers) and largest |w| in standard deviations: as stored, and as the quantizer sees them with <code>rot=hadamard</code> (the residual
        stream folded through the RMSNorms, attention out and MLP proj rotated online; every linear online for a LayerNorm model).
      </p>
      <table className="results compact" data-testid="lm-tails-table">
        <thead>
          <tr>
            <th>Linear</th>
            <th className="num">kurtosis</th>
            <th className="num">rotated</th>
            <th className="num">max|w|/σ</th>
            <th className="num">rotated</th>
          </tr>
        </thead>
        <tbody>
          {names.map((n, i) => (
            <tr key={n}>
              <td className="mono">{n}</td>
              <td className="num">{fmtStat(tails[i].before.kurtosis)}</td>
              <td className="num">{fmtStat(tails[i].after.kurtosis)}</td>
              <td className="num">{fmtStat(tails[i].before.maxOverStd)}</td>
              <td className="num">{fmtStat(tails[i].after.maxOverStd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
