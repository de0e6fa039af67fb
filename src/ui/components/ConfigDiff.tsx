/** The settings of two runs side by side, like a code diff: the settings that differ, and the identical ones folded under a count. */
import { diffConfigs, flattenConfig } from '../../engine/core/configdiff';
import type { RunRecord } from '../../engine/core/runs';

const shown = (v: string | undefined) => (v === undefined ? '(absent)' : v === '' ? '""' : v);

export function ConfigDiff({ a, b, onClose }: { a: RunRecord; b: RunRecord; onClose: () => void }) {
  const d = diffConfigs(a.config, b.config);
  const same = [...flattenConfig(a.config)].filter(([p, v]) => flattenConfig(b.config).get(p) === v);
  return (
    <div className="config-diff" data-testid="config-diff">
      <div className="config-diff-head">
        <strong>
          Settings: <span className="diff-a">A</span> {a.name} vs <span className="diff-b">B</span> {b.name}
        </strong>
        <button type="button" className="icon-btn" aria-label="Close the comparison" onClick={onClose}>
          ×
        </button>
      </div>
      {d.changed.length === 0 ? (
        <p className="muted" data-testid="config-diff-none">
          The two runs have the same settings.
        </p>
      ) : (
        <table className="diff-table">
          <thead>
            <tr>
              <th>setting</th>
              <th>A</th>
              <th>B</th>
            </tr>
          </thead>
          <tbody>
            {d.changed.map((c) => (
              <tr key={c.path} data-testid="config-diff-row">
                <td className="mono">{c.path}</td>
                <td className="mono diff-del">− {shown(c.a)}</td>
                <td className="mono diff-add">+ {shown(c.b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details className="diff-same">
        <summary data-testid="config-diff-same">
          {d.same} identical setting{d.same === 1 ? '' : 's'}
        </summary>
        <ul className="mono small">
          {same.map(([p, v]) => (
            <li key={p}>
              {p} = {shown(v)}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
