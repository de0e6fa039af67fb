/** Small pieces shared by the views: the bit-width picker, probe progress, method legend. */
import type { ReactNode } from 'react';
import { formatBits } from '../../engine/core/config';
import { type Method } from '../../engine/core/methods';
import { METHOD_COLOUR, METHOD_LABEL } from '../runs';
import { availableBits, pickBits, runsOfFp } from '../select';
import { useLab, type ProbeKind } from '../store';

/** The bit-width a view shows, chosen among those with runs for the current settings. */
export function useViewBits(): { bits: number | null; available: number[] } {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const chosen = useLab((s) => s.viewBits);
  return { bits: pickBits(runs, config, chosen), available: availableBits(runs, config) };
}

export function BitsPicker({ testId }: { testId: string }) {
  const { bits, available } = useViewBits();
  const setViewBits = useLab((s) => s.setViewBits);
  if (available.length === 0) return null;
  return (
    <label className="bits-picker">
      <span>Bit-width</span>
      <select data-testid={testId} value={bits === null ? '' : String(bits)} onChange={(e) => setViewBits(Number(e.target.value))}>
        {available.map((b) => (
          <option key={b} value={String(b)}>
            {formatBits(b)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ProbeProgress({ kind }: { kind: ProbeKind }) {
  const probe = useLab((s) => s.probe);
  if (!probe || probe.kind !== kind) return null;
  return (
    <div className="probe-progress" data-testid={`${kind}-progress`} role="status">
      <span>
        Computing {probe.phase}: {probe.done} / {probe.total}
      </span>
      <progress max={Math.max(1, probe.total)} value={probe.done} />
    </div>
  );
}

export function MethodLegend({ methods, extra }: { methods: Method[]; extra?: ReactNode }) {
  return (
    <ul className="legend">
      {methods.map((m) => (
        <li key={m}>
          <span className="swatch-dot filled" style={{ background: METHOD_COLOUR[m], borderColor: METHOD_COLOUR[m] }} />
          {METHOD_LABEL[m]}
        </li>
      ))}
      {extra}
    </ul>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <p className="empty" data-testid="view-empty">
      {children}
    </p>
  );
}

/** Notes about missing runs or weights. */
export function Notes({ notes, testId }: { notes: string[]; testId?: string }) {
  if (notes.length === 0) return null;
  return (
    <ul className="view-notes" data-testid={testId}>
      {notes.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}

/** When no run matches the current settings: say whether runs with other quantizer settings exist. */
export function useOtherSettingsHint(): string {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const n = runsOfFp(runs, config).filter((r) => r.method === 'rtn' || r.method === 'gptq' || r.method === 'qaft').length;
  return n
    ? ` (${n} RTN/GPTQ/QAFT run${n > 1 ? 's' : ''} of this FP model used other quantizer, QAFT or budget settings: click a method in the results table to load its settings.)`
    : '';
}
