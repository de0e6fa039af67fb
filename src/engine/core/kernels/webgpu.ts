/**
 * Fused WGSL kernels for tfjs-backend-webgpu: fake-quant, GELU forward/backward, AdamW.
 *
 * Each program follows the backend's WebGPUProgram contract (webgpu_program.ts in tfjs 4.22):
 * the backend generates bindings, the Uniforms struct and the index helpers; we write `main`.
 * Flat dispatch layout, so `main(index)` gets the global index. Per-call values are uniforms,
 * never baked into the shader, so nothing recompiles when they change.
 *
 * Every kernel repeats, operation for operation, the WGSL that tfjs runs for the tf-op path it
 * replaces (binary_op_util.ts, unary_op_util.ts, clip_webgpu.ts), so results agree with that
 * path. WGSL `round()` rounds half to even (WGSL spec §17.5), like tf.round.
 *
 * Nothing here imports @tensorflow/tfjs-backend-webgpu: that package registers the backend at
 * import time and must load after navigator.gpu exists. The backend instance comes to each
 * kernel through its kernelFunc arguments.
 */
import * as tf from '@tensorflow/tfjs';

export type Uniform = { type: 'float32' | 'int32'; data: number[] };

export interface GpuProgram {
  outputShape: number[];
  shaderKey: string;
  variableNames: string[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: GpuProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms?: Uniform[], output?: tf.TensorInfo): tf.TensorInfo;
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
}

/** How many inputs one program may bind (storage buffers per stage, less the output). */
export function maxProgramInputs(backend: unknown): number {
  return (backend as WebGpuBackendLike).device.limits.maxStorageBuffersPerShaderStage - 1;
}

export const WORKGROUP = 128;

/** An elementwise program over a flat output: one thread per output element. */
export function flatProgram(key: string, outputShape: number[], variableNames: string[], uniforms: string, body: string): GpuProgram {
  return threadProgram(key, outputShape, null, variableNames, uniforms, body);
}

/**
 * A program over a flat output with `threads` threads (each may write many elements; the
 * caller passes `threads` as the first uniform), or with threads = null one thread per output
 * element (bounded by the generated `uniforms.size`).
 */
export function threadProgram(key: string, outputShape: number[], threads: number | null, variableNames: string[], uniforms: string, body: string): GpuProgram {
  const n = threads ?? outputShape.reduce((a, b) => a * b, 1);
  const bound = threads === null ? 'uniforms.size' : 'uniforms.threads';
  return {
    outputShape,
    shaderKey: key,
    variableNames,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(n / WORKGROUP)), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: threads === null,
    uniforms: threads === null ? uniforms : `threads : i32, ${uniforms}`,
    getUserCode: () => `
      ${HELPERS}
      fn main(index : i32) {
        if (index < ${bound}) {
          ${body}
        }
      }`,
  };
}

const { ERF_P, ERF_A1, ERF_A2, ERF_A3, ERF_A4, ERF_A5 } = tf.backend_util;

/** The tfjs-webgpu Erf (Abramowitz–Stegun 7.1.26), its binary-op NaN rule for max, and GELU pieces. */
export const HELPERS = `
  fn qaftErf(a : f32) -> f32 {
    let p = ${ERF_P};
    let a1 = ${ERF_A1};
    let a2 = ${ERF_A2};
    let a3 = ${ERF_A3};
    let a4 = ${ERF_A4};
    let a5 = ${ERF_A5};
    let sign = sign(a);
    let absA = abs(a);
    let t = 1.0 / (1.0 + p * absA);
    return sign * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp(-absA * absA));
  }
  // tf.maximum on webgpu: NaN if either operand is NaN.
  fn qaftMax(a : f32, b : f32) -> f32 {
    return select(max(a, b), uniforms.NAN, isnan(a) || isnan(b));
  }
  // tf.clipByValue on webgpu: NaN passes through.
  fn qaftClamp(v : f32, lo : f32, hi : f32) -> f32 {
    return select(clamp(v, lo, hi), v, isnan(v));
  }
  // Φ(x) = (erf(x·√½) + 1)·0.5
  fn qaftCdf(x : f32) -> f32 {
    return (qaftErf(x * f32(${Math.SQRT1_2})) + 1.0) * 0.5;
  }
`;

export function run(backend: unknown, p: GpuProgram, inputs: tf.TensorInfo[], uniforms?: Uniform[]): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(p, inputs, 'float32', uniforms);
}

/** Scalar uniforms of one type, in the order the program declares them. */
function scalars(type: Uniform['type'], data: number[]): Uniform[] {
  return data.map((d) => ({ type, data: [d] }));
}

export const f32 = (...data: number[]): Uniform[] => scalars('float32', data);
export const i32 = (...data: number[]): Uniform[] => scalars('int32', data);

export const KERNELS = {
  fakeQuant: 'QaftFakeQuant',
  gelu: 'QaftGelu',
  geluGrad: 'QaftGeluGrad',
  adamUpdate: 'QaftAdamUpdate',
} as const;

/**
 * Fake-quant of x given the reduction r (broadcastable to x):
 *  ternary: γ = max(r, eps);       out = clamp(round(x / γ), qn, qp) · γ   (r = mean|W|)
 *  int:     s = qp / max(r, eps);  out = clamp(round(x · s), qn, qp) / s   (r = max|W|)
 */
