/**
 * The page's side effects, wired to the store: the engine worker (backend, runs, progress),
 * IndexedDB (saved runs) and the share URL in location.hash (replaceState, never pushState).
 */
import { cloneConfig, DEFAULT_CONFIG, formatLr, type ExperimentConfig } from '../engine/core/config';
import { fpKey, taskPlanItems, taskViews } from '../engine/tasks';
import { comparisonOf, methodsOf, type Method } from '../engine/core/methods';
import { FORMAT_PLAN_METHODS, PTQ_PLAN_METHODS, type Plan } from '../engine/core/plans';
import type { RunRecord } from '../engine/core/runs';
import { stepsPerSecond } from '../engine/core/progress';
import type { WorkerResponse } from '../engine/protocol';
import { configToParams, parseParams, type ParsedUrl } from '../engine/url';
import { tourStepParams } from '../engine/tours';
import { LabClient } from '../worker/client';
import { openRunStore, type RunStore } from './db';
import { parseRunsFile } from '../engine/runfile';
import { attachLmClient, handleLmMessage, resetLm } from './lm-controller';
import { attachProbeClient, handleProbeMessage, resetProbes } from './probes';
import { fetchesToAsk, linkForeignUrls, listHosts } from './origins';
import { configProblems, planProblems } from './problems';
import { methodProblemsOf } from '../engine/tasks';
import { METHOD_LABEL } from './runs';
import { UI_TASKS } from './tasks';
import { isBusy, isWorking, useLab, VIEW_IDS, type ViewId } from './store';

let client: LabClient | null = null;
let runStore: RunStore | null = null;
/** The hash this page wrote last: a hashchange to it is our own echo. */
let lastHash = '';
/** The backend preference of the last `init` sent. */
let initPref: string | null = null;

const st = useLab.getState;
const set = useLab.setState;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------- fetches from other origins

/**
 * URL values of other origins that arrived in a link (hf, text_url). Running settings that
 * fetch one of them waits for the user's Allow; URLs typed in the page need no question.
 */
const linkUrls = new Set<string>();
/** Hosts the user allowed in this page session (a reload asks again). */
const allowedHosts = new Set<string>();
/** The run the user pressed while its fetches waited for an answer (null: the link's own run, if any). */
let heldStart: { methods: Method[]; comparison: boolean; plan: Plan } | null = null;

const toAsk = (config: ExperimentConfig) => fetchesToAsk(config, location.href, linkUrls, allowedHosts);
const planLabel = (plan: Plan) =>
  plan === 'ptq' ? 'PTQ vs QAFT' : plan === 'sweep' ? 'the sweep' : plan === 'formats' ? 'the format comparison' : 'the comparison';

/** Allow the hosts of the question on screen, then start what waited for it. */
export function allowFetch(): void {
  const c = st().consent;
  if (!c) return;
  for (const f of c.fetches) allowedHosts.add(f.host);
  const held = heldStart;
  heldStart = null;
  set({ consent: null });
  if (held) startMethods(held.methods, held.comparison, held.plan);
  else maybeStartPending();
}

/** Fetch nothing and start nothing; the settings stay, and a Run asks again. */
export function declineFetch(): void {
  const c = st().consent;
  if (!c) return;
  heldStart = null;
  set({ consent: null, pendingRun: null });
  const hosts = listHosts([...new Set(c.fetches.map((f) => f.host))]);
  st().addMessage(
    'info',
    `Nothing was fetched from ${hosts}${c.starts ? ` and ${c.starts} was not started` : ''}. The settings are kept; a Run asks again before fetching.`,
  );
}

/** Settings changed while a question is on screen: ask about what they would fetch now. */
function refreshConsent(config: ExperimentConfig): void {
  const c = st().consent;
  if (!c) return;
  const ask = toAsk(config);
  const same = ask.length === c.fetches.length && ask.every((f, i) => f.url === c.fetches[i].url && f.key === c.fetches[i].key);
  if (same) return;
  if (ask.length) {
    set({ consent: { ...c, fetches: ask } });
    return;
  }
  // The user replaced or dropped the link's URLs: nothing is left to ask, and nothing starts on its own.
  heldStart = null;
  set({ consent: null, pendingRun: null });
}

// ---------------------------------------------------------------- share URL

