/**
 * Repeats (repeats=N): the runs of one method and setting over N seeds, as mean ± 95 % interval,
 * and for each pair at the same bits whether their difference is larger than the seed noise.
 */
import { compareGroups, groupRepeats, type RepeatGroup } from '../../engine/core/stats';
import { pageRepeatKey } from '../select';
import { useLab } from '../store';

const fmt = (x: number) => (!Number.isFinite(x) ? '–' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(3) : x.toPrecision(4));

export function RepeatsTable() {
  const runs = useLab((s) => s.runs);
  const task = useLab((s) => s.config.task);
  const groups = groupRepeats(
    runs.filter((r) => r.config.task === task),
    pageRepeatKey,
  ).filter((g) => g.n > 1);
  if (groups.length === 0) return null;
  const pairs: [RepeatGroup, RepeatGroup][] = [];
  const quantized = groups.filter((g) => g.method !== 'fp');
  for (let i = 0; i < quantized.length; i++)
    for (let j = i + 1; j < quantized.length; j++) if (quantized[i].bits === quantized[j].bits) pairs.push([quantized[i], quantized[j]]);
  const metric = groups[0].metric;
  return (
    <section className="card" data-testid="repeats-card">
      <div className="card-head">
        <h2>Repeats: mean ± 95 % interval</h2>
      </div>
      <div className="table-wrap">
        <table className="results" data-testid="repeats-table">
          <thead>
            <tr>
              <th>Run</th>
              <th className="num">n</th>
              <th className="num">
                {metric.name}
                {metric.unit ? ` (${metric.unit})` : ''}
              </th>
              <th className="num">± 95 %</th>
              <th className="num">sd</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={`${g.method} ${g.name}`} data-testid="repeat-row">
                <td>{g.name}</td>
                <td className="num">{g.n}</td>
                <td className="num">{fmt(g.mean)}</td>
                <td className="num">{fmt(g.ci95)}</td>
                <td className="num">{fmt(g.sd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pairs.length ? (
        <ul className="repeat-diffs small" data-testid="repeat-diffs">
          {pairs.map(([a, b]) => {
            const d = compareGroups(a, b);
            return (
              <li key={`${a.name}|${b.name}`} data-significant={d.significant}>
                {a.name} − {b.name}: {fmt(d.diff)} ± {fmt(d.ci95)} — <strong>{d.significant ? 'larger than the seed noise' : 'within the seed noise'}</strong>
              </li>
            );
          })}
        </ul>
      ) : null}
      <p className="muted small">
        Each row: the runs of one method and setting over the seeds of repeats=N (training data, initialization and batch order move; the test set stays; the
        language model keeps its FP model). The interval is the mean ± t(0.975, n−1)·sd/√n; a difference is larger than the noise when Welch’s 95 % interval of
        it excludes 0.
      </p>
    </section>
  );
}
