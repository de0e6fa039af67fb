/**
 * One real tfjs backend per test file: wasm by default (binaries from node_modules via
 * setWasmPaths(wasmDir())), falling back to cpu when wasm cannot start. Override with
 * QAFT_TEST_BACKEND=cpu|wasm. Call `await useBackend()` in the file's beforeAll.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { wasmDir } from '../../src/cli/node-env';

export type TestBackend = 'wasm' | 'cpu';

let chosen: Promise<TestBackend> | null = null;

function preferred(): TestBackend {
  const env = process.env.QAFT_TEST_BACKEND;
  return env === 'cpu' ? 'cpu' : 'wasm';
}

async function select(pref: TestBackend): Promise<TestBackend> {
  if (pref === 'wasm') {
    try {
      setWasmPaths(wasmDir());
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        if (tf.getBackend() === 'wasm') return 'wasm';
      }
    } catch (e) {
      process.stderr.write(`test backend: wasm failed (${(e as Error).message}); using cpu\n`);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('neither the wasm nor the cpu tfjs backend could start');
  await tf.ready();
  return 'cpu';
}

/** Selects the backend once (per file/process) and returns its name. */
export function useBackend(pref: TestBackend = preferred()): Promise<TestBackend> {
  chosen ??= select(pref);
  return chosen;
}