function writeHash(): void {
  const { config, pendingRun, embed, tour } = st();
  const hash =
    '#' +
    configToParams(config, {
      ...(pendingRun ? { run: pendingRun === 'methods' ? '1' : pendingRun } : {}),
      ...(embed ? { embed: '1', view: embed.view } : {}),
      ...(tour ? tourStepParams(tour.id, tour.step) : {}),
    });
  if (location.hash !== hash) history.replaceState(history.state, '', hash);
  lastHash = location.hash;
  if (st().shareUrl !== location.href) set({ shareUrl: location.href });
}

/** Apply a link's settings; each problem in it is listed in the URL message box. */
function applyLink(hash: string): void {
  const bare = hash.replace(/^#/, '').trim();
  if (bare === '') {
    set({ urlMessages: [], embed: null });
    return;
  }
  let parsed: ParsedUrl;
  try {
    parsed = parseParams(bare);
  } catch (e) {
    // The parser should never throw; if it does, the page still opens, with the defaults.
    parsed = {
      config: cloneConfig(DEFAULT_CONFIG),
      messages: [`The link could not be read (${errorText(e).slice(0, 200)}); using the default settings.`],
      run: null,
      embed: false,
      view: null,
      tour: null,
    };
  }
  for (const url of linkForeignUrls(parsed.config, location.href)) linkUrls.add(url);
  heldStart = null;
  const ask = toAsk(parsed.config);
  // `view=` picks the tab of the whole page, or the one view an embed shows.
  if ((VIEW_IDS as readonly string[]).includes(parsed.view ?? '')) set({ view: parsed.view as ViewId });
  if (parsed.view) UI_TASKS[parsed.config.task].showView?.(parsed.view);
  set({
    embed: parsed.embed ? { view: parsed.view ?? taskViews(parsed.config.task)[0].id } : null,
    config: parsed.config,
    urlMessages: parsed.messages,
    pendingRun: parsed.run,
    // A link with a tour step opens it (tours.ts); a link without one closes the tour on screen.
    tour: parsed.tour,
    // Fetches from another origin wait for the user's answer, and so does the link's run.
    consent: ask.length ? { fetches: ask, starts: parsed.run ? planLabel(parsed.run) : null } : null,
  });
  maybeStartPending();
}

function onHashChange(): void {
  if (location.hash === lastHash) return;
  if (isBusy(st())) {
    st().addMessage('warning', 'The link changed while an experiment was running; its settings were applied, the running experiment keeps its own.');
  }
  applyLink(location.hash);
  writeHash();
}

// ---------------------------------------------------------------- backend and runs

function initBackend(): void {
  if (!client) return;
  const pref = st().config.backend;
  initPref = pref;
  set({ backendPhase: 'starting', backend: null, workerState: 'starting', cachedFpKey: null });
  resetProbes();
  resetLm();
  client.init(pref);
}

function maybeStartPending(): void {
  const s = st();
  const plan = s.pendingRun;
  // A question about fetching from another origin holds the link's run until it is answered.
  if (!plan || s.backendPhase !== 'ready' || s.consent) return;
  if (isWorking(s)) {
    set({ pendingRun: null });
    s.addMessage('warning', `The link asked to run ${planLabel(plan)}, but an experiment is already running.`);
    return;
  }
  if (plan === 'ptq') startPtqVsQaft();
  else if (plan === 'sweep') startSweep();
  else if (plan === 'formats') startFormats();
  else startComparison();
}

/** The data budget "PTQ vs QAFT" sets when it is 0 (all examples): a small calibration set. */
export const PTQ_DEFAULT_BUDGET = 128;

/** Runs a plan will add to the table (plus an FP run when the FP model is not cached). */
function plannedRuns(config: ExperimentConfig, plan: Plan, methods: Method[]): number {
  return taskPlanItems(config, plan, methods).reduce((n, item) => n + item.methods.length, 0);
}

/** Send methods of the current config, or a plan built from it, to the worker. */
export function startMethods(methods: Method[], comparison = false, plan: Plan = 'methods'): void {
  const s = st();
  if (!client || s.backendPhase !== 'ready' || isWorking(s)) return;
  const config: ExperimentConfig = structuredClone(s.config);
  const problems = [...configProblems(config), ...planProblems(config, plan)];
  if (problems.length) {
    s.addMessage('error', `Fix the settings first: ${problems.map((p) => `${p.key}: ${p.message}`).join(' ')}`);
    return;
  }
  // URLs of another origin from a link are fetched only after the user allows their host.
  const ask = toAsk(config);
  if (ask.length) {
    heldStart = { methods: [...methods], comparison, plan };
    const starts = plan !== 'methods' || (comparison && methods.length <= 4) ? planLabel(plan) : methods.map((m) => METHOD_LABEL[m]).join(', ');
    set({ consent: { fetches: ask, starts } });
    return;
  }
  let send = [...methods];
  let reusedFp = false;
  if (comparison) {
    // The worker reuses its FP model for RTN/QAFT when "fp" is not requested again; keep
    // retraining only when the table has no FP row for these settings.
    const key = fpKey(config);
    const haveRow = s.runs.some((r) => r.method === 'fp' && r.status === 'done' && fpKey(r.config) === key);
    if (s.cachedFpKey === key && haveRow) {
      send = send.filter((m) => m !== 'fp');
      reusedFp = true;
    }
  }
  const items = taskPlanItems(config, plan, send);
  const all = items.flatMap((i) => i.methods);
  const needsFp = !all.includes('fp') && all.some((m) => m !== 'scratch') && s.cachedFpKey !== fpKey(config);
  const expected = plannedRuns(config, plan, send) + (needsFp ? 1 : 0);
  set({ batch: { plan, methods: send, config, reusedFp, expected, finished: 0 }, pendingRun: null });
  client.start(config, send, plan);
}

/** A learning-rate × bit-width sweep of QAFT (with RTN per bit-width) over sweep.bits × sweep.lrs. */
export function startSweep(): void {
  startMethods(['rtn', 'qaft'], false, 'sweep');
}

/** RTN, GPTQ and QAFT at each of sweep.bits under one data budget (set to 128 when it is 0). */
export function startPtqVsQaft(): void {
  const s = st();
  if (!client || s.backendPhase !== 'ready' || isWorking(s)) return;
  if (s.config.data.budget === 0) {
    s.setField(['data', 'budget'], PTQ_DEFAULT_BUDGET);
    s.addMessage(
      'info',
      `PTQ vs QAFT compares the methods under one data budget, and the budget was 0 (all ${s.config.data.trainSize} examples): it is now ${PTQ_DEFAULT_BUDGET}. ` +
        `GPTQ calibrates on, and QAFT trains on, the first ${PTQ_DEFAULT_BUDGET} training examples` +
        (s.config.data.trainSize < PTQ_DEFAULT_BUDGET ? ` (here all ${s.config.data.trainSize}: there are no more)` : '') +
        '; see the PTQ panel.',
    );
  }
  startMethods([...PTQ_PLAN_METHODS], false, 'ptq');
}

/** FP → RTN → QAFT → scratch (polynomial toy) or FP → RTN → GPTQ → QAFT (language model). */
/** The format comparison (int4 g128, MXFP4, NVFP4, FP8 by RTN, GPTQ and QAFT). */
export function startFormats(): void {
  startMethods([...FORMAT_PLAN_METHODS], false, 'formats');
}

export function startComparison(): void {
  startMethods(comparisonOf(st().config.task), true);
}

/** Every method of the language-model task, FP first (LSQ and scale-only left out, with a note, where the quantizer does not suit them). */
export function startAllLm(): void {
  const c = st().config;
  const skip = (['lsq', 'scaleonly'] as const).filter((m) => methodProblemsOf(c, m).length > 0);
  if (skip.length && configProblems(c).length === 0)
    st().addMessage('info', `${skip.map((m) => METHOD_LABEL[m]).join(' and ')} left out: ${methodProblemsOf(c, skip[0])[0]}`);
  startMethods(
    methodsOf('lm').filter((m) => !(skip as readonly Method[]).includes(m)),
    true,
  );
}

export function pauseRun(): void {
  client?.pause();
}
export function resumeRun(): void {
  client?.resume();
}
export function stopRun(): void {
  client?.stop();
}

function describeEnd(run: RunRecord): void {
  const add = st().addMessage;
  if (run.status === 'diverged' && (run.lr === null || run.steps === 0)) {
    add('error', `${run.name}: the final ${run.metric.name} is NaN or infinite (see the run's notes); finished runs are kept.`);
  } else if (run.status === 'diverged' && run.diverged) {
    const d = run.diverged;
    const why = d.reason === 'non-finite' ? 'the loss became NaN or infinite' : 'the loss grew to over 1000× its starting value';
    add('error', `${run.name} diverged at step ${d.step} (lr ${formatLr(d.lr)}): ${why}. Try a smaller learning rate; finished runs are kept.`);
  } else if (run.status === 'stopped') {
    add('info', `${run.name} was stopped at step ${run.stepsDone} of ${run.steps}; it is kept in the table.`);
  }
}

function onResult(run: RunRecord): void {
  set((s) => ({
    runs: s.runs.some((r) => r.id === run.id) ? s.runs : [...s.runs, run],
    sessionRunIds: [...s.sessionRunIds, run.id],
    live: s.live?.runId === run.id ? null : s.live,
    cachedFpKey: run.method === 'fp' && run.status === 'done' ? fpKey(run.config) : s.cachedFpKey,
    batch: s.batch ? { ...s.batch, finished: s.batch.finished + 1 } : null,
  }));
  describeEnd(run);
  runStore?.put(run).catch((e: unknown) => {
    st().addMessage('warning', `"${run.name}" could not be saved in IndexedDB (${errorText(e)}); it stays on this page until a reload.`);
  });
}

function onMessage(m: WorkerResponse): void {
  if (handleLmMessage(m) || handleProbeMessage(m)) {
    // A backend change waits for a probe to finish.
    const s = st();
    if (s.probe === null && s.backendPhase === 'ready' && s.config.backend !== initPref && !isWorking(s)) initBackend();
    return;
  }
  switch (m.type) {
    case 'ready':
      set({ backend: m.info, backendPhase: 'ready', cachedFpKey: null });
      // The backend was changed again while this one was starting.
      if (st().config.backend !== initPref && !isBusy(st())) initBackend();
      else maybeStartPending();
      return;
    case 'state':
      if (m.state === 'idle') set({ workerState: 'idle', batch: null, live: null });
      else if (m.state === 'running' && st().workerState === 'paused') {
        // Resumed: the paused time is not training time.
        set((s) => ({ workerState: 'running', live: s.live ? { ...s.live, lastAt: performance.now() } : null }));
      } else set({ workerState: m.state });
      return;
    case 'progress': {
      const s = st();
      set({
        live: {
          runId: m.runId,
          name: m.name,
          method: m.method,
          total: m.total,
          step: m.step,
          curve: [],
          lastAt: performance.now(),
          lastStep: m.step,
          rate: null,
          startedAt: performance.now(),
          throughput: m.throughput,
          config: s.batch?.config ?? s.config,
          stage: null,
        },
      });
      return;
    }
    case 'stage':
      set((s) => (s.live && s.live.runId === m.runId ? { live: { ...s.live, stage: { done: m.done, total: m.total, label: m.label } } } : {}));
      return;
    case 'metrics':
      set((s) => {
        if (!s.live || s.live.runId !== m.runId) return {};
        const now = performance.now();
        const rate = stepsPerSecond(m.point.step - s.live.lastStep, now - s.live.lastAt);
        return {
          live: {
            ...s.live,
            step: m.point.step,
            total: m.total,
            curve: [...s.live.curve, m.point],
            lastAt: now,
            lastStep: m.point.step,
            // Steps/s over the last logging window (includes its test evaluation).
            rate: rate ?? s.live.rate,
          },
        };
      });
      return;
    case 'result':
      onResult(m.run);
      return;
    case 'notice':
      st().addMessage('warning', m.message);
      return;
    case 'error': {
      const s = st();
      if (s.backendPhase === 'starting') set({ backendPhase: 'failed', workerState: 'idle' });
      // A start that failed before running leaves the worker idle: nothing is in flight.
      if (s.workerState === 'idle' || s.workerState === 'starting') set({ batch: null, live: null });
      s.addMessage('error', m.message);
      return;
    }
    case 'done':
      set({ batch: null, live: null });
      return;
  }
}

// ---------------------------------------------------------------- saved runs

async function loadRuns(): Promise<void> {
  try {
    runStore = await openRunStore();
    const { runs, skipped } = await runStore.list();
    set((s) => {
      const have = new Set(runs.map((r) => r.id));
      const merged = [...runs, ...s.runs.filter((r) => !have.has(r.id))].sort((a, b) => a.createdAt - b.createdAt);
      return { runs: merged, runsLoaded: true };
    });
    if (skipped > 0) st().addMessage('warning', `${skipped} saved run(s) in IndexedDB were unreadable and are not shown.`);
  } catch (e) {
    runStore = null;
    set({ runsLoaded: true });
    // An embed on another site often gets no storage (third-party storage blocked); it keeps its runs on the page, and says nothing.
    if (st().embed) return;
    st().addMessage(
      'warning',
      `Saved runs are unavailable: IndexedDB could not be opened (${errorText(e)}). The lab works, but new runs are not kept after a reload.`,
    );
  }
}

/**
 * Delete a run: from IndexedDB first, then from the table, so a reload right after the click cannot
 * bring it back (an unfinished transaction may be dropped when the page unloads). If IndexedDB
 * fails, the row goes anyway, with a warning.
 */
export function deleteRun(id: string): void {
  const drop = () => set((s) => ({ runs: s.runs.filter((r) => r.id !== id) }));
  if (!runStore) return drop();
  runStore.delete(id).then(drop, (e: unknown) => {
    drop();
    st().addMessage('warning', `The run could not be deleted from IndexedDB (${errorText(e)}).`);
  });
}

/**
 * Import a runs export (JSON text from a file named `source`): its runs join the table and
 * IndexedDB; a run whose id is already here is not added again. A file that is not a runs
 * export, or has no usable run, gets an error message and changes nothing.
 */
export function importRunsText(text: string, source: string): void {
  const add = st().addMessage;
  let read;
  try {
    read = parseRunsFile(text, source);
  } catch (e) {
    add('error', `${errorText(e)} Nothing was imported; the runs on this page are unchanged.`);
    return;
  }
  const left = read.problems.length
    ? ` Left out ${read.problems.length}: ${read.problems.slice(0, 3).join('; ')}${read.problems.length > 3 ? '; …' : ''}.`
    : '';
  if (read.runs.length === 0) {
    add('error', `${source} holds no run this page can use.${left} Nothing was imported; the runs on this page are unchanged.`);
    return;
  }
  const have = new Set(st().runs.map((r) => r.id));
  const fresh = read.runs.filter((r) => !have.has(r.id) && (have.add(r.id), true));
  const already = read.runs.length - fresh.length;
  // URLs of another origin in an imported run's settings came from someone else, as a link's do: loading
  // that run's settings and running them asks before fetching.
  for (const run of fresh) for (const url of linkForeignUrls(run.config, location.href)) linkUrls.add(url);
  if (fresh.length) set((s) => ({ runs: [...s.runs, ...fresh].sort((a, b) => a.createdAt - b.createdAt) }));
  for (const run of fresh)
    runStore?.put(run).catch((e: unknown) => {
      st().addMessage('warning', `Imported "${run.name}" could not be saved in IndexedDB (${errorText(e)}); it stays on this page until a reload.`);
    });
  if (fresh.length === 0) {
    add('info', `All ${already} run${already === 1 ? '' : 's'} of ${source} ${already === 1 ? 'is' : 'are'} already here: nothing was added.${left}`);
    return;
  }
  const task = st().config.task;
  const other = fresh.filter((r) => r.config.task !== task);
  const otherTasks = [...new Set(other.map((r) => r.config.task))].map((t) => UI_TASKS[t].noun).join(' and ');
  add(
    read.problems.length ? 'warning' : 'info',
    `Imported ${fresh.length} run${fresh.length === 1 ? '' : 's'} from ${source}` +
      (already ? ` (${already} already here ${already === 1 ? 'was' : 'were'} not added again)` : '') +
      (other.length ? `; ${other.length} of them belong to the ${otherTasks}: switch the experiment to see them` : '') +
      `.${left}`,
  );
}

/** Load a finished run's settings (keeping the current backend). */
export function loadRunConfig(run: RunRecord): void {
  const s = st();
  if (isBusy(s)) return;
  set({ config: { ...structuredClone(run.config), backend: s.config.backend } });
  s.addMessage('info', `Loaded the settings of "${run.name}".`);
}

// ---------------------------------------------------------------- start

let started = false;

/** Start everything once (outside React, so StrictMode's double effects don't start two workers). */
export function startLab(): void {
  if (started) return;
  started = true;
  applyLink(location.hash);
  writeHash();
  useLab.subscribe((s, prev) => {
    if (s.config !== prev.config || s.pendingRun !== prev.pendingRun || s.tour !== prev.tour) writeHash();
    if (s.config !== prev.config) refreshConsent(s.config);
    if (s.config.backend !== prev.config.backend && s.backendPhase !== 'starting' && !isWorking(s)) initBackend();
  });
  window.addEventListener('hashchange', onHashChange);
  try {
    client = new LabClient({
      onMessage,
      onFailure: (message) => {
        set({ backendPhase: st().backendPhase === 'starting' ? 'failed' : st().backendPhase, batch: null, live: null, workerState: 'idle' });
        st().addMessage('error', message);
      },
    });
    attachProbeClient(client);
    attachLmClient(client);
    initBackend();
  } catch (e) {
    set({ backendPhase: 'failed' });
    st().addMessage('error', `The engine worker could not start: ${errorText(e)}`);
  }
  void loadRuns();
}
