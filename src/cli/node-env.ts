/**
 * Node-only setup for the engine: WebGPU through Dawn (the `webgpu` package) when it loads,
 * and the path of the wasm backend's binaries.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { initBackend, type BackendInfo } from '../engine/core/backend';
import type { BackendPref } from '../engine/core/config';

let gpuInstalled: boolean | null = null;

/** Install `navigator.gpu` from Dawn. Must run before the tfjs webgpu backend is imported. */
export async function installNodeWebGpu(): Promise<boolean> {
  if (gpuInstalled !== null) return gpuInstalled;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
    gpuInstalled = true;
  } catch {
    gpuInstalled = false;
  }
  return gpuInstalled;
}

export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'tfjs-backend-wasm.wasm'))) throw new Error(`wasm binaries not found in ${dist}`);
  return dist + path.sep;
}

/** The best backend in Node: a hardware GPU through Dawn, else wasm, else cpu. */
export async function initNodeBackend(pref: BackendPref): Promise<BackendInfo> {
  if (pref === 'auto' || pref === 'webgpu') await installNodeWebGpu();
  return initBackend(pref === 'webgl' ? 'auto' : pref, {
    wasmPaths: wasmDir(),
    autoOrder: ['webgpu', 'wasm', 'cpu'],
    avoidSoftwareGpu: true,
  });
}
