/**
 * A blocked 2-D transpose for the CPU backends (wasm, cpu). Their Transpose kernels walk the
 * output in order with strided reads (~10 ns per element on [4096, 512]); copying 32×32 tiles
 * keeps both sides in cache (~2.5× faster). Exact: it only moves values.
 *
 * The wasm kernel works on views of the wasm heap (backend.typedArrayFromHeap), taken after
 * the output is allocated because an allocation may grow (and so move) the heap.
 */
import * as tf from '@tensorflow/tfjs';

export const TRANSPOSE_2D = 'QaftTranspose2D';

const TILE = 32;

function blockedTranspose(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, cols);
      for (let i = i0; i < i1; i++) {
        const row = i * cols;
        for (let j = j0; j < j1; j++) dst[j * rows + i] = src[row + j];
      }
    }
  }
}

/** The parts of the wasm and cpu backends a JavaScript kernel uses. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

export interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

function shapeOf(x: tf.TensorInfo): [number, number] {
  if (x.shape.length !== 2 || x.dtype !== 'float32') throw new Error(`${TRANSPOSE_2D} takes a 2-D float32 tensor, got ${x.dtype} [${x.shape}]`);
  return x.shape as [number, number];
}

const wasmTranspose: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = shapeOf(x);
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([cols, rows], 'float32');
  blockedTranspose(b.typedArrayFromHeap(x), b.typedArrayFromHeap(out), rows, cols);
  return out;
};

const cpuTranspose: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = shapeOf(x);
  const b = backend as unknown as CpuBackendLike;
  const dst = new Float32Array(rows * cols);
  blockedTranspose(b.data.get(x.dataId).values, dst, rows, cols);
  return b.makeTensorInfo([cols, rows], 'float32', dst);
};

/** Register the CPU-backend kernels (idempotent). */
export function registerCpuKernels(): void {
  const configs: tf.KernelConfig[] = [
    { kernelName: TRANSPOSE_2D, backendName: 'wasm', kernelFunc: wasmTranspose },
    { kernelName: TRANSPOSE_2D, backendName: 'cpu', kernelFunc: cpuTranspose },
  ];
  for (const c of configs) if (!tf.getKernel(c.kernelName, c.backendName)) tf.registerKernel(c);
}
