/**
 * One row per finished run; copyable as a Markdown table, exported as JSON (every run, whole)
 * or CSV (runs, curves), imported from a JSON export; two runs picked show their settings' diff.
 * Rows are kept in IndexedDB.
 */
import { useRef, useState, type ReactNode } from 'react';
import { curvesCsv, runsCsv, runsFileText } from '../../engine/runfile';
import { downloadText, fileStamp } from '../download';
import { importRunsFile } from '../file-drop';
import { ConfigDiff } from './ConfigDiff';
import type { Task } from '../../engine/core/config';
import type { RunRecord } from '../../engine/core/runs';
import { deleteRun, loadRunConfig } from '../controller';
import { LM_TABLE } from '../lm-runs';
import { colourMap, fmtStatus, markdownTable, POLY_TABLE, type TableSpec } from '../runs';
import { isBusy, useLab } from '../store';
import { copyText } from './ShareLink';

/** What the results table shows for each task: its columns, the other task's name, and the note under it. */
const TABLE_OF: Record<Task, { spec: TableSpec; className: string; other: string; note: ReactNode }> = {
  poly: {
    spec: POLY_TABLE,
    className: '',
    other: 'language model',
    note: (
      <p className="muted small">
        Test MSE over the whole test set; ratio = test MSE ÷ that of the FP run with the same data, model and FP settings. Storage: the weights as stored
        (codes, scales, zero points, codebooks; FP32 biases). Examples: training examples used after FP pretraining (GPTQ's calibration set, QAFT's and
        scratch's training set; RTN uses none). Click a method to load that run's settings.
      </p>
    ),
  },
  lm: {
    spec: LM_TABLE,
    className: ' lm-results',
    other: 'polynomial toy',
    note: (
      <p className="muted small">
        Val NLL: mean negative log-likelihood per token on the held-out end of the text, in nats (lower is better); perplexity = e^NLL; Δ vs FP: the NLL minus
        that of the FP run of the same model and text. Storage: the weights as stored (codes, scales, zero points; FP32 where not quantized). Seqs: training
        sequences (windows) used after FP pretraining (GPTQ's calibration set; QAFT's, QA-LoRA's and tiled QAT's training set; data-free QAFT's generated
        sequences). Figures: each method's own numbers. Click a method to load that run's settings.
      </p>
    ),
  },
};

export function ResultsTable() {
  const allRuns = useLab((s) => s.runs);
  const task = useLab((s) => s.config.task);
  const runs = allRuns.filter((r) => r.config.task === task);
  const view = TABLE_OF[task];
  const spec = view.spec;
  const others = allRuns.length - runs.length;
  const loaded = useLab((s) => s.runsLoaded);
  const live = useLab((s) => s.live);
  const busy = useLab(isBusy);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'manual'>('idle');
  const [picked, setPicked] = useState<string[]>([]);
  const importInput = useRef<HTMLInputElement>(null);
  const pickedRuns = picked.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunRecord => r !== undefined);
  const pick = (id: string, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id].slice(-2) : p.filter((x) => x !== id)));
  const base = `qaft-lab-${task}-${fileStamp()}`;
  const colours = colourMap([...runs.map((r) => r.id), ...(live && live.config.task === task ? [live.runId] : [])]);
  const md = markdownTable(runs, spec);
  const onCopy = async () => {
    if (await copyText(md)) {
      setCopy('copied');
      window.setTimeout(() => setCopy('idle'), 2000);
    } else setCopy('manual');
  };
  return (
    <section className="card" data-testid="results-card">
      <div className="card-head">
        <h2>Results</h2>
        <div className="table-tools">
          <button type="button" data-testid="copy-table" disabled={runs.length === 0} onClick={onCopy} title="Copy as a Markdown table">
            {copy === 'copied' ? 'Copied' : 'Copy table (Markdown)'}
          </button>
          <button
            type="button"
            data-testid="export-json"
            disabled={runs.length === 0}
            onClick={() => downloadText(runsFileText(runs, 'QAFT Lab page'), `${base}-runs.json`, 'application/json')}
            title="Every run of this experiment as one JSON file (configs, curves, metrics, samples): drop it on the page in another browser to import it"
          >
            Export JSON
          </button>
          <button
            type="button"
            data-testid="export-csv"
            disabled={runs.length === 0}
            onClick={() => downloadText(runsCsv(runs, spec), `${base}-runs.csv`, 'text/csv')}
            title="One row per run: the table's columns, the exact loss and every setting (config.<path>)"
          >
            CSV: runs
          </button>
          <button
            type="button"
            data-testid="export-curves-csv"
            disabled={runs.length === 0}
            onClick={() => downloadText(curvesCsv(runs), `${base}-curves.csv`, 'text/csv')}
            title="One row per logged point of every run: run_id, run_name, method, step, train_loss, test_loss, metric"
          >
            CSV: curves
          </button>
          <button
            type="button"
            data-testid="import-runs"
            onClick={() => importInput.current?.click()}
            title="Import a JSON export (or drop it anywhere on the page)"
          >
            Import…
          </button>
          <input
            ref={importInput}
            type="file"
            hidden
            accept=".json,application/json"
            multiple
            data-testid="import-runs-input"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              for (const f of files) void importRunsFile(f);
            }}
          />
        </div>
      </div>
      <div className="table-wrap">
        <table data-testid="results-table" className={`results${view.className}`}>
          <thead>
            <tr>
              {spec.head.map((h) => (
                <th key={h}>{h}</th>
              ))}
              <th className="pick" title="Pick two runs to see how their settings differ">
                Diff
              </th>
              <th aria-label="Delete" />
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => {
              const cells = spec.cells(r, runs);
              return (
                <tr key={r.id} data-testid="result-row" data-method={r.method} data-bits={r.bits} className={`status-${r.status}`}>
                  <td className="run-name">
                    <span className="cell">
                      <span className="swatch" style={{ borderColor: colours.get(r.id) }} />
                      <button
                        type="button"
                        className="link-btn"
                        disabled={busy}
                        onClick={() => loadRunConfig(r)}
                        title={`${r.name}: click to load this run's settings`}
                      >
                        {cells[0]}
                      </button>
                    </span>
                  </td>
                  {cells.slice(1).map((c, k) => {
                    const i = k + 1;
                    const status = spec.head[i] === 'Status';
                    return (
                      <td key={i} className={spec.cls[i]}>
                        {status ? fmtStatus(r) : c}
                        {status && r.notes?.length ? (
                          <span className="run-notes small muted" data-testid="run-notes" title={r.notes.join('\n')}>
                            {r.notes.join('; ')}
                          </span>
                        ) : null}
                      </td>
                    );
                  })}
                  <td className="pick">
                    <input
                      type="checkbox"
                      data-testid="diff-pick"
                      aria-label={`Compare the settings of ${r.name}`}
                      checked={picked.includes(r.id)}
                      onChange={(e) => pick(r.id, e.target.checked)}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="icon-btn"
                      data-testid="delete-run"
                      aria-label={`Delete ${r.name}`}
                      title="Delete this run"
                      onClick={() => deleteRun(r.id)}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {runs.length === 0 ? (
        <p className="empty">{loaded ? 'No runs yet. Press Run comparison; finished runs are listed here and kept in this browser.' : 'Loading saved runs…'}</p>
      ) : null}
      {others > 0 ? (
        <p className="muted small" data-testid="other-task-runs">
          {others} run{others > 1 ? 's' : ''} of the {view.other} {others > 1 ? 'are' : 'is'} hidden here: switch the experiment at the top of the settings to
          see {others > 1 ? 'them' : 'it'}.
        </p>
      ) : null}
      {pickedRuns.length === 2 ? (
        <ConfigDiff a={pickedRuns[0]} b={pickedRuns[1]} onClose={() => setPicked([])} />
      ) : pickedRuns.length === 1 ? (
        <p className="muted small" data-testid="config-diff-hint">
          Tick a second run to see how its settings differ from those of {pickedRuns[0].name}.
        </p>
      ) : null}
      {copy === 'manual' ? (
        <div className="manual-copy">
          <p className="muted">The clipboard is not available here: select the text below and copy it.</p>
          <textarea readOnly value={md} rows={Math.min(12, runs.length + 3)} onFocus={(e) => e.currentTarget.select()} />
        </div>
      ) : null}
      {view.note}
    </section>
  );
}
