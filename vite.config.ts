import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer). CORP cross-origin
// lets another site embed the page in an iframe even when that site is cross-origin isolated
// itself (its require-corp then demands it of the frame's document); see README, Embedding a view.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

const THREADED_FACTORY = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
const LOGICAL_CORES =
  'function _emscripten_num_logical_cores(){if(ENVIRONMENT_IS_NODE)return require("os").cpus().length;return navigator["hardwareConcurrency"]}';

/**
 * tfjs-backend-wasm starts its pthread workers from `wasmFactoryThreadedSimd.toString()`: the
 * source text of the emscripten factory function, run in each thread on its own. Bundled and
 * minified, that function refers to helpers outside itself ("e is not defined" in every thread).
 * This loads the factory module as its untouched source text, evaluated at run time, so the
 * function's toString() is the original self-contained emscripten code whatever the bundler does.
 * The same hook serves the build and the dev server's dependency pre-bundling.
 *
 * tfjs's C++ side caps the thread pool at half of emscripten_num_logical_cores() (it assumes two
 * hyper-threads per core), which is one thread on a 2-core machine whatever setThreadsCount asks.
 * The factory here reports twice navigator.hardwareConcurrency, so the cap becomes every logical
 * core and setThreadsCount (src/engine/core/backend.ts) decides.
 */
export function wasmThreadedFactory(): Plugin {
  return {
    name: 'tfjs-wasm-threaded-factory',
    enforce: 'pre',
    load(id) {
      const file = id.split('?')[0];
      if (!THREADED_FACTORY.test(file)) return null;
      const src = readFileSync(file, 'utf8');
      if (!src.includes(LOGICAL_CORES)) this.error(`${file}: emscripten_num_logical_cores not found (tfjs-backend-wasm changed?)`);
      const patched = src.replace(LOGICAL_CORES, LOGICAL_CORES.replace('return navigator', 'return 2*navigator'));
      return `export default new Function(${JSON.stringify(`${patched}\nreturn WasmBackendModuleThreadedSimd;`)})();\n`;
    },
  };
}

/** The lab's version and commit, for the speed page's shareable result. */
function labBuild(): { version: string; commit: string } {
  const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (
      execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    )
      commit += '+changes';
  } catch {
    // Not a git checkout (a tarball): the version alone.
  }
  return { version, commit };
}

export default defineConfig({
  define: { __LAB_BUILD__: JSON.stringify(labBuild()) },
  plugins: [react(), wasmThreadedFactory()],
  base: './',
  worker: { format: 'es', plugins: () => [wasmThreadedFactory()] },
  optimizeDeps: { rolldownOptions: { plugins: [wasmThreadedFactory()] } },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        speed: fileURLToPath(new URL('./speed.html', import.meta.url)),
      },
    },
  },
});
