/**
 * Plays a guided tour (src/engine/tours.ts) in the page. The store's `tour` ({id, step}, also in
 * the link as tour=…&step=…) says what is on screen; this module follows it: it fetches the tour's
 * shipped results (public/tours/<id>.json), sets each step's settings, runs, view and precomputed
 * landscape, and puts everything back when the tour closes.
 *
 * The tour's runs (ids "tour-…") live only in the page's state: they are never written to
 * IndexedDB. While a tour is open the user's own runs wait aside and come back, with every run
 * the user finished during the tour, when it closes; nothing the user computed is lost or mixed in.
 */
import { create } from 'zustand';
import type { RunRecord } from '../engine/core/runs';
import { fpKey } from '../engine/tasks';
import { isTourFile, tourById, TourResults, type Tour, type TourFile, type TourStep } from '../engine/tours';
import { parseParams } from '../engine/url';
import { startMethods, startPtqVsQaft, startSweep } from './controller';
import { upgradeRun } from '../engine/runfile';
import { landscapeLines } from './probes';
import { METHOD_LABEL } from './runs';
import { isWorking, useLab, type LabState, type LandscapePoint, type LandscapeView } from './store';

export interface TourPlayerState {
  /** The loaded file of the open tour (null while it loads or when none is open). */
  file: TourFile | null;
  loading: string | null;
  /** After "Run it yourself": the steps show the user's own runs of this tour instead of the shipped ones. */
  own: boolean;
}

export const useTourPlayer = create<TourPlayerState>()(() => ({ file: null, loading: null, own: false }));

const st = useLab.getState;
const set = useLab.setState;

export const isTourRun = (r: RunRecord) => r.id.startsWith('tour-');

/** The user's runs, settings and view tab from before the tour (null while no tour is open). */
let saved: ({ runs: RunRecord[] } & Pick<LabState, 'config' | 'view' | 'viewBits'>) | null = null;
/** Runs finished after this time in this page session are the user's runs during the tour: they stay on screen. */
let openedAt = 0;
/** Close restores the settings from before the tour (the Close button); a link that closes it keeps the link's. */
let restoreConfig = false;

const byCreated = (a: RunRecord, b: RunRecord) => a.createdAt - b.createdAt;

function mergeRuns(a: RunRecord[], b: RunRecord[]): RunRecord[] {
  const seen = new Set(a.map((r) => r.id));
  return [...a, ...b.filter((r) => !seen.has(r.id))].sort(byCreated);
}

/** The user's runs finished during the tour (shown with the tour), and the rest of the user's runs (kept aside). */
function splitOwn(s: LabState): { during: RunRecord[]; other: RunRecord[] } {
  const session = new Set(s.sessionRunIds);
  const mine = s.runs.filter((r) => !isTourRun(r));
  const during = mine.filter((r) => session.has(r.id) && r.createdAt >= openedAt);
  return { during, other: mine.filter((r) => !during.includes(r)) };
}

export function openTour(id: string, step = 1): void {
  set({ tour: { id, step } });
}

export function goToStep(step: number): void {
  const t = st().tour;
  if (t) set({ tour: { id: t.id, step } });
}

export function closeTour(): void {
  restoreConfig = true;
  set({ tour: null });
}

/** The runs a step shows: the shipped runs of its experiments and methods (each once). */
export function stepRuns(file: TourFile, step: TourStep): RunRecord[] {
  const out = new Map<string, RunRecord>();
  for (const exp of step.show.exps)
    for (const r of new TourResults(file).experiment(exp).runs)
      if ((!step.show.methods || step.show.methods.includes(r.method)) && (!step.show.bits || r.method === 'fp' || step.show.bits.includes(r.bits)))
        out.set(r.id, r);
  return [...out.values()];
}

/** The step's settings: its experiment's link, keeping the backend the user chose. */
function stepConfig(tour: Tour, step: TourStep): LabState['config'] {
  const exp = tour.experiments.find((e) => e.id === step.exp);
  const config = parseParams(exp ? exp.params : '').config;
  return { ...config, backend: st().config.backend };
}

/** The precomputed landscape of a step as the landscape view draws it, or null. */
function stepLandscape(file: TourFile, step: TourStep, config: LabState['config']): LandscapeView | null {
  if (step.view !== 'landscape' || step.viewBits === undefined) return null;
  const exp = new TourResults(file).experiment(step.exp);
  const l = exp.landscapes.find((x) => x.bits === step.viewBits);
  if (!l) return null;
  const points = new Map<string, LandscapePoint>([['fp', { id: 'fp', label: 'FP', method: 'fp' }]]);
  for (const r of exp.runs) points.set(r.id, { id: r.id, label: METHOD_LABEL[r.method], method: r.method });
  return {
    fpKey: fpKey(config),
    bits: l.bits,
    ...landscapeLines(l.result, points),
    radial: l.result.radial,
    notes: [],
    source: `Precomputed for this tour by npm run tours (${file.backend}, engine ${file.commit}): the weights behind it are not in this page. Run it yourself, then Compute landscape, to compute it here.`,
  };
}

function applyStep(tour: Tour, file: TourFile, k: number): void {
  const step = tour.steps[k - 1];
  if (!step) return;
  const s = st();
  const { during, other } = splitOwn(s);
  if (saved) saved.runs = mergeRuns(saved.runs, other);
  const own = useTourPlayer.getState().own;
  const config = stepConfig(tour, step);
  set({
    runs: own ? during : mergeRuns(stepRuns(file, step), during),
    config: isWorking(s) ? s.config : config,
    ...(step.view ? { view: step.view, viewBits: step.viewBits ?? null } : {}),
    landscape: own ? (s.landscape?.source ? null : s.landscape) : stepLandscape(file, step, config),
  });
}

