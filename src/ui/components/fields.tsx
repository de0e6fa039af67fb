/**
 * Settings inputs bound to one config path. Typed values are checked with the field's zod
 * schema; an invalid value shows an inline message and leaves the config unchanged.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import { formatLr, SCHEDULES } from '../../engine/core/config';
import { checkNumber, getIn, schemaAt, type ConfigPath } from '../config-path';
import { useLab } from '../store';

interface Common {
  label: string;
  path: ConfigPath;
  testId: string;
  hint?: ReactNode;
  title?: string;
  /** A problem with this field in combination with others (e.g. configProblems), shown as an error. */
  problem?: string | null;
}

export function Row({
  id,
  label,
  hint,
  error,
  title,
  children,
  stacked,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string | null;
  title?: string;
  children: ReactNode;
  stacked?: boolean;
}) {
  return (
    <div className={`field${error ? ' invalid' : ''}${stacked ? ' stacked' : ''}`} title={title}>
      <label htmlFor={id}>{label}</label>
      <div className="control">{children}</div>
      {error ? (
        <div className="field-error" role="alert">
          {error}
        </div>
      ) : hint ? (
        <div className="field-hint">{hint}</div>
      ) : null}
    </div>
  );
}

/** A typed draft that follows the config unless it holds an uncommitted (invalid) edit. */
function useDraft(value: number, show: (v: number) => string) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // The config changed from elsewhere (slider, link, loaded run): drop a stale draft.
    setDraft((d) => (d !== null && Number(d) !== value ? null : d));
    setError(null);
  }, [value]);
  return { text: draft ?? show(value), draft, setDraft, error, setError };
}

/** Keep what was typed; write it to the config when the field's schema accepts it, else show why. */
function commitTyped(
  d: ReturnType<typeof useDraft>,
  raw: string,
  path: ConfigPath,
  value: number,
  label: string,
  setField: (p: ConfigPath, v: number) => void,
): void {
  d.setDraft(raw);
  const r = checkNumber(path, raw);
  if (r.ok) {
    d.setError(null);
    if (r.value !== value) setField(path, r.value);
  } else d.setError(`${label}: ${r.message}`);
}

export function NumberField({ label, path, testId, hint, title, problem, step = 1, min, list }: Common & { step?: number; min?: number; list?: string }) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as number;
  const setField = useLab((s) => s.setField);
  const d = useDraft(value, String);
  return (
    <Row id={id} label={label} hint={hint} error={d.error ?? problem} title={title}>
      <input
        id={id}
        data-testid={testId}
        type="number"
        inputMode="numeric"
        step={step}
        min={min}
        list={list}
        value={d.text}
        aria-invalid={d.error ? true : undefined}
        onChange={(e) => commitTyped(d, e.target.value, path, value, label, setField)}
        onBlur={() => {
          if (!d.error) d.setDraft(null);
        }}
      />
    </Row>
  );
}

const LOG_MIN = -6;
const LOG_MAX = 1;

/** Learning rate: a log-scale slider (1e-6 … 10) plus an exact text field ("3e-4", "0.0003"). */
export function LrField({ label, path, testId, hint, title }: Common) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as number;
  const setField = useLab((s) => s.setField);
  const d = useDraft(value, formatLr);
  const commitText = (raw: string) => commitTyped(d, raw, path, value, label, setField);
  const pos = Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log10(value)));
  return (
    <Row id={id} label={label} hint={hint} error={d.error} title={title}>
      <input
        className="lr-slider"
        data-testid={testId}
        type="range"
        min={LOG_MIN}
        max={LOG_MAX}
        step={0.05}
        value={pos}
        aria-label={`${label} (log scale)`}
        onChange={(e) => {
          const v = Number((10 ** Number(e.target.value)).toPrecision(2));
          d.setDraft(null);
          d.setError(null);
          setField(path, v);
        }}
      />
      <input
        id={id}
        className="lr-text"
        data-testid={`${testId}-text`}
        type="text"
        inputMode="decimal"
        spellCheck={false}
        value={d.text}
        aria-invalid={d.error ? true : undefined}
        onChange={(e) => commitText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commitText((e.target as HTMLInputElement).value);
        }}
        onBlur={() => {
          if (!d.error) d.setDraft(null);
        }}
      />
    </Row>
  );
}

export interface Option<T> {
  value: T;
  label: string;
}

export function SelectField<T extends string | number>({
  label,
  path,
  testId,
  hint,
  title,
  problem,
  options,
  onPick,
}: Common & { options: readonly Option<T>[]; onPick?: (v: T) => void }) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as T;
  const setField = useLab((s) => s.setField);
  return (
    <Row id={id} label={label} hint={hint} title={title} error={problem}>
      <select
        id={id}
        data-testid={testId}
        value={String(value)}
        aria-invalid={problem ? true : undefined}
        onChange={(e) => {
          const o = options.find((x) => String(x.value) === e.target.value);
          if (!o) return;
          if (onPick) onPick(o.value);
          else setField(path, o.value);
        }}
      >
        {options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </Row>
  );
}

