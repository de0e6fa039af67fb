/**
 * Picks and initializes a tfjs backend: WebGPU first, then wasm, WebGL (browser) and cpu.
 * Works in a Web Worker and in Node (where the caller first installs `navigator.gpu`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendPref } from './config';

export type BackendName = Exclude<BackendPref, 'auto'>;

export interface BackendInfo {
  /** The active backend. */
  name: BackendName;
  /** Whether WebGPU (navigator.gpu with an adapter) exists here at all. */
  webgpuAvailable: boolean;
  /** GPU adapter description, when WebGPU is available. */
  adapter: string | null;
  /** True when the adapter is a CPU emulation (SwiftShader, llvmpipe). */
  adapterIsSoftware: boolean;
  /** wasm: the threads XNNPACK runs on (1 = single-threaded); null on other backends. */
  threads: number | null;
  /** Plain-language notes: why a preferred backend was not used, why wasm runs on one thread. */
  notes: string[];
}

export interface BackendOptions {
  /** Where the tfjs-backend-wasm .wasm files are (a folder URL/path or a file → URL map). */
  wasmPaths?: string | Record<string, string>;
  /** Order tried for 'auto'. */
  autoOrder?: BackendName[];
  /** In 'auto', skip a WebGPU adapter that is a CPU emulation (headless Node: wasm is faster). */
  avoidSoftwareGpu?: boolean;
  /**
   * wasm threads: 'auto' (default) uses the threaded SIMD build when the page is cross-origin
   * isolated (SharedArrayBuffer), on every logical core (at most 8, the emscripten pool); a number
   * asks for that many; 'off' forces the single-threaded build (for measuring the speed-up).
   * Must be decided before the wasm backend first starts in this realm.
   */
  wasmThreads?: 'auto' | 'off' | number;
}

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string; device?: string } } | null>;
}

function gpu(): GpuLike | undefined {
  return (globalThis as unknown as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

async function probeWebGpu(): Promise<{ ok: boolean; adapter: string | null; software: boolean }> {
  const g = gpu();
  if (!g) return { ok: false, adapter: null, software: false };
  try {
    const a = await g.requestAdapter();
    if (!a) return { ok: false, adapter: null, software: false };
    const i = a.info ?? {};
    const desc = [i.vendor, i.architecture, i.description || i.device].filter(Boolean).join(' ').trim() || 'unknown adapter';
    return { ok: true, adapter: desc, software: /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(desc) };
  } catch {
    return { ok: false, adapter: null, software: false };
  }
}

const registered = new Set<string>();

/** Every logical core, at most the 8 pthreads the threaded build starts with. */
function defaultWasmThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(8, n ?? 1));
}

/** The wasm backend's thread count and, when it runs on one thread, why. */
async function wasmThreads(o: BackendOptions): Promise<{ threads: number; note: string | null }> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const threads = wasm.getThreadsCount();
  if (threads > 1) return { threads, note: null };
  const g = globalThis as { crossOriginIsolated?: boolean; process?: unknown };
  const why =
    o.wasmThreads === 'off'
      ? 'threads are switched off'
      : g.process !== undefined && g.crossOriginIsolated === undefined
        ? 'tfjs runs wasm on one thread in Node'
        : g.crossOriginIsolated === false
          ? 'the page is not cross-origin isolated (no SharedArrayBuffer)'
          : 'the threaded build is not supported here';
  return { threads, note: `wasm runs on 1 thread: ${why}.` };
}

async function register(name: BackendName, o: BackendOptions): Promise<void> {
  if (registered.has(name)) return;
  if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (o.wasmPaths) wasm.setWasmPaths(o.wasmPaths as string);
    if (o.wasmThreads === 'off') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // tfjs's default is half the logical cores (clamped to 1..4): one thread on a 2-core machine.
    else wasm.setThreadsCount(typeof o.wasmThreads === 'number' ? o.wasmThreads : defaultWasmThreads());
  }
  registered.add(name);
}

async function trySet(name: BackendName, o: BackendOptions): Promise<boolean> {
  try {
    await register(name, o);
    if (!tf.findBackendFactory(name)) return false;
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

export const DEFAULT_AUTO_ORDER: BackendName[] = ['webgpu', 'wasm', 'webgl', 'cpu'];

export async function initBackend(pref: BackendPref, o: BackendOptions = {}): Promise<BackendInfo> {
  const probe = await probeWebGpu();
  const notes: string[] = [];
  const order = pref === 'auto' ? (o.autoOrder ?? DEFAULT_AUTO_ORDER) : [pref, ...DEFAULT_AUTO_ORDER.filter((b) => b !== pref)];
  if (!probe.ok && order[0] === 'webgpu') notes.push('WebGPU is not available here (no navigator.gpu or no GPU adapter).');
  for (const name of order) {
    if (name === 'webgpu' && !probe.ok) continue;
    if (name === 'webgpu' && pref === 'auto' && probe.software && o.avoidSoftwareGpu) {
      notes.push(`WebGPU adapter "${probe.adapter}" is a CPU emulation; using a CPU backend instead.`);
      continue;
    }
    if (await trySet(name, o)) {
      if (pref !== 'auto' && name !== pref) notes.push(`The ${pref} backend could not start; using ${name} instead.`);
      let threads: number | null = null;
      if (name === 'wasm') {
        const w = await wasmThreads(o);
        threads = w.threads;
        if (w.note) notes.push(w.note);
      }
      return { name, webgpuAvailable: probe.ok, adapter: probe.adapter, adapterIsSoftware: probe.software, threads, notes };
    }
    if (name === pref || (pref === 'auto' && name === order[0])) notes.push(`The ${name} backend failed to initialize.`);
  }
  throw new Error('No TensorFlow.js backend could be initialized.');
}
