/// <reference lib="webworker" />
/** The engine in a dedicated Web Worker: the page never runs tensors on its own thread. */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { parseConfig } from '../engine/config';
import { RunControl } from '../engine/control';
import { Lab } from '../engine/experiment';
import { toResponse, type WorkerRequest, type WorkerResponse } from '../engine/protocol';
import { histograms, landscape, sensitivity } from '../engine/views';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: WorkerResponse) => scope.postMessage(m);

let lab = new Lab();
let control: RunControl | null = null;
let busy = false;

const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

/**
 * The threaded wasm build starts its pthread workers from `wasmFactoryThreadedSimd.toString()`,
 * which breaks once the factory is bundled and minified ("e is not defined" in every thread,
 * and the backend never starts). Use the single-threaded SIMD build instead.
 */
async function useSingleThreadedWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm'); // registers the WASM_* flags
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}

async function handle(msg: WorkerRequest): Promise<void> {
  switch (msg.type) {
    case 'init': {
      if (busy) {
        post({ type: 'error', message: 'Stop the running experiment before changing the backend.' });
        return;
      }
      post({ type: 'state', state: 'starting' });
      await useSingleThreadedWasm();
      const info = await initBackend(msg.backend, { wasmPaths });
      // Tensors belong to a backend: start from a fresh lab (the FP model is retrained).
      lab.dispose();
      lab = new Lab();
      post({ type: 'ready', info });
      post({ type: 'state', state: 'idle' });
      return;
    }
    case 'start': {
      if (busy) {
        post({ type: 'error', message: 'An experiment is already running.' });
        return;
      }
      const config = parseConfig(msg.config);
      busy = true;
      control = new RunControl();
      post({ type: 'state', state: 'running' });
      try {
        const runs = await lab.runPlan(config, msg.plan ?? 'methods', msg.methods, (e) => post(toResponse(e)), control);
        post({ type: 'done', runIds: runs.map((r) => r.id) });
      } finally {
        busy = false;
        control = null;
        post({ type: 'state', state: 'idle' });
      }
      return;
    }
    case 'landscape':
    case 'histograms':
    case 'sensitivity': {
      if (busy) {
        post({ type: 'error', id: msg.id, message: 'Wait for the running experiment to finish (or stop it) first.' });
        return;
      }
      busy = true;
      const progress = (done: number, total: number) => post({ type: 'probe', id: msg.id, done, total });
      try {
        // Inside the try: an invalid config is answered with the probe's id, and frees the worker.
        const config = parseConfig(msg.config);
        if (msg.type === 'landscape') post({ type: 'landscape', id: msg.id, result: await landscape(lab, config, msg.request, progress) });
        else if (msg.type === 'histograms') post({ type: 'histograms', id: msg.id, runId: msg.runId, layers: histograms(lab, config, msg.runId, msg.bins) });
        else post({ type: 'sensitivity', id: msg.id, result: await sensitivity(lab, config, msg.bits, progress) });
      } catch (e) {
        post({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
      } finally {
        busy = false;
      }
      return;
    }
    case 'pause':
      control?.pause();
      if (control) post({ type: 'state', state: 'paused' });
      return;
    case 'resume':
      control?.resume();
      if (control) post({ type: 'state', state: 'running' });
      return;
    case 'stop':
      control?.stop();
      return;
  }
}

scope.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  handle(ev.data).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
};
