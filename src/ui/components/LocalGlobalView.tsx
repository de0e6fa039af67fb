/**
 * Local vs global error: per layer, the local error ‖x·(Wq − W)‖² of RTN, GPTQ, QAFT and QAFT
 * started from GPTQ, and beside it the test MSE of the same runs. GPTQ minimizes the local error layer by layer;
 * the global loss is what counts, and QAFT optimizes that directly.
 */
import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBits, layerDims } from '../../engine/core/config';
import type { RunRecord } from '../../engine/core/runs';
import { fmtNum, fmtTick, logAxisOf } from '../chart-utils';
import { fmtMse, METHOD_COLOUR, METHOD_LABEL } from '../runs';
import { latestRun, PTQ_METHODS } from '../select';
import { useLab } from '../store';
import { BitsPicker, Empty, MethodLegend, useOtherSettingsHint, useViewBits } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

const fmtRatio = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
/** A fraction as a percentage: whole percents, one decimal below 1 %. */
const fmtPct = (f: number) => (f * 100 < 1 ? (f * 100).toFixed(1) : (f * 100).toFixed(0));
const geoMeanRatio = (a: number[], b: number[]) => Math.exp(a.reduce((s, x, i) => s + Math.log(x / b[i]), 0) / a.length);

/** One sentence: how far GPTQ lowers the local error below RTN's, and which of GPTQ and QAFT has the lower test loss. */
function Verdict({ picked, bits }: { picked: { m: (typeof PTQ_METHODS)[number]; r: RunRecord }[]; bits: number }) {
  const get = (m: string) => picked.find((x) => x.m === m)?.r;
  const [rtn, gptq, qaft, gq] = [get('rtn'), get('gptq'), get('qaft'), get('gptq-qaft')];
  if (!rtn || !gptq || !qaft || gptq.loss === null || qaft.loss === null) return null;
  const ratio = (a: number[] | null | undefined, b: number[] | null | undefined) =>
    a && b && a.length && a.length === b.length && [...a, ...b].every((e) => e > 0 && Number.isFinite(e)) ? geoMeanRatio(a, b) : null;
  const gr = ratio(gptq.layerErrors, rtn.layerErrors);
  const qg = ratio(qaft.layerErrors, gptq.layerErrors);
  const local = gr !== null && gr < 1 ? `GPTQ's local error is ${fmtRatio(1 / gr)}× below RTN's (geometric mean over layers)` : null;
  const q = qaft.loss;
  const g = gptq.loss;
  const global =
    q < g
      ? `QAFT's test MSE is ${fmtPct(1 - q / g)} % below GPTQ's` +
        (qg !== null && qg > 1 ? `, although its local error is ${fmtRatio(qg)}× above GPTQ's: the lower local error did not give the lower global loss.` : '.')
      : `GPTQ's test MSE is ${fmtPct(1 - g / q)} % below QAFT's: here the local fix carries over to the global loss.`;
  const gqm = gq?.loss ?? null;
  const start =
    gqm === null || !Number.isFinite(gqm)
      ? ''
      : ` QAFT started from GPTQ's weights ends ${gqm < q ? `${fmtPct(1 - gqm / q)} % below` : `${fmtPct(1 - q / gqm)} % above`} QAFT from the FP weights${gqm < g ? ` and ${fmtPct(1 - gqm / g)} % below GPTQ` : ''}.`;
  return (
    <p className="lg-verdict" data-testid="lg-verdict" data-winner={q < g ? 'qaft' : 'gptq'}>
      <strong>At {formatBits(bits)}:</strong> {local ? `${local}; ` : ''}
      {global}
      {start}
    </p>
  );
}

