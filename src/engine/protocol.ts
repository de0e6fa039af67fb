/** The typed message protocol between the page and the engine's Web Worker. */
import type { Throughput } from './core/progress';
import type { BackendInfo } from './core/backend';
import type { BackendPref, Bits, ExperimentConfig } from './core/config';
import type { Method } from './core/methods';
import type { LabEvent } from './core/runs';
import type { RunRecord } from './core/runs';
import type { LayerHistogram } from './poly/histogram';
import type { Plan } from './core/plans';
import type { SensitivityResult } from './poly/bitassign';
import type { LandscapeRequest, LandscapeResult } from './poly/views';
import type { CurvePoint } from './core/loop';

export type WorkerRequest =
  /** Choose (or change) the backend. Answered by `ready` or `error`. */
  | { type: 'init'; backend: BackendPref }
  /**
   * Run methods of one experiment (validated again in the worker). `plan` 'sweep' runs QAFT over
   * sweep.lrs × sweep.bits; 'ptq' runs RTN, GPTQ and QAFT at every sweep.bits; default 'methods'.
   */
  | { type: 'start'; config: ExperimentConfig; methods: Method[]; plan?: Plan }
  /** Probes on kept weights (answered by the same type, or `error`); `id` echoes back. */
  | { type: 'landscape'; id: string; config: ExperimentConfig; request: LandscapeRequest }
  | { type: 'histograms'; id: string; config: ExperimentConfig; runId: string; bins?: number }
  | { type: 'sensitivity'; id: string; config: ExperimentConfig; bits: Bits[] }
  /**
   * LM assets the URL cannot carry, kept by the worker until replaced: the user's own text
   * (corpus 'own') and checkpoint files dropped on the page (source 'files': config.json,
   * model.safetensors, tokenizer.json). Answered by `assets` or `error`.
   */
  | { type: 'lmText'; name: string; text: string }
  | { type: 'lmFiles'; files: { name: string; bytes: ArrayBuffer }[] }
  /** Generate text from a kept LM run's model (answered by `sample` or `error`). */
  | { type: 'sample'; id: string; config: ExperimentConfig; runId: string; prompt: string }
  /** A kept LM run's weights as safetensors (lm/export.ts; answered by `weights` or `error`). */
  | { type: 'exportWeights'; id: string; runId: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type WorkerState = 'starting' | 'idle' | 'running' | 'paused';

export type WorkerResponse =
  | { type: 'ready'; info: BackendInfo }
  | { type: 'state'; state: WorkerState }
  /** A run began (total = planned steps; 0 for RTN). */
  | { type: 'progress'; runId: string; name: string; method: Method; step: number; total: number; throughput?: Throughput }
  /** A new point of a run's loss curves (read back every `logEvery` steps). */
  | { type: 'metrics'; runId: string; point: CurvePoint; total: number }
  /** Progress of work that is not training, e.g. GPTQ's layers. */
  | { type: 'stage'; runId: string; done: number; total: number; label: string }
  /** A finished run (done, diverged or stopped): final, safe to save. */
  | { type: 'result'; run: RunRecord }
  | { type: 'notice'; message: string }
  /** `id` is set when the error answers a probe request. */
  | { type: 'error'; message: string; id?: string }
  | { type: 'landscape'; id: string; result: LandscapeResult }
  | { type: 'histograms'; id: string; runId: string; layers: LayerHistogram[] }
  | { type: 'sensitivity'; id: string; result: SensitivityResult }
  /** Progress of a probe request. */
  | { type: 'probe'; id: string; done: number; total: number }
  /** What the worker holds for the LM task (after lmText / lmFiles), described for the page. */
  | { type: 'assets'; text: { name: string; chars: number } | null; files: { name: string; bytes: number }[] }
  | { type: 'sample'; id: string; runId: string; text: string }
  /** A run's exported weights: model.safetensors, config.json (and tokenizer.json for a Hugging Face checkpoint). */
  | { type: 'weights'; id: string; runId: string; files: { name: string; bytes: ArrayBuffer }[]; layout: string; notes: string[] }
  /** The requested methods have all finished (or the batch was stopped). */
  | { type: 'done'; runIds: string[] };

/** Map an engine event onto the wire. */
export function toResponse(e: LabEvent): WorkerResponse {
  switch (e.type) {
    case 'runStart':
      return { type: 'progress', runId: e.runId, name: e.name, method: e.method, step: 0, total: e.total, throughput: e.throughput };
    case 'point':
      return { type: 'metrics', runId: e.runId, point: e.point, total: e.total };
    case 'stage':
      return { type: 'stage', runId: e.runId, done: e.done, total: e.total, label: e.label };
    case 'result':
      return { type: 'result', run: e.run };
    case 'notice':
      return { type: 'notice', message: e.message };
  }
}
