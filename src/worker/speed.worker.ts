/// <reference lib="webworker" />
/**
 * The speed page's engine worker: starts one backend (wasm threaded or not), runs the engine's
 * speed suite (src/engine/speed.ts) and posts the result. The page starts a fresh worker per
 * backend, so each measures in a clean tfjs and a wasm thread setting can differ between runs.
 */
import { initBackend } from '../engine/core/backend';
import { benchTokens } from '../engine/lm/bench';
import { isSlowBackend, runSpeedSuite, speedPlan, type SpeedRequest, type SpeedResponse } from '../engine/speed';
import { resolveUrl, wasmPaths } from './assets';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: SpeedResponse) => scope.postMessage(m);

/** The shipped corpus the GPT trains on (null when it cannot be fetched: a synthetic stream then). */
async function corpus(): Promise<string | null> {
  try {
    const res = await fetch(resolveUrl('/lm/corpus.txt'));
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

async function run(m: SpeedRequest): Promise<void> {
  const info = await initBackend(m.backend, { wasmPaths, wasmThreads: m.wasmThreads });
  if (info.name !== m.backend) {
    post({ type: 'error', message: `The ${m.backend} backend is not available in this browser. ${info.notes.join(' ')}`.trim(), info });
    return;
  }
  post({ type: 'ready', info });
  const tokens = benchTokens(await corpus());
  const slow = isSlowBackend(info);
  const plan = speedPlan(m.mode, slow);
  const result = await runSpeedSuite(plan, tokens, (label) => post({ type: 'progress', label }));
  post({ type: 'result', info, plan, slow, corpus: tokens.source, result });
}

scope.onmessage = (ev: MessageEvent<SpeedRequest>) => {
  run(ev.data).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
};
