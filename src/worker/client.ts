/** The page-side, typed wrapper around the engine's Web Worker. */
import type { BackendPref, Bits, ExperimentConfig } from '../engine/core/config';
import type { Method } from '../engine/core/methods';
import type { WorkerRequest, WorkerResponse } from '../engine/protocol';
import type { Plan } from '../engine/core/plans';
import type { LandscapeRequest } from '../engine/poly/views';

export interface LabClientHandlers {
  onMessage(m: WorkerResponse): void;
  /** The worker script failed to load or threw outside a request (message already readable). */
  onFailure(message: string): void;
}

export class LabClient {
  private readonly worker: Worker;

  constructor(h: LabClientHandlers) {
    this.worker = new Worker(new URL('./lab.worker.ts', import.meta.url), { type: 'module', name: 'qaft-lab-engine' });
    this.worker.onmessage = (e: MessageEvent<WorkerResponse>) => h.onMessage(e.data);
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      h.onFailure(`The engine worker failed: ${e.message || 'it could not be loaded'}.`);
    };
    this.worker.onmessageerror = () => h.onFailure('A message from the engine worker could not be read.');
  }

  private send(m: WorkerRequest): void {
    this.worker.postMessage(m);
  }

  init(backend: BackendPref): void {
    this.send({ type: 'init', backend });
  }

  /** Run methods of one config, or a plan (sweep, PTQ vs QAFT) built from it. */
  start(config: ExperimentConfig, methods: Method[], plan?: Plan): void {
    this.send(plan && plan !== 'methods' ? { type: 'start', config, methods, plan } : { type: 'start', config, methods });
  }

  /** Probes on the weights the worker keeps; answers carry the same `id`. */
  landscape(id: string, config: ExperimentConfig, request: LandscapeRequest): void {
    this.send({ type: 'landscape', id, config, request });
  }

  histograms(id: string, config: ExperimentConfig, runId: string, bins?: number): void {
    this.send({ type: 'histograms', id, config, runId, bins });
  }

  sensitivity(id: string, config: ExperimentConfig, bits: Bits[]): void {
    this.send({ type: 'sensitivity', id, config, bits });
  }

  /** The user's own text for the LM task (corpus 'own'). */
  lmText(name: string, text: string): void {
    this.send({ type: 'lmText', name, text });
  }

  /** Checkpoint files for the LM task (source 'files'); their buffers are transferred, not copied. */
  lmFiles(files: { name: string; bytes: ArrayBuffer }[]): void {
    this.worker.postMessage(
      { type: 'lmFiles', files } satisfies WorkerRequest,
      files.map((f) => f.bytes),
    );
  }

  /** New text from a kept LM run's model. */
  sample(id: string, config: ExperimentConfig, runId: string, prompt: string): void {
    this.send({ type: 'sample', id, config, runId, prompt });
  }

  /** A kept LM run's weights as safetensors (answered by `weights`). */
  exportWeights(id: string, runId: string): void {
    this.send({ type: 'exportWeights', id, runId });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  terminate(): void {
    this.worker.terminate();
  }
}