export function CheckboxField({ label, path, testId, hint, title }: Common) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as boolean;
  const setField = useLab((s) => s.setField);
  return (
    <Row id={id} label={label} hint={hint} title={title}>
      <input id={id} data-testid={testId} type="checkbox" checked={value} onChange={(e) => setField(path, e.target.checked)} />
    </Row>
  );
}

/**
 * A comma-separated list of numbers ("8,4,2", "1e-4,3e-4"), checked with the field's schema
 * (each number and the list as a whole); an invalid list leaves the config unchanged.
 */
export function ListField({
  label,
  path,
  testId,
  hint,
  title,
  problem,
  show,
  check,
}: Common & { show: (v: number) => string; check?: (x: number) => string | null }) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as number[];
  const setField = useLab((s) => s.setField);
  const text = value.map(show).join(', ');
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // Changed from elsewhere (link, loaded run): drop a draft that no longer says the same.
    setDraft((d) => (d !== null && JSON.stringify(parseList(d)) === JSON.stringify(value) ? d : null));
    setError(null);
  }, [text]);
  const commit = (raw: string) => {
    setDraft(raw);
    const parts = raw
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const xs = parts.map(Number);
    const bad = parts.find((_, i) => !Number.isFinite(xs[i]));
    if (parts.length === 0) return setError(`${label}: enter at least one number.`);
    if (bad !== undefined) return setError(`${label}: "${bad}" is not a number.`);
    const why = check ? xs.map(check).find((m) => m !== null) : undefined;
    if (why) return setError(`${label}: ${why}`);
    const r = schemaAt(path).safeParse(xs);
    if (!r.success) return setError(`${label}: ${r.error.issues[0]?.message ?? 'invalid list'}.`);
    setError(null);
    if (JSON.stringify(r.data) !== JSON.stringify(value)) setField(path, r.data);
  };
  return (
    <Row id={id} label={label} hint={hint} title={title} error={error ?? problem}>
      <input
        id={id}
        data-testid={testId}
        type="text"
        spellCheck={false}
        value={draft ?? text}
        aria-invalid={error || problem ? true : undefined}
        onChange={(e) => commit(e.target.value)}
        onBlur={() => {
          if (!error) setDraft(null);
        }}
      />
    </Row>
  );
}

function parseList(raw: string): number[] {
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map(Number);
}

/** A free-text setting (a URL, a prompt), checked with the field's schema as it is typed. */
export function TextField({
  label,
  path,
  testId,
  hint,
  title,
  problem,
  placeholder,
  mono,
  stacked,
}: Common & { placeholder?: string; mono?: boolean; stacked?: boolean }) {
  const id = useId();
  const value = useLab((s) => getIn(s.config, path)) as string;
  const setField = useLab((s) => s.setField);
  const [error, setError] = useState<string | null>(null);
  return (
    <Row id={id} label={label} hint={hint} title={title} error={error ?? problem} stacked={stacked}>
      <input
        id={id}
        data-testid={testId}
        type="text"
        className={mono ? 'mono' : undefined}
        spellCheck={false}
        placeholder={placeholder}
        value={value}
        aria-invalid={error || problem ? true : undefined}
        onChange={(e) => {
          const r = schemaAt(path).safeParse(e.target.value);
          if (!r.success) return setError(`${label}: ${r.error.issues[0]?.message ?? 'invalid text'}.`);
          setError(null);
          setField(path, r.data);
        }}
      />
    </Row>
  );
}

const SCHEDULE_OPTIONS: Option<string>[] = SCHEDULES.map((s) => ({ value: s, label: s === 'linear' ? 'linear decay to 10%' : 'constant' }));

/** The fields every training config ends with (both tasks, FP and QAFT): LR schedule, weight decay and seed. */
export function OptimizerFields({ which, prefix, seedHint }: { which: 'fp' | 'qaft' | 'lmFp' | 'lmQaft'; prefix: string; seedHint: string }) {
  return (
    <>
      <SelectField label="LR schedule" path={[which, 'schedule']} testId={`${prefix}sched`} options={SCHEDULE_OPTIONS} />
      <NumberField label="Weight decay" path={[which, 'weightDecay']} testId={`${prefix}wd`} step={0.01} min={0} />
      <NumberField label="Seed" path={[which, 'seed']} testId={`${prefix}seed`} min={0} hint={seedHint} />
    </>
  );
}
