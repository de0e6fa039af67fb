/**
 * The sweep: rows = bit-widths, columns = QAFT learning rates, cells = QAFT test MSE for the
 * current settings (same FP model, quantizer except bits, QAFT except lr, data budget); the best
 * learning rate per bit-width is highlighted; RTN and GPTQ per bit-width are references.
 */
import { formatBits, formatLr, type ExperimentConfig } from '../../engine/core/config';
import { type Method } from '../../engine/core/methods';
import type { RunRecord } from '../../engine/core/runs';
import { fmtMse } from '../runs';
import { latest, settingsKey } from '../select';
import { useLab } from '../store';
import { Empty, useOtherSettingsHint } from './ViewParts';

/** The latest done or diverged run of `method` at these bits (and lr), other settings as `c`. */
function cellRun(runs: RunRecord[], method: Method, c: ExperimentConfig, bits: number, lr?: number): RunRecord | null {
  const key = settingsKey(method, c, { bits: true, lr: true });
  return latest(
    runs.filter(
      (r) =>
        r.method === method &&
        (r.status === 'done' || r.status === 'diverged') &&
        r.config.quant.bits === bits &&
        (lr === undefined || r.config.qaft.lr === lr) &&
        settingsKey(method, r.config, { bits: true, lr: true }) === key,
    ),
  );
}

function Cell({ run, best, testId }: { run: RunRecord | null; best?: boolean; testId: string }) {
  if (!run)
    return (
      <td className="num missing" data-testid={testId}>
        —
      </td>
    );
  const diverged = run.status === 'diverged';
  return (
    <td className={`num${best ? ' best' : ''}${diverged ? ' diverged' : ''}`} data-testid={testId} data-best={best ? 'true' : undefined} title={run.name}>
      {diverged ? 'diverged' : fmtMse(run.loss)}
    </td>
  );
}

export function SweepTable() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const { bits, lrs } = config.sweep;
  const other = useOtherSettingsHint();
  const rows = bits.map((b) => {
    const qaft = lrs.map((lr) => cellRun(runs, 'qaft', config, b, lr));
    const mses = qaft.map((r) => (r && r.status === 'done' && r.loss !== null && Number.isFinite(r.loss) ? r.loss : Infinity));
    const min = Math.min(...mses);
    return { b, qaft, best: Number.isFinite(min) ? mses.indexOf(min) : -1, rtn: cellRun(runs, 'rtn', config, b), gptq: cellRun(runs, 'gptq', config, b) };
  });
  const any = rows.some((r) => r.rtn || r.gptq || r.qaft.some(Boolean));
  return (
    <div data-testid="view-sweep" className="view">
      <p className="view-intro">
        QAFT test MSE for each bit-width and learning rate with the current settings (everything else as in the panels: quantizer, QAFT steps and schedule, data
        budget). The best learning rate of each bit-width is highlighted; RTN and GPTQ need no learning rate.
      </p>
      <div className="table-wrap">
        <table className="results sweep" data-testid="sweep-table">
          <thead>
            <tr>
              <th>Bits</th>
              {lrs.map((lr) => (
                <th key={lr} className="num">
                  QAFT lr {formatLr(lr)}
                </th>
              ))}
              <th className="num ref">RTN</th>
              <th className="num ref">GPTQ</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.b} data-testid="sweep-row" data-bits={r.b}>
                <th>{formatBits(r.b)}</th>
                {r.qaft.map((run, k) => (
                  <Cell key={lrs[k]} run={run} best={k === r.best} testId={`sweep-cell-${r.b}-${formatLr(lrs[k])}`} />
                ))}
                <Cell run={r.rtn} testId={`sweep-rtn-${r.b}`} />
                <Cell run={r.gptq} testId={`sweep-gptq-${r.b}`} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {any ? (
        <p className="muted small">
          — = not run yet with these settings. Hover a cell for its run. Change the bit-widths and learning rates in the “Sweep” panel.
        </p>
      ) : (
        <Empty>No runs for these settings yet. Press Run sweep (QAFT at every bit-width × learning rate, and RTN), or PTQ vs QAFT.{other}</Empty>
      )}
    </div>
  );
}
