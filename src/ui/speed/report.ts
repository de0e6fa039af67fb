/** The speed page's backends, its worker runs, and the JSON it gives to copy. */
import type { BackendInfo, BackendName } from '../../engine/core/backend';
import type { SpeedMode, SpeedPlan, SpeedRequest, SpeedResponse, SpeedResult } from '../../engine/speed';

export interface Variant {
  id: 'webgpu' | 'wasm' | 'wasm1' | 'webgl' | 'cpu';
  backend: BackendName;
  wasmThreads: SpeedRequest['wasmThreads'];
  label: string;
}

export const VARIANTS: Variant[] = [
  { id: 'webgpu', backend: 'webgpu', wasmThreads: 'auto', label: 'WebGPU' },
  { id: 'wasm', backend: 'wasm', wasmThreads: 'auto', label: 'wasm (threads)' },
  { id: 'wasm1', backend: 'wasm', wasmThreads: 'off', label: 'wasm (1 thread)' },
  { id: 'webgl', backend: 'webgl', wasmThreads: 'auto', label: 'WebGL' },
  { id: 'cpu', backend: 'cpu', wasmThreads: 'auto', label: 'cpu (plain JS)' },
];

/** One variant's outcome. */
export interface VariantRun {
  id: Variant['id'];
  label: string;
  backend: BackendName;
  info: BackendInfo | null;
  plan: SpeedPlan | null;
  slow: boolean | null;
  corpus: 'corpus' | 'synthetic' | null;
  result: SpeedResult | null;
  error: string | null;
  wall_s: number;
}

/** The browser's WebGPU adapter as it describes itself (navigator.gpu adapter info). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export async function adapterInfo(): Promise<AdapterInfo | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Partial<AdapterInfo> } | null> } }).gpu;
  if (!gpu) return null;
  try {
    const a = await gpu.requestAdapter();
    if (!a) return null;
    const i = a.info ?? {};
    return { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' };
  } catch {
    return null;
  }
}

declare const __LAB_BUILD__: { version: string; commit: string } | undefined;
export const LAB_BUILD = typeof __LAB_BUILD__ !== 'undefined' ? __LAB_BUILD__ : { version: 'unknown', commit: 'unknown' };

/** Run one variant in a fresh worker; `progress` hears what it measures. */
export function runVariant(v: Variant, mode: SpeedMode, progress: (label: string) => void): Promise<VariantRun> {
  const t0 = performance.now();
  const out: VariantRun = {
    id: v.id,
    label: v.label,
    backend: v.backend,
    info: null,
    plan: null,
    slow: null,
    corpus: null,
    result: null,
    error: null,
    wall_s: 0,
  };
  return new Promise((resolve) => {
    const worker = new Worker(new URL('../../worker/speed.worker.ts', import.meta.url), { type: 'module', name: `qaft-speed-${v.id}` });
    const finish = () => {
      worker.terminate();
      out.wall_s = Number(((performance.now() - t0) / 1000).toFixed(1));
      resolve(out);
    };
    worker.onmessage = (e: MessageEvent<SpeedResponse>) => {
      const m = e.data;
      if (m.type === 'ready') out.info = m.info;
      else if (m.type === 'progress') progress(m.label);
      else if (m.type === 'result') {
        Object.assign(out, { info: m.info, plan: m.plan, slow: m.slow, corpus: m.corpus, result: m.result });
        finish();
      } else {
        out.error = m.message;
        if (m.info) out.info = m.info;
        finish();
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      out.error = `The speed worker failed: ${e.message || 'it could not be loaded'}.`;
      finish();
    };
    worker.postMessage({ type: 'run', backend: v.backend, wasmThreads: v.wasmThreads, mode } satisfies SpeedRequest);
  });
}

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? Number((a / b).toPrecision(3)) : null);

/** Threaded wasm ÷ one-thread wasm, per matmul size, toy point and GPT variant (when both ran). */
export function wasmThreadSpeedup(runs: VariantRun[]) {
  const on = runs.find((r) => r.id === 'wasm')?.result;
  const off = runs.find((r) => r.id === 'wasm1')?.result;
  const threads = runs.find((r) => r.id === 'wasm')?.info?.threads ?? null;
  if (!on || !off) return null;
  return {
    threads,
    matmul: on.matmul.map((m) => ({ n: m.n, ratio: ratio(m.gflops, off.matmul.find((o) => o.n === m.n)?.gflops) })),
    toy: on.toy.map((t) => ({ bits: t.bits, batch: t.batch, ratio: ratio(t.per_s, off.toy.find((o) => o.bits === t.bits && o.batch === t.batch)?.per_s) })),
    gpt: on.gpt.map((g) => ({
      variant: g.variant,
      batch: g.batch,
      ratio: ratio(g.per_s, off.gpt.find((o) => o.variant === g.variant && o.batch === g.batch)?.per_s),
    })),
  };
}

/** The JSON to copy: enough about the machine to compare results from different GPUs. */
export function speedReport(runs: VariantRun[], mode: SpeedMode, adapter: AdapterInfo | null) {
  return {
    benchmark: 'qaft-lab speed page',
    lab: LAB_BUILD,
    date: new Date().toISOString(),
    mode,
    user_agent: navigator.userAgent,
    hardware_concurrency: navigator.hardwareConcurrency ?? null,
    cross_origin_isolated: globalThis.crossOriginIsolated ?? false,
    gpu_adapter: adapter,
    units: {
      matmul: 'GFLOP/s of an n×n by n×n float32 matMul (2n³ flops), products enqueued back to back',
      toy: 'training samples/s of the MLP 14 → 512×4 → 200 (FP; QAFT with 1.58-bit ternary, MXFP4 or NVFP4 on every layer), AdamW',
      gpt: 'training tokens/s of the default GPT (4 layers, d 128, context 64; FP, and QAFT with int3 per row or MXFP4 on attention and MLP), AdamW',
      gpu_programs_per_step: 'WebGPU programs dispatched in one counted training step',
    },
    backends: runs.map((r) => ({
      id: r.id,
      label: r.label,
      backend: r.backend,
      available: r.error === null,
      error: r.error,
      threads: r.info?.threads ?? null,
      adapter: r.info?.adapter ?? null,
      adapter_is_software: r.info?.adapterIsSoftware ?? null,
      notes: r.info?.notes ?? [],
      slow_plan: r.slow,
      corpus: r.corpus,
      wall_s: r.wall_s,
      matmul: r.result?.matmul ?? [],
      toy: r.result?.toy ?? [],
      gpt: r.result?.gpt ?? [],
    })),
    wasm_thread_speedup: wasmThreadSpeedup(runs),
  };
}