let loadCounter = 0;

async function load(id: string): Promise<void> {
  const tour = tourById(id);
  if (!tour) return;
  const n = ++loadCounter;
  useTourPlayer.setState({ file: null, loading: id, own: false });
  const fail = (why: string) => {
    if (n !== loadCounter) return;
    useTourPlayer.setState({ loading: null });
    st().addMessage('error', `The tour "${tour.title}" could not be loaded (${why}). Your runs and settings are as before.`);
    closeTour();
  };
  let data: unknown;
  try {
    const res = await fetch(`${import.meta.env.BASE_URL}tours/${id}.json`);
    if (!res.ok) return fail(`HTTP ${res.status} for tours/${id}.json`);
    data = await res.json();
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  if (n !== loadCounter || st().tour?.id !== id) return;
  if (!isTourFile(data, id)) return fail(`tours/${id}.json is not a tour file of this version of the lab; run npm run tours`);
  // Each run as the page reads a saved one: a run it cannot show makes the file unusable.
  for (const e of data.experiments) {
    const runs = e.runs.map(upgradeRun);
    if (runs.some((r) => r === null || !isTourRun(r))) return fail(`tours/${id}.json has a run the lab cannot read in "${e.id}"`);
    e.runs = runs as RunRecord[];
  }
  try {
    // Every step's text must read from this file: a file that lacks a run fails here, not mid-tour.
    const r = new TourResults(data);
    for (const step of tour.steps) step.text(r);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  useTourPlayer.setState({ file: data, loading: null });
  const t = st().tour;
  if (t?.id === id) applyStep(tour, data, t.step);
}

function onTourChange(next: LabState['tour'], prev: LabState['tour']): void {
  if (next === null) {
    loadCounter += 1;
    useTourPlayer.setState({ file: null, loading: null, own: false });
    if (saved) {
      const s = st();
      const back = saved;
      saved = null;
      set({
        runs: mergeRuns(
          back.runs,
          s.runs.filter((r) => !isTourRun(r)),
        ),
        ...(restoreConfig && !isWorking(s) ? { config: { ...back.config, backend: s.config.backend }, view: back.view, viewBits: back.viewBits } : {}),
        landscape: s.landscape?.source ? null : s.landscape,
      });
    }
    restoreConfig = false;
    return;
  }
  const tour = tourById(next.id);
  if (!tour) return;
  if (!saved) {
    const s = st();
    saved = { runs: s.runs.filter((r) => !isTourRun(r)), config: s.config, view: s.view, viewBits: s.viewBits };
    openedAt = Date.now();
    set({ runs: [] });
  }
  const file = useTourPlayer.getState().file;
  if (file && file.tour === next.id && prev?.id === next.id) applyStep(tour, file, next.step);
  else void load(next.id);
}

/** "Run it yourself": the step's experiment with the current backend, live; the steps then show the user's runs. */
export function runItYourself(): void {
  const s = st();
  const t = s.tour;
  const tour = t ? tourById(t.id) : undefined;
  if (!t || !tour || isWorking(s) || s.backendPhase !== 'ready') return;
  const step = tour.steps[t.step - 1];
  const exp = tour.experiments.find((e) => e.id === step.exp);
  if (!exp) return;
  useTourPlayer.setState({ own: true });
  const file = useTourPlayer.getState().file;
  if (file) applyStep(tour, file, t.step);
  set({ config: stepConfig(tour, step) });
  if (exp.plan === 'ptq') startPtqVsQaft();
  else if (exp.plan === 'sweep') startSweep();
  else startMethods(exp.methods, true);
  // Where the live run shows first: the loss curves.
  document.querySelector('[data-testid="loss-chart"]')?.scrollIntoView({ block: 'start' });
}

/** Back to the shipped results after "Run it yourself" (the user's runs stay on screen beside them). */
export function showShipped(): void {
  useTourPlayer.setState({ own: false });
  const t = st().tour;
  const tour = t ? tourById(t.id) : undefined;
  const file = useTourPlayer.getState().file;
  if (t && tour && file) applyStep(tour, file, t.step);
}

let started = false;

/** Follow the store's tour (once, outside React); a link's tour opens as soon as this runs. */
export function startTours(): void {
  if (started) return;
  started = true;
  useLab.subscribe((s, prev) => {
    if (s.tour !== prev.tour && (s.tour?.id !== prev.tour?.id || s.tour?.step !== prev.tour?.step)) onTourChange(s.tour, prev.tour);
    // Saved runs that arrive from IndexedDB while a tour is open wait aside with the user's other runs.
    if (saved && s.runsLoaded && !prev.runsLoaded) {
      const { during, other } = splitOwn(s);
      saved.runs = mergeRuns(saved.runs, other);
      const file = useTourPlayer.getState().file;
      const tour = s.tour ? tourById(s.tour.id) : undefined;
      const shown = file && tour && s.tour && !useTourPlayer.getState().own ? stepRuns(file, tour.steps[s.tour.step - 1]) : [];
      set({ runs: mergeRuns(shown, during) });
    }
  });
  const t = st().tour;
  if (t) onTourChange(t, null);
}
