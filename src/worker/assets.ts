/** What both engine workers need to find the site's files: the wasm binaries and the site root. */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

/**
 * The site's root URL, for the shipped assets ("/lm/corpus.txt" → public/lm/corpus.txt): a worker
 * script lives under <root>/assets/ when built and <root>/src/worker/ in development.
 */
export function siteRoot(): string {
  const href = (self as unknown as WorkerGlobalScope).location.href;
  const cut = href.search(/\/(assets|src\/worker)\//);
  return cut >= 0 ? href.slice(0, cut + 1) : new URL('./', href).href;
}

/** A site path ("/lm/corpus.txt") as a URL under the site root; other URLs unchanged. */
export function resolveUrl(url: string): string {
  return url.startsWith('/') && !url.startsWith('//') ? new URL(url.slice(1), siteRoot()).href : url;
}
