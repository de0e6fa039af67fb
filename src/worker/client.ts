/** The page-side, typed wrapper around the engine's Web Worker. */
import type { BackendPref, ExperimentConfig, Method } from '../engine/config';
import type { WorkerRequest, WorkerResponse } from '../engine/protocol';

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

  start(config: ExperimentConfig, methods: Method[]): void {
    this.send({ type: 'start', config, methods });
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
