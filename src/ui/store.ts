/**
 * The page's one zustand store: the experiment config (an ExperimentConfig, defaults from
 * src/engine/config.ts), the backend, the worker's state, finished runs, the live run and
 * messages. Side effects (worker, IndexedDB, URL) live in controller.ts.
 */
import type { Throughput } from '../engine/core/progress';
import { create } from 'zustand';
import type { BackendInfo } from '../engine/core/backend';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../engine/core/config';
import { type Method } from '../engine/core/methods';
import type { RunRecord } from '../engine/core/runs';
import type { LayerHistogram } from '../engine/poly/histogram';
import type { WorkerState } from '../engine/protocol';
import type { Plan } from '../engine/core/plans';
import type { SensitivityResult } from '../engine/poly/bitassign';
import type { CurvePoint } from '../engine/core/loop';
import type { LandscapeResult } from '../engine/poly/views';
import { setIn, type ConfigPath } from './config-path';
import type { ForeignFetch } from './origins';

export type MessageKind = 'error' | 'warning' | 'info';
export interface Message {
  id: number;
  kind: MessageKind;
  text: string;
}

/** The run the worker is training now. */
export interface LiveRun {
  runId: string;
  name: string;
  method: Method;
  total: number;
  step: number;
  curve: CurvePoint[];
  /** performance.now() and step of the latest point (or of the resume after a pause). */
  lastAt: number;
  lastStep: number;
  /** Optimizer steps per second over the latest logging window (null until one is done). */
  rate: number | null;
  /** performance.now() when the run started, and what one step processes (for samples/s or tokens/s and the time left). */
  startedAt: number;
  throughput?: Throughput;
  config: ExperimentConfig;
  /** Progress of work that is not training (GPTQ's layers). */
  stage: { done: number; total: number; label: string } | null;
}

/** A batch of methods sent to the worker with one `start`. */
export interface Batch {
  plan: Plan;
  methods: Method[];
  config: ExperimentConfig;
  /** The comparison reused the worker's cached FP model instead of retraining it. */
  reusedFp: boolean;
  /** Runs this batch will produce (an FP run is added when RTN/QAFT need one). */
  expected: number;
  finished: number;
}

/**
 * A question on screen: settings from a link would fetch from another origin. Nothing is
 * fetched or started until the user answers (controller.ts: allowFetch / declineFetch).
 */
export interface ConsentRequest {
  fetches: ForeignFetch[];
  /** What Allow starts: the link's `run` plan, or the run the user pressed (null = nothing). */
  starts: string | null;
}

export type BackendPhase = 'starting' | 'ready' | 'failed';

export type ProbeKind = 'landscape' | 'histograms' | 'sensitivity' | 'samples';
/** A probe request in flight in the worker. */
export interface Probe {
  id: string;
  kind: ProbeKind;
  /** Shown with the progress, e.g. "lines" or "radial sweeps". */
  phase: string;
  done: number;
  total: number;
}

/** A named endpoint of a landscape line: 'fp' or a run id. */
export interface LandscapePoint {
  id: string;
  label: string;
  method: Method;
}

export interface LandscapeView {
  fpKey: string;
  bits: number;
  lines: { from: LandscapePoint; to: LandscapePoint; points: LandscapeResult['lines'][number]['points'] }[];
  radial: LandscapeResult['radial'];
  /** L2 distance from the FP weights of each quantized run on a line from FP. */
  distances: { point: LandscapePoint; distance: number }[];
  /** Why a line is absent (no such run, weights not in memory). */
  notes: string[];
  /** Where a view that was not computed in this page comes from (a guided tour's shipped results). */
  source?: string;
}

export interface HistogramView {
  runId: string;
  runName: string;
  layers: LayerHistogram[];
}

export interface SensitivityView {
  fpKey: string;
  config: ExperimentConfig;
  result: SensitivityResult;
}

export const VIEW_IDS = ['sweep', 'pareto', 'local-global', 'landscape', 'weights', 'sensitivity'] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export interface LabState {
  config: ExperimentConfig;
  backend: BackendInfo | null;
  backendPhase: BackendPhase;
  workerState: WorkerState;
  /** Finished runs (done, diverged, stopped), oldest first. */
  runs: RunRecord[];
  runsLoaded: boolean;
  live: LiveRun | null;
  batch: Batch | null;
  /** fpKey of the FP model the worker holds (mirrors Lab's cache; reset on every init). */
  cachedFpKey: string | null;
  messages: Message[];
  /** Problems found in the link the page was opened with. */
  urlMessages: string[];
  /** `run=1|ptq|sweep` in the link: what to start once the backend is ready (null = nothing). */
  pendingRun: Plan | null;
  /** Fetches from another origin waiting for the user's Allow (null = no question). */
  consent: ConsentRequest | null;
  shareUrl: string;
  /** Ids of the runs finished since the worker's last init: only these have weights there. */
  sessionRunIds: string[];
  probe: Probe | null;
  landscape: LandscapeView | null;
  histograms: HistogramView | null;
  sensitivity: SensitivityView | null;
  view: ViewId;
  /** Embed mode (`embed=1&view=…` in the link): the one view the page shows, with its run button; null = the whole page. */
  embed: { view: string } | null;
  /** The bit-width the local-vs-global, landscape and weight views show (null = pick one). */
  viewBits: number | null;
  /** The guided tour on screen and its step (1-based), as in the link's `tour` and `step` (tours.ts plays it). */
  tour: { id: string; step: number } | null;

  setConfig(c: ExperimentConfig): void;
  setField(path: ConfigPath, value: unknown): void;
  addMessage(kind: MessageKind, text: string): void;
  dismissMessage(id: number): void;
  clearMessages(): void;
  setUrlMessages(m: string[]): void;
  setView(v: ViewId): void;
  setViewBits(b: number | null): void;
}

let messageId = 0;

export const useLab = create<LabState>()((set) => ({
  config: cloneConfig(DEFAULT_CONFIG),
  backend: null,
  backendPhase: 'starting',
  workerState: 'starting',
  runs: [],
  runsLoaded: false,
  live: null,
  batch: null,
  cachedFpKey: null,
  messages: [],
  urlMessages: [],
  pendingRun: null,
  consent: null,
  shareUrl: typeof location === 'undefined' ? '' : location.href,
  sessionRunIds: [],
  probe: null,
  landscape: null,
  histograms: null,
  sensitivity: null,
  view: 'sweep',
  embed: null,
  viewBits: null,
  tour: null,

  setConfig: (c) => set({ config: c }),
  setField: (path, value) => set((s) => ({ config: setIn(s.config, path, value) })),
  addMessage: (kind, text) =>
    set((s) => {
      // A message already on screen is not repeated.
      if (s.messages.some((m) => m.text === text && m.kind === kind)) return {};
      messageId += 1;
      return { messages: [...s.messages, { id: messageId, kind, text }].slice(-50) };
    }),
  dismissMessage: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
  clearMessages: () => set({ messages: [] }),
  setUrlMessages: (m) => set({ urlMessages: m }),
  setView: (v) => set({ view: v }),
  setViewBits: (b) => set({ viewBits: b }),
}));

/** True while the worker has a batch in hand (running or paused). */
export function isBusy(s: Pick<LabState, 'workerState' | 'batch'>): boolean {
  return s.batch !== null || s.workerState === 'running' || s.workerState === 'paused';
}

/** True while the worker is busy with a batch or a probe (it accepts no new work). */
export function isWorking(s: Pick<LabState, 'workerState' | 'batch' | 'probe'>): boolean {
  return isBusy(s) || s.probe !== null;
}
