/**
 * The speed page (speed.html): per backend, matmul GFLOP/s, the toy MLP's training samples/s, the
 * default GPT's training tokens/s and WebGPU programs per step, measured in a worker, with a JSON
 * result to copy. `#backends=webgpu,wasm,wasm1,webgl,cpu&mode=quick|full&run=1` preselects and starts.
 */
import { useEffect, useRef, useState } from 'react';
import { lmVariantLabel, SPEED_GPT_VARIANTS, SPEED_TOY_BITS, toyBitsLabel, type SpeedMode } from '../../engine/speed';
import type { LmVariant } from '../../engine/lm/bench';
import type { BenchBits } from '../../engine/poly/bench';
import { adapterInfo, LAB_BUILD, runVariant, speedReport, VARIANTS, wasmThreadSpeedup, type AdapterInfo, type Variant, type VariantRun } from './report';

interface HashSettings {
  ids: Variant['id'][];
  mode: SpeedMode;
  run: boolean;
  problems: string[];
}

export function parseSpeedHash(hash: string): HashSettings {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const problems: string[] = [];
  let ids = VARIANTS.map((v) => v.id);
  const b = p.get('backends');
  if (b !== null) {
    const asked = b.split(',').filter(Boolean);
    const bad = asked.filter((x) => !VARIANTS.some((v) => v.id === x));
    if (bad.length) problems.push(`backends: unknown ${bad.join(', ')} (use ${VARIANTS.map((v) => v.id).join(', ')})`);
    const good = asked.filter((x): x is Variant['id'] => VARIANTS.some((v) => v.id === x));
    if (good.length) ids = good;
  }
  const m = p.get('mode');
  if (m !== null && m !== 'quick' && m !== 'full') problems.push(`mode: ${m} is not quick or full`);
  return { ids, mode: m === 'full' ? 'full' : 'quick', run: p.get('run') === '1', problems };
}

/** The programs column's order, for its tooltip. */
const programsTitle = `WebGPU programs per training step: MLP ${SPEED_TOY_BITS.map(toyBitsLabel).join(' / ')} · GPT ${SPEED_GPT_VARIANTS.map(lmVariantLabel).join(' / ')}`;

const fmt = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? '–' : x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(digits);

