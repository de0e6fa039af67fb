/// <reference lib="webworker" />
/** The engine in a dedicated Web Worker: the page never runs tensors on its own thread. */
import { runPlan } from '../engine/core/plans';
import { initBackend } from '../engine/core/backend';
import { parseConfig } from '../engine/core/config';
import { RunControl } from '../engine/core/control';
import { Lab } from '../engine/poly/lab';
import { sortCheckpointFiles, type LmEnv } from '../engine/lm/assets';
import { LmLab } from '../engine/lm/lab';
import { toResponse, type WorkerRequest, type WorkerResponse } from '../engine/protocol';
import { histograms, landscape, sensitivity } from '../engine/poly/views';
import { resolveUrl, wasmPaths } from './assets';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: WorkerResponse) => scope.postMessage(m);

let lab = new Lab();

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(resolveUrl(url));
  } catch (e) {
    throw new Error(`the browser could not fetch ${url} (${(e as Error).message}; the server may not allow cross-origin requests)`);
  }
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
  return res;
}
const lmEnv: LmEnv = {
  fetchText: async (url) => (await fetchOk(url)).text(),
  async fetchBytes(url, maxBytes) {
    const res = await fetchOk(url);
    const len = Number(res.headers.get('content-length') ?? NaN);
    if (maxBytes !== undefined && len > maxBytes) throw new Error(`${url} is ${len} bytes, over the limit of ${maxBytes}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    if (maxBytes !== undefined && buf.length > maxBytes) throw new Error(`${url} is ${buf.length} bytes, over the limit of ${maxBytes}`);
    return buf;
  },
};
let lmLab = new LmLab(lmEnv);
let control: RunControl | null = null;
let busy = false;

/** Work on a kept LM model (a sample, an export) when nothing else runs; a failure answers request `id`. */
async function kept(id: string, work: () => Promise<void>): Promise<void> {
  if (busy) {
    post({ type: 'error', id, message: 'Wait for the running experiment to finish (or stop it) first.' });
    return;
  }
  busy = true;
  try {
    await work();
  } catch (e) {
    post({ type: 'error', id, message: e instanceof Error ? e.message : String(e) });
  } finally {
    busy = false;
  }
}

async function handle(msg: WorkerRequest): Promise<void> {
  switch (msg.type) {
    case 'init': {
      if (busy) {
        post({ type: 'error', message: 'Stop the running experiment before changing the backend.' });
        return;
      }
      post({ type: 'state', state: 'starting' });
      const info = await initBackend(msg.backend, { wasmPaths });
      // Tensors belong to a backend: start from a fresh lab (the FP model is retrained).
      lab.dispose();
      lab = new Lab();
      const assets = lmLab;
      lmLab = new LmLab(lmEnv);
      assets.transferAssetsTo(lmLab);
      assets.dispose();
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
        const emit = (e: Parameters<typeof toResponse>[0]) => post(toResponse(e));
        const labs = { poly: lab, lm: lmLab };
        const runs = await runPlan(labs[config.task], config, msg.plan ?? 'methods', msg.methods, emit, control);
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
    case 'lmText': {
      lmLab.setOwnText(msg.name, msg.text);
      post({ type: 'assets', ...lmLab.assets });
      return;
    }
    case 'lmFiles': {
      try {
        lmLab.setFiles(sortCheckpointFiles(msg.files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) }))));
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      post({ type: 'assets', ...lmLab.assets });
      return;
    }
    case 'sample':
      return kept(msg.id, async () =>
        post({ type: 'sample', id: msg.id, runId: msg.runId, text: await lmLab.sample(parseConfig(msg.config), msg.runId, msg.prompt) }),
      );
    case 'exportWeights':
      return kept(msg.id, async () => {
        const out = await lmLab.exportWeights(msg.runId);
        const files = out.files.map((f) => ({ name: f.name, bytes: f.bytes.slice().buffer as ArrayBuffer }));
        scope.postMessage(
          { type: 'weights', id: msg.id, runId: msg.runId, files, layout: out.layout, notes: out.notes } satisfies WorkerResponse,
          files.map((f) => f.bytes),
        );
      });
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
