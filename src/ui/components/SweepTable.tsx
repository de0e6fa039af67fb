/**
 * The sweep: rows = bit-widths, columns = QAFT learning rates, cells = QAFT test MSE for the
 * current settings (same FP model, quantizer except bits, QAFT except lr, data budget); the best
 * learning rate per bit-width is highlighted; RTN and GPTQ per bit-width are references.
 */
import { formatBits, formatLr, type ExperimentConfig } from '../../engine/core/config';
import { type Method } from '../../engine/core/methods';
import type { RunRecord } from '../../engine/core/runs';
import { summarize, type Summary } from '../../engine/core/stats';
import { fmtMse, fmtPm } from '../runs';
import { latest, repeatRuns, settingsKey } from '../select';
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

/** Mean ± 95 % interval of the finished runs of this cell over seeds (repeats=N), when there are two or more. */
function cellRepeats(runs: RunRecord[], method: Method, c: ExperimentConfig, bits: number, lr?: number): Summary | null {
  const rs = repeatRuns(runs, method, c, { bits: true, lr: true }, (r) => r.config.quant.bits === bits && (lr === undefined || r.config.qaft.lr === lr));
  return rs.length > 1 ? summarize(rs.map((r) => r.loss as number)) : null;
}

interface CellData {
  run: RunRecord | null;
  rep: Summary | null;
}

function cellOf(runs: RunRecord[], method: Method, c: ExperimentConfig, bits: number, lr?: number): CellData {
  return { run: cellRun(runs, method, c, bits, lr), rep: cellRepeats(runs, method, c, bits, lr) };
}

function Cell({ cell: { run, rep }, best, testId }: { cell: CellData; best?: boolean; testId: string }) {
  if (rep)
    return (
      <td
        className={`num${best ? ' best' : ''}`}
        data-testid={testId}
        data-best={best ? 'true' : undefined}
        data-n={rep.n}
        title={`mean ± 95 % interval over ${rep.n} seeds (sd ${fmtMse(rep.sd)})`}
      >
        {fmtPm(rep.mean, rep.ci95)}
      </td>
    );
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
    const qaft = lrs.map((lr) => cellOf(runs, 'qaft', config, b, lr));
    // With repeats the best learning rate is the one with the lowest mean.
    const mses = qaft.map(({ run: r, rep }) => (rep ? rep.mean : r && r.status === 'done' && r.loss !== null && Number.isFinite(r.loss) ? r.loss : Infinity));
    const min = Math.min(...mses);
    return { b, qaft, best: Number.isFinite(min) ? mses.indexOf(min) : -1, rtn: cellOf(runs, 'rtn', config, b), gptq: cellOf(runs, 'gptq', config, b) };
  });
  const any = rows.some((r) => [r.rtn, r.gptq, ...r.qaft].some((c) => c.run));
  const repeated = rows.some((r) => [r.rtn, r.gptq, ...r.qaft].some((c) => c.rep));
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
                {r.qaft.map((cell, k) => (
                  <Cell key={lrs[k]} cell={cell} best={k === r.best} testId={`sweep-cell-${r.b}-${formatLr(lrs[k])}`} />
                ))}
                <Cell cell={r.rtn} testId={`sweep-rtn-${r.b}`} />
                <Cell cell={r.gptq} testId={`sweep-gptq-${r.b}`} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {any ? (
        <p className="muted small">
          — = not run yet with these settings. Hover a cell for its run. Change the bit-widths and learning rates in the “Sweep” panel.
          {repeated
            ? ' A cell with runs over several seeds (repeats=N) shows their mean ± the 95 % interval of the mean (t(0.975, n−1)·sd/√n), one exponent for both; the best learning rate is the lowest mean.'
            : ''}
        </p>
      ) : (
        <Empty>No runs for these settings yet. Press Run sweep (QAFT at every bit-width × learning rate, and RTN), or PTQ vs QAFT.{other}</Empty>
      )}
    </div>
  );
}
