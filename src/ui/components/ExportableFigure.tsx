/** A chart with a small "PNG / SVG" control: the same export (figure-export.ts) for every chart of the page. */
import { useRef, useState, type ReactNode } from 'react';
import { downloadBlob, slug } from '../download';
import { figureSvg, svgToPng } from '../figure-export';

export function ExportableFigure({ name, title, children }: { name: string; title: string; children: ReactNode }) {
  const body = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const save = async (kind: 'png' | 'svg') => {
    if (!body.current) return;
    setError(null);
    try {
      const { svg, width, height } = figureSvg(body.current, title);
      const blob = kind === 'svg' ? new Blob([svg], { type: 'image/svg+xml' }) : await svgToPng(svg, width, height);
      downloadBlob(blob, `${slug(title)}.${kind}`);
    } catch (e) {
      setError(`The ${kind.toUpperCase()} could not be made: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <div className="figure" data-testid={`figure-${name}`}>
      <div className="figure-export" data-export="skip">
        <span className="muted">save</span>
        <button type="button" className="link-btn" data-testid={`export-png-${name}`} title={`“${title}” as a PNG image (2×)`} onClick={() => void save('png')}>
          PNG
        </button>
        <span className="muted">/</span>
        <button type="button" className="link-btn" data-testid={`export-svg-${name}`} title={`“${title}” as an SVG file`} onClick={() => void save('svg')}>
          SVG
        </button>
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
      <div ref={body} className="figure-body">
        {children}
      </div>
    </div>
  );
}
