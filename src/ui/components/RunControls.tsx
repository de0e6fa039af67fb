/** Run buttons (comparison, one per method, sweep, PTQ vs QAFT), pause/resume/stop and the status line. */
import { progressText } from '../../engine/core/progress';
import { fpKey, methodProblemsOf } from '../../engine/tasks';
import { type Method } from '../../engine/core/methods';
import { pauseRun, resumeRun, stopRun } from '../controller';
import { compactMessages, configProblems, planProblems } from '../problems';
import { isBusy, isWorking, useLab } from '../store';
import { UI_TASKS } from '../tasks';
import { TASK_PARTS } from './task-parts';

function FpCached() {
  const cached = useLab((s) => s.cachedFpKey !== null && s.cachedFpKey === fpKey(s.config));
  const ready = useLab((s) => s.backendPhase === 'ready');
  const fpMissing = useLab((s) => UI_TASKS[s.config.task].fpMissing);
  if (!ready) return null;
  return cached ? (
    <span className="chip chip-ok" data-testid="fp-cached" title="Run comparison reuses the trained FP model instead of retraining it">
      FP model cached
    </span>
  ) : (
    <span className="chip" title="The FP model is trained first (settings changed or nothing trained yet)">
      {fpMissing}
    </span>
  );
}

/** The status line: what runs, its progress and rate; `idle` replaces the idle text (an embed names its own button). */
export function Status({ idle }: { idle?: string }) {
  const phase = useLab((s) => s.backendPhase);
  const state = useLab((s) => s.workerState);
  const live = useLab((s) => s.live);
  const batch = useLab((s) => s.batch);
  const probe = useLab((s) => s.probe);
  const task = useLab((s) => s.config.task);
  const asking = useLab((s) => s.consent !== null);
  const nRuns = useLab((s) => s.runs.filter((r) => r.config.task === s.config.task).length);
  let text: string;
  let frac: number | null = null;
  let rate = '';
  if (phase === 'starting') text = 'Starting the backend…';
  else if (phase === 'failed') text = 'The backend failed to start; choose another backend above.';
  else if (live) {
    const paused = state === 'paused' ? 'Paused: ' : '';
    if (live.total === 0 && live.stage) {
      text = `${paused}${live.name}: ${live.stage.label.replace(/^GPTQ:\s*/, '')}`;
      frac = live.stage.total > 0 ? live.stage.done / live.stage.total : null;
    } else if (live.total === 0) {
      text = `${paused}${live.name}: ${live.method === 'gptq' ? 'quantizing the first layer on the calibration data…' : live.method === 'fp' ? 'loading the model and evaluating…' : 'quantizing the FP weights and evaluating…'}`;
    } else {
      text = `${paused}${live.name}: step ${live.step}/${live.total}`;
      frac = live.step / live.total;
      rate = progressText(live.step, live.total, live.rate, live.lastAt - live.startedAt, live.throughput);
    }
  } else if (batch) text = state === 'paused' ? 'Paused' : 'Preparing the data and model…';
  else if (probe) {
    const what = {
      landscape: 'loss landscape',
      histograms: 'weight histograms',
      sensitivity: 'layer sensitivity',
      samples: 'text samples',
      inspect: 'block inspector',
    }[probe.kind];
    text = `Computing: ${what} (${probe.phase}) ${probe.done}/${probe.total}`;
    frac = probe.total > 0 ? probe.done / probe.total : null;
  } else if (asking) text = 'Waiting for your answer: the link would fetch from another site (see the question above).';
  else if (idle) text = idle;
  else text = nRuns ? 'Idle. Change a setting and run again, or press Run comparison.' : UI_TASKS[task].idleFirst;
  const plan = batch?.plan === 'sweep' ? 'sweep: ' : batch?.plan === 'ptq' ? 'PTQ vs QAFT: ' : '';
  const queue = batch ? `${plan}run ${Math.min(batch.finished + 1, batch.expected)} of ${batch.expected}` : '';
  return (
    <div className="status" data-testid="status" role="status">
      <span className="status-text">{text}</span>
      {batch ? (
        <span className="muted">
          {queue}
          {batch.reusedFp ? ' · reusing cached FP model' : ''}
        </span>
      ) : null}
      <progress max={1} value={frac ?? undefined} aria-label="Run progress" className={frac === null && !batch && !probe ? 'idle' : ''} />
      <span className="rate">{rate}</span>
    </div>
  );
}

/** Why nothing can run now (quantizer settings that do not fit), at the run buttons. */
function Blocked({ problems, planOnly, what }: { problems: string[]; planOnly: string[]; what: string }) {
  if (problems.length === 0 && planOnly.length === 0) return null;
  return (
    <div className="run-blocked" data-testid="run-blocked" role="alert">
      {problems.length ? (
        <>
          <strong>Runs are disabled until the {what} settings fit together:</strong> {problems.join(' ')}
        </>
      ) : (
        <>
          <strong>Sweep and PTQ vs QAFT are disabled:</strong> {planOnly.join(' ')}
        </>
      )}
    </div>
  );
}

export function Transport() {
  const busy = useLab(isBusy);
  const state = useLab((s) => s.workerState);
  return (
    <>
      <button type="button" data-testid="pause" disabled={!busy || state !== 'running'} onClick={pauseRun}>
        Pause
      </button>
      <button type="button" data-testid="resume" disabled={state !== 'paused'} onClick={resumeRun}>
        Resume
      </button>
      <button
        type="button"
        data-testid="stop"
        className="danger"
        disabled={!busy}
        onClick={stopRun}
        title="Stop after the current step; finished runs are kept"
      >
        Stop
      </button>
    </>
  );
}

export function RunControls() {
  const ready = useLab((s) => s.backendPhase === 'ready');
  const working = useLab(isWorking);
  const config = useLab((s) => s.config);
  const t = UI_TASKS[config.task];
  const Buttons = TASK_PARTS[config.task].RunButtons;
  const byKey = (ps: { key: string; message: string }[]) =>
    [...new Set(ps.map((p) => p.key))].map((k) => `${k}: ${compactMessages(ps.filter((p) => p.key === k).map((p) => p.message))}`);
  const problems = byKey(configProblems(config));
  const planOnly = byKey(t.planButtons.flatMap((plan) => planProblems(config, plan)));
  const canRun = ready && !working && problems.length === 0;
  // LSQ and scale-only need integer bits with a per-channel or per-tensor scale: say why not here.
  const methodWhy = (m: Method) => methodProblemsOf(config, m);
  const canPlan = canRun && planOnly.length === 0;
  return (
    <section className="run-controls">
      <div className="buttons">
        <Buttons canRun={canRun} canPlan={canPlan} methodWhy={methodWhy} />
        <span className="sep" />
        <Transport />
        <FpCached />
      </div>
      <Blocked problems={problems} planOnly={planOnly} what={t.settingsNoun} />
      <Status />
    </section>
  );
}
