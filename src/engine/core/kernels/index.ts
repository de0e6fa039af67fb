/**
 * Custom kernels and the switch the engine's ops consult: fused fake-quant, GELU and AdamW on
 * WebGPU (webgpu.ts), the transformer's RMSNorm, causal attention, cross-entropy and
 * per-channel absmax fake-quant on WebGPU (transformer.ts), the format schemes' fake-quant on
 * WebGPU, wasm and cpu (formats.ts), a blocked 2-D transpose on wasm and cpu (cpu.ts). With the switch off,
 * or on another backend, the ops run their pure tf-op path, which computes the same values
 * (each fused kernel repeats the tf-op path's arithmetic).
 */
import * as tf from '@tensorflow/tfjs';
import { registerCpuKernels, TRANSPOSE_2D } from './cpu';
import { FORMAT_QUANT, formatAttrs, registerCpuFormatKernels, registerWebGpuFormatKernels } from './formats';
import { formatInfo } from '../quantizers/formats';
import type { QuantizerSpec } from '../quantizers/spec';
import { registerTransformerKernels, TRANSFORMER_KERNELS as TK } from './transformer';
import { adamMomentsInPlace, KERNELS, maxProgramInputs, registerWebGpuKernels } from './webgpu';

let enabled = true;
let registered = false;
let cpuRegistered = false;

/** Turn the fused kernels on or off (off = the pure tf-op path everywhere; for tests and benchmarks). */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

export function fusedKernelsEnabled(): boolean {
  return enabled;
}

/** Whether the fused kernels run for ops issued now (enabled, and the active backend is webgpu). */
export function useFused(): boolean {
  if (!enabled || tf.getBackend() !== 'webgpu') return false;
  if (!registered) {
    registerWebGpuKernels();
    registerTransformerKernels();
    registerWebGpuFormatKernels();
    registered = true;
  }
  return true;
}

/** xᵀ of a 2-D float32 tensor (no gradient: for use inside hand-written backward passes). */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const b = tf.getBackend();
  if (!enabled || (b !== 'wasm' && b !== 'cpu') || x.dtype !== 'float32') return tf.transpose(x);
  ensureCpuKernels();
  return runKernel(TRANSPOSE_2D, { x }) as tf.Tensor2D;
}

/** Register the kernels of the CPU backends (wasm, cpu) once: the transpose and the formats' fake-quant. */
function ensureCpuKernels(): void {
  if (cpuRegistered) return;
  registerCpuKernels();
  registerCpuFormatKernels();
  cpuRegistered = true;
}

/**
 * The format schemes' fake-quant (value only) of a weight [in, out] as one fused kernel
 * (kernels/formats.ts) on webgpu, wasm and cpu; null when the switch is off, the scheme is not a
 * format, or the backend has no such kernel (the caller then runs the tf-op chain).
 */
export function fusedFormatQuant(x: tf.Tensor2D, spec: QuantizerSpec): tf.Tensor | null {
  if (!enabled || !formatInfo(spec.scheme) || x.dtype !== 'float32') return null;
  const b = tf.getBackend();
  if (b === 'wasm' || b === 'cpu') ensureCpuKernels();
  else if (!useFused()) return null; // useFused registers the WebGPU kernels; false on any other backend
  return runKernel(FORMAT_QUANT, { x }, { ...formatAttrs(spec) });
}

function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
}

export interface FakeQuantParams {
  mode: 'ternary' | 'int';
  qn: number;
  qp: number;
  eps: number;
}

/** Fake-quant of x from its reduction r (mean|x| for ternary, max|x| for int), broadcast over x. */
export function fusedFakeQuant(x: tf.Tensor, r: tf.Tensor, q: FakeQuantParams): tf.Tensor {
  return runKernel(KERNELS.fakeQuant, { x, r }, { ...q });
}

export function fusedGelu(x: tf.Tensor): tf.Tensor {
  return runKernel(KERNELS.gelu, { x });
}

export function fusedGeluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return runKernel(KERNELS.geluGrad, { dy, x });
}

