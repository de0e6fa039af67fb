/**
 * "Experiments to try": share links that open a setting and start what it shows (the
 * presets of src/engine/presets.ts). Following one replaces the settings, as any link does; the
 * runs already in the table stay.
 */
import { PRESETS } from '../../engine/presets';

export function Presets() {
  return (
    <details className="card presets" data-testid="presets">
      <summary>Experiments to try</summary>
      <p className="muted small">
        Each is a share link: it sets every setting and starts the runs it names. The runs already in the table stay; copy the link to share it.
      </p>
      <ul>
        {PRESETS.map((p) => (
          <li key={p.id}>
            <a href={`#${p.params}`} data-testid={`preset-${p.id}`}>
              {p.title}
            </a>
            <span className="preset-shows"> — {p.shows}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
