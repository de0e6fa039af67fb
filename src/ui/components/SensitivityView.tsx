/**
 * Per-layer sensitivity: the rise of the test loss over FP when only one layer is rounded (RTN)
 * at each sweep bit-width, and a greedy assignment of bits per layer under an average-bits
 * budget that is written into the per-layer overrides.
 */
import { useState } from 'react';
import { fpKey } from '../../engine/tasks';
import { formatBits, layerDims, type LayerOverride } from '../../engine/core/config';
import { assignBits } from '../../engine/poly/bitassign';
import { fmtNum } from '../chart-utils';
import { computeSensitivity, fpUnavailable } from '../probes';
import { compactMessages, configProblems, planProblems } from '../problems';
import { isBusy, isWorking, useLab, type SensitivityView as Result } from '../store';
import { Empty, Notes, ProbeProgress } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

/** Background for a loss increase: white (none) to red (the largest in the table), log scale. */
function heat(delta: number, max: number): string {
  if (!(delta > 0) || !(max > 0)) return 'transparent';
  const f = Math.max(0, Math.min(1, 1 + Math.log10(delta / max) / 4));
  return `rgba(214, 39, 40, ${(0.08 + 0.5 * f).toFixed(3)})`;
}

function Table({ s, assigned }: { s: Result; assigned: LayerOverride[] | null }) {
  const dims = layerDims(s.config.model);
  const deltas = s.result.layers.flatMap((l) => s.result.bits.map((b) => (l.loss[b] ?? NaN) - s.result.fpLoss));
  const max = Math.max(0, ...deltas.filter(Number.isFinite));
  return (
    <table className="results sensitivity" data-testid="sensitivity-table">
      <thead>
        <tr>
          <th>Layer</th>
          <th className="num">weights</th>
          {s.result.bits.map((b) => (
            <th key={b} className="num">
              {formatBits(b)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {s.result.layers.map((l) => (
          <tr key={l.layer}>
            <th>
              {l.layer} <span className="muted small">{`${dims[l.layer]}→${dims[l.layer + 1]}`}</span>
            </th>
            <td className="num">{l.weights}</td>
            {s.result.bits.map((b) => {
              const loss = l.loss[b];
              const d = loss === undefined ? NaN : loss - s.result.fpLoss;
              const pick = assigned?.find((o) => o.layer === l.layer)?.bits === b;
              return (
                <td
                  key={b}
                  className={`num${pick ? ' assigned' : ''}`}
                  data-assigned={pick ? 'true' : undefined}
                  style={{ background: heat(d, max) }}
                  title={loss === undefined ? '' : `test loss ${fmtNum(loss)} (FP ${fmtNum(s.result.fpLoss)})`}
                >
                  {Number.isFinite(d) ? `${d >= 0 ? '+' : ''}${fmtNum(d)}` : '—'}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SensitivityView() {
  const s = useLab((st) => st.sensitivity);
  const config = useLab((st) => st.config);
  const working = useLab(isWorking);
  const busy = useLab(isBusy);
  const setField = useLab((st) => st.setField);
  const addMessage = useLab((st) => st.addMessage);
  const noFp = useLab((st) => fpUnavailable(st, st.config));
  const problems = [...configProblems(config), ...planProblems(config, 'sweep')].map((p) => p.message);
  const blocked = problems.length ? `The quantizer does not fit at every sweep bit-width: ${compactMessages(problems)}` : null;
  const bitsList = s ? s.result.bits : config.sweep.bits;
  const lo = Math.min(...bitsList);
  const hi = Math.max(...bitsList);
  const [avg, setAvg] = useState<string>(String(Math.round(((lo + hi) / 2) * 100) / 100));
  const [assigned, setAssigned] = useState<{ overrides: LayerOverride[]; averageBits: number } | null>(null);
  const avgNum = Number(avg);
  const avgError =
    avg.trim() === '' || !Number.isFinite(avgNum)
      ? 'Enter a number.'
      : avgNum < lo || avgNum > hi
        ? `Between ${lo} and ${hi} (the computed bit-widths).`
        : null;
  const stale = s && fpKey(s.config) !== fpKey(config);
  const onAssign = () => {
    if (!s || avgError) return;
    const r = assignBits(s.result, avgNum);
    // The sensitivity was measured with this scheme at each bit-width: keep it.
    const overrides = r.overrides.map((o) => ({ ...o, scheme: s.config.quant.scheme }));
    setField(['quant', 'overrides'], overrides);
    setAssigned({ overrides, averageBits: r.averageBits });
    addMessage(
      'info',
      `Bits per layer assigned (average ${r.averageBits.toFixed(2)} bits per weight): ${overrides.map((o) => `layer ${o.layer} ${formatBits(o.bits)}`).join(', ')}. See the per-layer table and the URL.`,
    );
  };
  return (
    <div data-testid="view-sensitivity" className="view">
      <div className="view-head">
        <p className="view-intro">
          How much the test loss rises over FP when only one layer is rounded to nearest (scheme {config.quant.scheme}, granularity {config.quant.granularity})
          and every other layer stays FP, at each sweep bit-width ({config.sweep.bits.join(', ')}). A greedy allocation then lowers the bits of the layers where
          it costs the least loss per bit saved, until the average over all weights fits the budget.
        </p>
        <div className="view-actions">
          <button
            type="button"
            className="primary"
            data-testid="run-sensitivity"
            disabled={working || noFp !== null || blocked !== null}
            onClick={computeSensitivity}
          >
            Compute sensitivity
          </button>
        </div>
      </div>
      <ProbeProgress kind="sensitivity" />
      <Notes notes={[noFp, blocked].filter((n): n is string => n !== null)} />
      {!s ? (
        <Empty>
          Train the FP model first (FP, or PTQ vs QAFT), then press Compute sensitivity: one RTN evaluation per layer and bit-width (
          {config.sweep.bits.join(', ')}).
        </Empty>
      ) : (
        <>
          {stale ? <p className="stale">Computed for other data, model or FP settings; press Compute sensitivity to update.</p> : null}
          <p className="muted small">
            Cells: test loss − FP test loss ({fmtNum(s.result.fpLoss)}); darker = larger.{assigned ? ' Outlined cells: the bits just assigned.' : ''}
          </p>
          <ExportableFigure name="sensitivity" title="Layer sensitivity: test loss − FP test loss when one layer is rounded">
            <div className="table-wrap">
              <Table s={s} assigned={assigned?.overrides ?? null} />
            </div>
          </ExportableFigure>
          <div className="assign">
            <label>
              Average bits budget{' '}
              <input
                data-testid="input-avg-bits"
                type="number"
                step={0.25}
                min={lo}
                max={hi}
                value={avg}
                aria-invalid={avgError ? true : undefined}
                onChange={(e) => setAvg(e.target.value)}
              />
            </label>
            <button
              type="button"
              data-testid="assign-bits"
              disabled={busy || avgError !== null}
              onClick={onAssign}
              title="Write the bits per layer into the mixed-precision overrides"
            >
              Assign bits
            </button>
            {avgError ? <span className="field-error">{avgError}</span> : null}
            {assigned ? (
              <span className="muted" data-testid="assign-result">
                Average {assigned.averageBits.toFixed(2)} bits per weight: {assigned.overrides.map((o) => `L${o.layer} ${formatBits(o.bits)}`).join(', ')}
              </span>
            ) : null}
          </div>
        </>
      )}
    </div>
  );
}