/**
 * AdamW moments of every parameter, in place in the optimizer's flat state mv [2·total] (m of
 * all parameters, then v; parameter i at offsets[i]): one program per as many gradients as a
 * program can bind (7 by default). mv must be a buffer no other tensor shares.
 */
export function fusedAdamMomentsInPlace(grads: tf.Tensor[], mv: tf.Tensor, offsets: number[], beta1: number, beta2: number): void {
  const backend = tf.backend();
  const per = Math.max(1, maxProgramInputs(backend));
  const total = mv.size / 2;
  for (let i = 0; i < grads.length; i += per) {
    adamMomentsInPlace(backend, grads.slice(i, i + per), mv, offsets[i], total, beta1, beta2);
  }
}

export interface AdamUpdateParams {
  decay: number;
  stepSize: number;
  invSqrtBc2: number;
  eps: number;
}

/** New parameter values from the new moments in the flat state mv (this parameter's m at `offset`, its v at mv.size/2 + offset). */
export function fusedAdamUpdate(param: tf.Tensor, mv: tf.Tensor, offset: number, u: AdamUpdateParams): tf.Tensor {
  return runKernel(KERNELS.adamUpdate, { param, mv }, { ...u, offset, total: mv.size / 2 });
}

/** Symmetric int fake-quant of W [in, out] with one absmax scale per output column (reduction included). */
export function fusedFakeQuantColAbsmax(x: tf.Tensor, qn: number, qp: number, eps: number): tf.Tensor {
  return runKernel(TK.fakeQuantColAbsmax, { x }, { qn, qp, eps });
}

/** RMSNorm of x [rows, d] with gain g [d]: forward, dx and the gain gradient. */
export function fusedRmsNorm(x: tf.Tensor, g: tf.Tensor, eps: number): tf.Tensor {
  return runKernel(TK.rmsNorm, { x, g }, { eps });
}

export function fusedRmsNormGrad(dy: tf.Tensor, x: tf.Tensor, g: tf.Tensor, eps: number): tf.Tensor {
  return runKernel(TK.rmsNormGrad, { dy, x, g }, { eps });
}

export function fusedRmsNormGainGrad(dy: tf.Tensor, x: tf.Tensor, eps: number): tf.Tensor {
  return runKernel(TK.rmsNormGainGrad, { dy, x }, { eps });
}

/** Causal attention of packed qkv [B·T, 3D] (`heads` heads, sequences of T): probabilities P [B, H, T, T]. */
export function fusedAttentionProbs(qkv: tf.Tensor, T: number, heads: number): tf.Tensor {
  return runKernel(TK.attentionProbs, { qkv }, { T, heads });
}

/** P·v with the heads merged: [B·T, D]. */
export function fusedAttentionOut(qkv: tf.Tensor, p: tf.Tensor, T: number, heads: number): tf.Tensor {
  return runKernel(TK.attentionOut, { qkv, p }, { T, heads });
}

/** The gradient of the attention output dy [B·T, D] with respect to qkv [B·T, 3D] (two programs). */
export function fusedAttentionGrad(qkv: tf.Tensor, p: tf.Tensor, dy: tf.Tensor, T: number, heads: number): tf.Tensor {
  return tf.tidy(() => {
    const ds = runKernel(TK.attentionScoreGrad, { qkv, p, dy }, { T, heads });
    return runKernel(TK.attentionGrad, { qkv, p, ds, dy }, { T, heads });
  });
}

/** −log softmax(logits)[target] per row of logits [N, V] (targets int32 [N]). */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return runKernel(TK.crossEntropy, { logits, targets });
}

/** dy (a scalar) · (softmax(logits) − onehot(targets)). */
export function fusedCrossEntropyGrad(dy: tf.Tensor, logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return runKernel(TK.crossEntropyGrad, { dy, logits, targets });
}

/** Σ over the rows of a 2-D x: [cols]. */
export function fusedColumnSum(x: tf.Tensor): tf.Tensor {
  return runKernel(TK.columnSum, { x });
}
