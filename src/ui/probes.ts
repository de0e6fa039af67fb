/**
 * Probe requests behind the views (loss landscape, weight histograms, layer sensitivity):
 * what to ask the worker, and its answers into the store. Only runs finished since the
 * worker's last init have weights there; runs restored from IndexedDB keep results only.
 */
import { fpKey } from '../engine/tasks';
import { type ExperimentConfig } from '../engine/core/config';
import type { RunRecord } from '../engine/core/runs';
import type { WorkerResponse } from '../engine/protocol';
import { LINE_TS, RADIAL_DIRECTIONS, RADIAL_STEPS, lineLength, radialDistances, type LandscapeResult } from '../engine/poly/views';
import type { LabClient } from '../worker/client';
import { METHOD_LABEL } from './runs';
import { latestRun, PTQ_METHODS } from './select';
import { isWorking, useLab, type LabState, type LandscapePoint, type LandscapeView, type ProbeKind } from './store';

let client: LabClient | null = null;
let counter = 0;

const st = useLab.getState;
const set = useLab.setState;

export function attachProbeClient(c: LabClient | null): void {
  client = c;
}

export { LINE_TS, RADIAL_DIRECTIONS, RADIAL_REACH, RADIAL_STEPS } from '../engine/poly/views';

const FP_POINT: LandscapePoint = { id: 'fp', label: 'FP', method: 'fp' };

/** Why the worker cannot probe the current settings, or null when it can. */
export function fpUnavailable(s: Pick<LabState, 'cachedFpKey' | 'backendPhase'>, c: ExperimentConfig): string | null {
  if (s.backendPhase !== 'ready') return 'The backend is not ready.';
  if (s.cachedFpKey !== fpKey(c))
    return 'The engine holds no FP model for these data, model and FP settings (a reload or a backend change drops it): run FP, or PTQ vs QAFT, first.';
  return null;
}

export interface LandscapeTargets {
  lines: [LandscapePoint, LandscapePoint][];
  notes: string[];
}

/** Lines FP→RTN, FP→GPTQ, FP→QAFT, RTN→QAFT from the latest runs of this session at `bits`. */
export function landscapeTargets(runs: RunRecord[], c: ExperimentConfig, bits: number, sessionIds: readonly string[]): LandscapeTargets {
  const session = new Set(sessionIds);
  const notes: string[] = [];
  const pts: Partial<Record<(typeof PTQ_METHODS)[number], LandscapePoint>> = {};
  for (const m of PTQ_METHODS) {
    const r = latestRun(runs, m, c, bits, session);
    const label = `${METHOD_LABEL[m]} ${bits}b`;
    if (r) pts[m] = { id: r.id, label: METHOD_LABEL[m], method: m };
    else if (latestRun(runs, m, c, bits))
      notes.push(`${label}: the run for these settings is from an earlier page session; its weights are not in the engine. Run it again to include it.`);
    else notes.push(`${label}: no run for these settings yet (run ${METHOD_LABEL[m]}, or PTQ vs QAFT).`);
  }
  const lines: [LandscapePoint, LandscapePoint][] = [];
  for (const m of PTQ_METHODS) if (pts[m]) lines.push([FP_POINT, pts[m] as LandscapePoint]);
  if (pts.rtn && pts.qaft) lines.push([pts.rtn, pts.qaft]);
  return { lines, notes };
}

interface PendingLandscape {
  id: string;
  phase: 'lines' | 'radial';
  config: ExperimentConfig;
  view: LandscapeView;
  targets: [LandscapePoint, LandscapePoint][];
}
let pendingLandscape: PendingLandscape | null = null;

function begin(kind: ProbeKind, phase: string, total: number): string | null {
  const s = st();
  if (!client || s.backendPhase !== 'ready' || isWorking(s)) return null;
  counter += 1;
  const id = `${kind}-${counter}`;
  set({ probe: { id, kind, phase, done: 0, total } });
  return id;
}

export function computeLandscape(bits: number): void {
  const s = st();
  const c = structuredClone(s.config);
  const why = fpUnavailable(s, c);
  if (why) return s.addMessage('warning', `Loss landscape: ${why}`);
  const t = landscapeTargets(s.runs, c, bits, s.sessionRunIds);
  if (t.lines.length === 0) return s.addMessage('warning', `Loss landscape: nothing to draw at ${bits}b. ${t.notes.join(' ')}`);
  const id = begin('landscape', 'lines', t.lines.length * LINE_TS.length);
  if (!id || !client) return;
  const view: LandscapeView = { fpKey: fpKey(c), bits, lines: [], radial: [], distances: [], notes: t.notes };
  pendingLandscape = { id, phase: 'lines', config: c, view, targets: t.lines };
  client.landscape(id, c, { lines: t.lines.map(([a, b]) => [a.id, b.id]), ts: LINE_TS, directions: 0, distances: [], seed: 1 });
}