function RunRow({ r }: { r: VariantRun }) {
  if (r.error || !r.result)
    return (
      <tr data-testid={`speed-row-${r.id}`}>
        <th>{r.label}</th>
        <td colSpan={3 + SPEED_TOY_BITS.length + SPEED_GPT_VARIANTS.length} className="speed-error">
          {r.error ?? 'no result'}
        </td>
      </tr>
    );
  const res = r.result;
  const toy = (bits: BenchBits) => res.toy.filter((t) => t.bits === bits);
  const gpt = (v: LmVariant) => res.gpt.find((g) => g.variant === v);
  const programs = [...res.toy, ...res.gpt].some((x) => x.gpu_programs_per_step !== null);
  const count = (x: { gpu_programs_per_step: number | null } | undefined) => x?.gpu_programs_per_step ?? '–';
  return (
    <tr data-testid={`speed-row-${r.id}`}>
      <th>
        {r.label}
        <div className="speed-sub">
          {[
            r.info?.threads ? `${r.info.threads} thread${r.info.threads === 1 ? '' : 's'}` : null,
            r.backend === 'webgpu' ? r.info?.adapter : null,
            r.slow ? 'small plan' : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        </div>
      </th>
      <td>
        {res.matmul.map((m) => (
          <div key={m.n}>
            {m.n}: <b>{fmt(m.gflops)}</b>
          </div>
        ))}
      </td>
      {SPEED_TOY_BITS.map((bits) => (
        <td key={bits}>
          {toy(bits).map((t) => (
            <div key={t.batch}>
              <b>{fmt(t.per_s)}</b> <span className="speed-sub">b{t.batch}</span>
            </div>
          ))}
        </td>
      ))}
      {SPEED_GPT_VARIANTS.map((v) => (
        <td key={v}>
          <b>{fmt(gpt(v)?.per_s)}</b> <span className="speed-sub">b{gpt(v)?.batch}</span>
        </td>
      ))}
      <td data-testid={`speed-programs-${r.id}`}>
        {programs ? (
          <>
            <div>MLP {SPEED_TOY_BITS.map((b) => count(toy(b)[0])).join(' / ')}</div>
            <div>GPT {SPEED_GPT_VARIANTS.map((v) => count(gpt(v))).join(' / ')}</div>
          </>
        ) : (
          '–'
        )}
      </td>
      <td>{r.wall_s} s</td>
    </tr>
  );
}

export function SpeedPage() {
  const initial = useRef(parseSpeedHash(location.hash)).current;
  const [selected, setSelected] = useState<Set<Variant['id']>>(new Set(initial.ids));
  const [mode, setMode] = useState<SpeedMode>(initial.mode);
  const [runs, setRuns] = useState<VariantRun[]>([]);
  const [status, setStatus] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [adapter, setAdapter] = useState<AdapterInfo | null>(null);
  const [copied, setCopied] = useState(false);
  const started = useRef(false);

  const start = async (ids: Set<Variant['id']>, m: SpeedMode) => {
    setBusy(true);
    setRuns([]);
    setCopied(false);
    const done: VariantRun[] = [];
    for (const v of VARIANTS.filter((x) => ids.has(x.id))) {
      setStatus(`${v.label}: starting…`);
      const r = await runVariant(v, m, (label) => setStatus(`${v.label}: ${label}…`));
      done.push(r);
      setRuns([...done]);
    }
    setStatus(`Done: ${done.filter((r) => !r.error).length} of ${done.length} backends measured.`);
    setBusy(false);
  };

  useEffect(() => {
    adapterInfo().then(setAdapter);
    if (initial.run && !started.current) {
      started.current = true;
      void start(new Set(initial.ids), initial.mode);
    }
  }, [initial]);

  const report = runs.length && !busy ? speedReport(runs, mode, adapter) : null;
  const json = report ? JSON.stringify(report, null, 2) : '';
  const speedup = wasmThreadSpeedup(runs);

  return (
    <div className="speed speed-main">
      <header className="header">
        <div>
          <h1>QAFT Lab · speed</h1>
          <p className="speed-sub">
            How fast this browser trains the lab's models, per backend. Version {LAB_BUILD.version} ({LAB_BUILD.commit}). <a href="./">Back to the lab</a>
          </p>
        </div>
      </header>
      <main className="speed-sections">
        <section className="panel" data-testid="speed-device">
          <h2>This machine</h2>
          <p>
            GPU adapter:{' '}
            <b data-testid="speed-adapter">
              {adapter ? [adapter.vendor, adapter.architecture, adapter.device || adapter.description].filter(Boolean).join(' ') || 'unnamed' : 'no WebGPU'}
            </b>{' '}
            · logical cores: {navigator.hardwareConcurrency ?? '?'} · cross-origin isolated (wasm threads): {globalThis.crossOriginIsolated ? 'yes' : 'no'}
          </p>
          <p className="speed-sub">{navigator.userAgent}</p>
        </section>
        {initial.problems.length > 0 && (
          <div className="backend-note warn" role="status">
            {initial.problems.map((p) => (
              <p key={p}>{p}</p>
            ))}
          </div>
        )}
        <section className="panel">
          <h2>Run</h2>
          <div className="speed-controls">
            {VARIANTS.map((v) => (
              <label key={v.id}>
                <input
                  type="checkbox"
                  data-testid={`speed-pick-${v.id}`}
                  checked={selected.has(v.id)}
                  disabled={busy}
                  onChange={(e) => {
                    const s = new Set(selected);
                    if (e.target.checked) s.add(v.id);
                    else s.delete(v.id);
                    setSelected(s);
                  }}
                />{' '}
                {v.label}
              </label>
            ))}
            <select data-testid="speed-mode" value={mode} disabled={busy} onChange={(e) => setMode(e.target.value as SpeedMode)}>
              <option value="quick">quick (seconds per backend)</option>
              <option value="full">full (the bench's batches; minutes)</option>
            </select>
            <button className="primary" data-testid="speed-run" disabled={busy || selected.size === 0} onClick={() => void start(selected, mode)}>
              Run
            </button>
          </div>
          <p data-testid="speed-status" className="speed-sub" role="status">
            {status || 'Each backend runs in its own worker, one after another; WebGPU and wasm are the ones the lab uses.'}
          </p>
        </section>
        {runs.length > 0 && (
          <section className="panel">
            <h2>Results</h2>
            <table className="speed-table" data-testid="speed-table">
              <thead>
                <tr>
                  <th rowSpan={2}>backend</th>
                  <th rowSpan={2}>matmul GFLOP/s (n)</th>
                  <th colSpan={SPEED_TOY_BITS.length} className="speed-group">
                    MLP samples/s
                  </th>
                  <th colSpan={SPEED_GPT_VARIANTS.length} className="speed-group">
                    GPT tokens/s
                  </th>
                  <th rowSpan={2} title={programsTitle}>
                    GPU programs/step
                  </th>
                  <th rowSpan={2}>time</th>
                </tr>
                <tr>
                  {SPEED_TOY_BITS.map((b) => (
                    <th key={b}>{toyBitsLabel(b)}</th>
                  ))}
                  {SPEED_GPT_VARIANTS.map((v) => (
                    <th key={v}>{lmVariantLabel(v)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <RunRow key={r.id} r={r} />
                ))}
              </tbody>
            </table>
            {speedup && (
              <p data-testid="speed-threads">
                wasm with {speedup.threads} threads vs 1 thread: MLP {speedup.toy.map((t) => `${toyBitsLabel(t.bits)} ×${t.ratio ?? '–'}`).join(', ')}; GPT{' '}
                {speedup.gpt.map((g) => `${lmVariantLabel(g.variant)} ×${g.ratio ?? '–'}`).join(', ')}; matmul{' '}
                {speedup.matmul.map((m) => `${m.n}: ×${m.ratio ?? '–'}`).join(', ')}.
              </p>
            )}
          </section>
        )}
        {report && (
          <section className="panel">
            <h2>Result to share</h2>
            <button
              data-testid="speed-copy"
              onClick={() =>
                navigator.clipboard.writeText(json).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? 'Copied' : 'Copy JSON'}
            </button>
            <textarea className="speed-json" data-testid="speed-json" readOnly value={json} rows={14} />
          </section>
        )}
      </main>
    </div>
  );
}
