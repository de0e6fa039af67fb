/**
 * The page's one zustand store: the experiment config (an ExperimentConfig, defaults from
 * src/engine/config.ts), the backend, the worker's state, finished runs, the live run and
 * messages. Side effects (worker, IndexedDB, URL) live in controller.ts.
 */
import { create } from 'zustand';
import type { BackendInfo } from '../engine/backend';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig, type Method } from '../engine/config';
import type { RunRecord } from '../engine/experiment';
import type { WorkerState } from '../engine/protocol';
import type { CurvePoint } from '../engine/train';
import { setIn, type ConfigPath } from './config-path';

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
  config: ExperimentConfig;
}

/** A batch of methods sent to the worker with one `start`. */
export interface Batch {
  methods: Method[];
  config: ExperimentConfig;
  /** The comparison reused the worker's cached FP model instead of retraining it. */
  reusedFp: boolean;
  /** Runs this batch will produce (an FP run is added when RTN/QAFT need one). */
  expected: number;
  finished: number;
}

export type BackendPhase = 'starting' | 'ready' | 'failed';

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
  /** `run=1` in the link: start the comparison once the backend is ready. */
  pendingRun: boolean;
  shareUrl: string;

  setConfig(c: ExperimentConfig): void;
  setField(path: ConfigPath, value: unknown): void;
  addMessage(kind: MessageKind, text: string): void;
  dismissMessage(id: number): void;
  clearMessages(): void;
  setUrlMessages(m: string[]): void;
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
  pendingRun: false,
  shareUrl: typeof location === 'undefined' ? '' : location.href,

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
}));

/** True while the worker has a batch in hand (running or paused). */
export function isBusy(s: Pick<LabState, 'workerState' | 'batch'>): boolean {
  return s.batch !== null || s.workerState === 'running' || s.workerState === 'paused';
}