/**
 * The lines of a landscape result as the view draws them (endpoints named), with each quantized
 * model's distance from FP; `points` names every run id of the request.
 */
export function landscapeLines(result: LandscapeResult, points: ReadonlyMap<string, LandscapePoint>): Pick<LandscapeView, 'lines' | 'distances'> {
  const lines = result.lines.map((l) => ({ from: points.get(l.from) as LandscapePoint, to: points.get(l.to) as LandscapePoint, points: l.points }));
  const distances = lines.filter((l) => l.from.id === 'fp').map((l) => ({ point: l.to, distance: lineLength(l.points) }));
  return { lines, distances };
}

function onLandscape(result: LandscapeResult): void {
  const p = pendingLandscape;
  if (!p || !client) return;
  if (p.phase === 'radial') {
    pendingLandscape = null;
    set({ landscape: { ...p.view, radial: result.radial }, probe: null });
    return;
  }
  const byId = new Map(p.targets.flat().map((x) => [x.id, x]));
  const notes = [...p.view.notes];
  for (const id of result.missing) {
    notes.push(`${byId.get(id)?.label ?? id}: its weights are no longer in the engine's memory (it keeps the most recent runs); run it again.`);
  }
  const view: LandscapeView = { ...p.view, ...landscapeLines(result, byId), notes };
  const distancesR = radialDistances(result.lines);
  if (distancesR.length === 0) {
    pendingLandscape = null;
    set({ landscape: view, probe: null });
    return;
  }
  counter += 1;
  const id = `landscape-${counter}`;
  pendingLandscape = { ...p, id, phase: 'radial', view };
  set({ probe: { id, kind: 'landscape', phase: 'radial sweeps', done: 0, total: RADIAL_DIRECTIONS * RADIAL_STEPS } });
  client.landscape(id, p.config, { lines: [], ts: [], directions: RADIAL_DIRECTIONS, distances: distancesR, seed: 1 });
}

let histogramRun: RunRecord | null = null;

export function computeHistograms(run: RunRecord): void {
  const s = st();
  if (!s.sessionRunIds.includes(run.id)) {
    return s.addMessage('warning', `Weights: "${run.name}" is from an earlier page session; only its results were kept, not its weights. Run it again.`);
  }
  const why = fpUnavailable(s, run.config);
  if (why) return s.addMessage('warning', `Weights: ${why}`);
  const id = begin('histograms', 'histograms', 1);
  if (!id || !client) return;
  histogramRun = run;
  client.histograms(id, run.config, run.id);
}

export function computeSensitivity(): void {
  const s = st();
  const c = structuredClone(s.config);
  const why = fpUnavailable(s, c);
  if (why) return s.addMessage('warning', `Sensitivity: ${why}`);
  const id = begin('sensitivity', 'layers × bit-widths', (c.model.depth + 1) * c.sweep.bits.length);
  if (!id || !client) return;
  pendingSensitivity = c;
  client.sensitivity(id, c, c.sweep.bits);
}
let pendingSensitivity: ExperimentConfig | null = null;

const KIND_LABEL: Record<ProbeKind, string> = {
  landscape: 'Loss landscape',
  histograms: 'Weight histograms',
  sensitivity: 'Sensitivity',
  samples: 'Text samples',
};

/** Handle a probe answer (true) or leave the message to the caller (false). */
export function handleProbeMessage(m: WorkerResponse): boolean {
  const probe = st().probe;
  switch (m.type) {
    case 'probe':
      if (probe?.id === m.id) set({ probe: { ...probe, done: m.done, total: m.total } });
      return true;
    case 'landscape':
      if (pendingLandscape?.id === m.id) onLandscape(m.result);
      return true;
    case 'histograms':
      if (probe?.id === m.id && histogramRun) set({ histograms: { runId: m.runId, runName: histogramRun.name, layers: m.layers }, probe: null });
      return true;
    case 'sensitivity':
      if (probe?.id === m.id && pendingSensitivity)
        set({ sensitivity: { fpKey: fpKey(pendingSensitivity), config: pendingSensitivity, result: m.result }, probe: null });
      return true;
    case 'error':
      if (m.id === undefined) return false;
      if (probe?.id === m.id) {
        if (pendingLandscape?.id === m.id) pendingLandscape = null;
        set({ probe: null });
        st().addMessage('error', `${KIND_LABEL[probe.kind]}: ${m.message}`);
      }
      return true;
    default:
      return false;
  }
}

/** The worker restarted (new backend): nothing is in flight, and no run has weights there. */
export function resetProbes(): void {
  pendingLandscape = null;
  pendingSensitivity = null;
  histogramRun = null;
  set({ probe: null, sessionRunIds: [] });
}