export function LocalGlobalView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const { bits } = useViewBits();
  const other = useOtherSettingsHint();
  const picked =
    bits === null
      ? []
      : PTQ_METHODS.map((m) => ({ m, r: latestRun(runs, m, config, bits) })).filter(
          (x): x is { m: (typeof PTQ_METHODS)[number]; r: RunRecord } => x.r !== null,
        );
  const withErrors = picked.filter((x) => x.r.layerErrors && x.r.layerErrors.length > 0);
  const fp = latestRun(runs, 'fp', config, 32);
  const dims = layerDims(config.model);
  const nLayers = dims.length - 1;
  const local = Array.from({ length: nLayers }, (_, i) => {
    const row: Record<string, number | string | null> = { layer: `layer ${i} (${dims[i]}→${dims[i + 1]})` };
    for (const { m, r } of withErrors) {
      const e = r.layerErrors?.[i];
      row[m] = e !== undefined && e > 0 && Number.isFinite(e) ? e : null;
    }
    return row;
  });
  const localAxis = logAxisOf(local.flatMap((row) => withErrors.map(({ m }) => row[m] as number | null).filter((v): v is number => v !== null)));
  const global = picked.map(({ m, r }) => ({ name: METHOD_LABEL[m], m, mse: r.loss as number }));
  const globalAxis = logAxisOf([...global.map((g) => g.mse), ...(fp?.loss ? [fp.loss] : [])]);
  const missing = PTQ_METHODS.filter((m) => !picked.some((x) => x.m === m));
  const noErrors = picked.filter((x) => !withErrors.includes(x));
  return (
    <div data-testid="view-local-global" className="view">
      <div className="view-head">
        <p className="view-intro">
          <strong>GPTQ lowers the local error, yet not necessarily the global loss.</strong> Local error of a layer: the mean over the calibration examples (the
          first of the data budget, at most 512) of ‖x·(W<sub>q</sub> − W)‖², where W are the FP weights, W<sub>q</sub> the method's quantized weights and x the
          layer's input on the model's own quantized path (the outputs of its already-quantized earlier layers). GPTQ minimizes exactly this, layer by layer;
          QAFT instead lowers the test loss of the whole network and may move the weights far from FP.
        </p>
        <BitsPicker testId="input-lg-bits" />
      </div>
      {bits === null || picked.length === 0 ? (
        <Empty>No RTN, GPTQ or QAFT runs for these settings yet. Press PTQ vs QAFT to run all three at each sweep bit-width.{other}</Empty>
      ) : (
        <>
          <ExportableFigure name="local-global" title={`Local vs global error at ${formatBits(bits)}`}>
            <MethodLegend methods={picked.map((x) => x.m)} />
            <div className="two-charts">
              <figure className="chart-box wide" data-testid="lg-local">
                <figcaption>Local error per layer at {formatBits(bits)} (log)</figcaption>
                {withErrors.length === 0 ? (
                  <Empty>These runs have no per-layer errors (saved by an older version of the lab): run them again.</Empty>
                ) : (
                  <ResponsiveContainer width="100%" height={300}>
                    <BarChart data={local} margin={{ top: 8, right: 12, bottom: 8, left: 8 }} barCategoryGap="18%">
                      <CartesianGrid stroke="#e5e7eb" vertical={false} />
                      <XAxis dataKey="layer" tick={{ fontSize: 12 }} />
                      <YAxis scale="log" type="number" domain={localAxis.domain} ticks={localAxis.ticks} allowDataOverflow tickFormatter={fmtTick} width={60} />
                      <Tooltip formatter={(v) => fmtNum(Number(v))} isAnimationActive={false} />
                      {withErrors.map(({ m }) => (
                        <Bar key={m} dataKey={m} name={METHOD_LABEL[m]} fill={METHOD_COLOUR[m]} isAnimationActive={false} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                )}
              </figure>
              <figure className="chart-box narrow">
                <figcaption>Global: test MSE (log)</figcaption>
                <ResponsiveContainer width="100%" height={300}>
                  <BarChart data={global} margin={{ top: 8, right: 30, bottom: 8, left: 8 }}>
                    <CartesianGrid stroke="#e5e7eb" vertical={false} />
                    <XAxis dataKey="name" tick={{ fontSize: 11 }} interval={0} />
                    <YAxis scale="log" type="number" domain={globalAxis.domain} ticks={globalAxis.ticks} allowDataOverflow tickFormatter={fmtTick} width={60} />
                    <Tooltip formatter={(v) => fmtMse(Number(v))} isAnimationActive={false} />
                    <Bar dataKey="mse" name="test MSE" isAnimationActive={false}>
                      {global.map((g) => (
                        <Cell key={g.m} fill={METHOD_COLOUR[g.m]} />
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
          <table className="results compact" data-testid="local-global-table">
            <thead>
              <tr>
                <th>Run</th>
                {Array.from({ length: nLayers }, (_, i) => (
                  <th key={i} className="num">
                    local L{i}
                  </th>
                ))}
                <th className="num">test MSE</th>
              </tr>
            </thead>
            <tbody>
              {picked.map(({ m, r }) => (
                <tr key={r.id} data-testid={`lg-row-${m}`} data-mse={r.loss ?? undefined}>
                  <td>{r.name}</td>
                  {Array.from({ length: nLayers }, (_, i) => (
                    <td key={i} className="num">
                      {r.layerErrors?.[i] !== undefined ? fmtNum(r.layerErrors[i]) : '—'}
                    </td>
                  ))}
                  <td className="num" style={{ color: METHOD_COLOUR[m] }}>
                    {fmtMse(r.loss)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Verdict picked={picked} bits={bits} />
          {missing.length || noErrors.length ? (
            <p className="muted small">
              {missing.length ? `Not run yet at ${formatBits(bits)} with these settings: ${missing.map((m) => METHOD_LABEL[m]).join(', ')}. ` : ''}
              {noErrors.length ? `${noErrors.map((x) => x.r.name).join(', ')}: no per-layer errors saved.` : ''}
            </p>
          ) : null}
          {fp ? <p className="muted small">Dashed line: the FP model's test MSE ({fmtMse(fp.loss)}).</p> : null}
        </>
      )}
    </div>
  );
}