const fakeQuant: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, r } = inputs as { x: tf.TensorInfo; r: tf.TensorInfo };
  const { mode, qn, qp, eps } = attrs as unknown as { mode: 'ternary' | 'int'; qn: number; qp: number; eps: number };
  const body =
    mode === 'ternary'
      ? `let gamma = qaftMax(getRByOutputIndex(index), uniforms.eps);
         let q = qaftClamp(round(getXByOutputIndex(index) / gamma), uniforms.qn, uniforms.qp);
         setOutputAtIndex(index, q * gamma);`
      : `let s = uniforms.qp / qaftMax(getRByOutputIndex(index), uniforms.eps);
         let q = qaftClamp(round(getXByOutputIndex(index) * s), uniforms.qn, uniforms.qp);
         setOutputAtIndex(index, q / s);`;
  const p = flatProgram(`qaftFakeQuant_${mode}`, x.shape, ['x', 'r'], 'qn : f32, qp : f32, eps : f32,', body);
  return run(backend, p, [x, r], f32(qn, qp, eps));
};

/** GELU forward, x·Φ(x), as the tf-op path computes it: x · ((erf(x·√½) + 1)·0.5). */
const gelu: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const p = flatProgram('qaftGelu', x.shape, ['x'], '', `let v = x[index]; setOutputAtIndex(index, v * qaftCdf(v));`);
  return run(backend, p, [x]);
};

/** GELU backward: dy · (Φ(x) + x·φ(x)), φ(x) = exp(x²·(−½)) · 1/√(2π). */
const geluGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const body = `let v = x[index];
    let pdf = exp((v * v) * -0.5) * f32(${1 / Math.sqrt(2 * Math.PI)});
    setOutputAtIndex(index, dy[index] * (qaftCdf(v) + v * pdf));`;
  const p = flatProgram('qaftGeluGrad', x.shape, ['dy', 'x'], '', body);
  return run(backend, p, [dy, x]);
};

/**
 * AdamW moments of several parameters in one program, in place: `mv` is the optimizer's own
 * flat state [2·total] (m of every parameter, then v, each parameter at its offset), and the
 * program updates the run of it that `grads` cover, from base on (one thread per element):
 *   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)
 * It writes the state's buffer directly (runWebGPUProgram's output argument; the program reads
 * the old values from its read-write output binding), so it runs outside the engine and is not
 * a registered kernel: use it only on a buffer no other tensor shares. Dispatches in one queue
 * run in order, so later programs see the new moments.
 */
export function adamMomentsInPlace(
  backend: unknown,
  grads: tf.TensorInfo[],
  mv: tf.TensorInfo,
  base: number,
  total: number,
  beta1: number,
  beta2: number,
): void {
  const names = grads.map((_, i) => `g${i}`);
  const ends: number[] = [];
  let n = 0;
  for (const g of grads) ends.push((n += g.shape.reduce((a, b) => a * b, 1)));
  // The gradient of element `index`: the segment it falls in, at its position there.
  const pick = grads
    .map((_, i) => {
      const from = i === 0 ? 'index' : `index - uniforms.e${i - 1}`;
      return i < grads.length - 1 ? `if (index < uniforms.e${i}) { g = g${i}[${from}]; }` : `{ g = g${i}[${from}]; }`;
    })
    .join(' else ');
  const body = `var g = 0.0;
    ${pick}
    let k = uniforms.base + index;
    result[k] = result[k] * uniforms.b1 + g * uniforms.c1;
    result[k + uniforms.total] = result[k + uniforms.total] * uniforms.b2 + (g * g) * uniforms.c2;`;
  const endFields = ends.map((_, i) => `e${i} : i32,`).join(' ');
  const p = threadProgram(
    `qaftAdamMomentsInPlace${grads.length}`,
    mv.shape,
    n,
    names,
    `base : i32, total : i32, ${endFields} b1 : f32, c1 : f32, b2 : f32, c2 : f32,`,
    body,
  );
  (backend as WebGpuBackendLike).runWebGPUProgram(p, grads, 'float32', [...i32(n, base, total, ...ends), ...f32(beta1, 1 - beta1, beta2, 1 - beta2)], mv);
}

/**
 * AdamW parameter update from the new moments in the flat state mv (m at offset + i, v at
 * total + offset + i): p' = p·decay − (m / (√v·invSqrtBc2 + eps))·stepSize.
 */
const adamUpdate: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { param, mv } = inputs as { param: tf.TensorInfo; mv: tf.TensorInfo };
  const { decay, stepSize, invSqrtBc2, eps, offset, total } = attrs as unknown as Record<string, number>;
  const body = `let k = uniforms.offset + index;
    let denom = sqrt(mv[k + uniforms.total]) * uniforms.k + uniforms.eps;
    setOutputAtIndex(index, param[index] * uniforms.decay - (mv[k] / denom) * uniforms.stepSize);`;
  const p = flatProgram('qaftAdamUpdate', param.shape, ['param', 'mv'], 'offset : i32, total : i32, decay : f32, stepSize : f32, k : f32, eps : f32,', body);
  return run(backend, p, [param, mv], [...i32(offset, total), ...f32(decay, stepSize, invSqrtBc2, eps)]);
};

const CONFIGS: tf.KernelConfig[] = [
  { kernelName: KERNELS.fakeQuant, backendName: 'webgpu', kernelFunc: fakeQuant },
  { kernelName: KERNELS.gelu, backendName: 'webgpu', kernelFunc: gelu },
  { kernelName: KERNELS.geluGrad, backendName: 'webgpu', kernelFunc: geluGrad },
  { kernelName: KERNELS.adamUpdate, backendName: 'webgpu', kernelFunc: adamUpdate },
];

/** Register the WebGPU kernels (idempotent; safe before the backend itself is registered). */
export function registerWebGpuKernels(): void {
  for (const c of CONFIGS) if (!tf.getKernel(c.kernelName, c.backendName)) tf.registerKernel(c);
}
