/**
 * The format schemes (FP8 with a tensor or channel scale, the MX block formats, NVFP4; formats.ts)
 * as one fused kernel, 'QaftFormatQuant', on every backend the lab trains on, instead of the chain
 * of some 30 tf ops per weight that quantizers/tf.ts builds:
 *
 * - wasm and cpu: one pass in JavaScript over the tensor's memory (quantizers/formatfast.ts), the
 *   same float32 operations as the host quantizer, so equal to it bit for bit.
 * - WebGPU: one program for the MX formats and FP8 per channel (a thread per block or channel
 *   finds its absmax, then rounds its values); NVFP4 and FP8 per tensor add a one-workgroup absmax
 *   of the whole tensor first (two programs). Every step but the divisions by a scale that is not
 *   a power of two is exact (exponents read from the bits, ldexp, round half to even); WGSL allows
 *   those divisions 2.5 ULP, as it does the tf-op path's (bit-exact on SwiftShader, checked by
 *   bench/verify-kernels.ts against the host).
 *
 * A group holding NaN or ±Infinity comes out NaN (non-finite values are found from their exponent
 * bits, not by float comparisons a GPU compiler may assume away).
 */
import * as tf from '@tensorflow/tfjs';
import { E2M1, E4M3, formatInfo, MX_MIN_EXP, type FormatInfo } from '../quantizers/formats';
import { formatQuantInto } from '../quantizers/formatfast';
import { SCALE_MIN, type QuantizerSpec } from '../quantizers/spec';
import type { CpuBackendLike, WasmBackendLike } from './cpu';
import { f32, i32, run, threadProgram, flatProgram, type GpuProgram } from './webgpu';

export const FORMAT_QUANT = 'QaftFormatQuant';

interface FormatAttrs {
  scheme: string;
  granularity: QuantizerSpec['granularity'];
  groupSize: number;
}

const specOf = (a: FormatAttrs): QuantizerSpec => ({
  scheme: a.scheme as QuantizerSpec['scheme'],
  bits: formatInfo(a.scheme)?.bits ?? 8,
  granularity: a.granularity,
  groupSize: a.groupSize > 0 ? a.groupSize : undefined,
  clip: 'none',
});

function dims(x: tf.TensorInfo): [number, number] {
  if (x.shape.length !== 2 || x.dtype !== 'float32') throw new Error(`${FORMAT_QUANT} takes a 2-D float32 weight [in, out], got ${x.dtype} [${x.shape}]`);
  return x.shape as [number, number];
}

const wasmFormatQuant: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [inDim, outDim] = dims(x);
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput([inDim, outDim], 'float32');
  // Views after the allocation: it may grow (and so move) the heap.
  formatQuantInto(b.typedArrayFromHeap(x), b.typedArrayFromHeap(out), inDim, outDim, specOf(attrs as unknown as FormatAttrs));
  return out;
};

const cpuFormatQuant: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [inDim, outDim] = dims(x);
  const b = backend as unknown as CpuBackendLike;
  const dst = new Float32Array(inDim * outDim);
  formatQuantInto(b.data.get(x.dataId).values, dst, inDim, outDim, specOf(attrs as unknown as FormatAttrs));
  return b.makeTensorInfo([inDim, outDim], 'float32', dst);
};

/**
 * WGSL helpers: a value's binade from its exponent bits, the non-finite test on the bits, and
 * formats.ts roundToFormat (|y| in binade e = clamp(floor(log2|y|), emin, emax) rounded to a
 * multiple of 2^(e − mbits), half to even, saturating; the sign as the tf-op path gives it, y ≥ 0 → +).
 */
const FORMAT_HELPERS = `
  fn qaftExponent(a : f32) -> i32 {
    return i32((bitcast<u32>(a) >> 23u) & 0xffu) - 127;
  }
  fn qaftNonFinite(v : f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
  }
  fn qaftRoundFmt(y : f32, emin : i32, emax : i32, mbits : i32, fmax : f32) -> f32 {
    let a = abs(y);
    var r = fmax;
    if (a < fmax) {
      let e = min(qaftExponent(max(a, ldexp(1.0, emin))), emax);
      r = min(ldexp(round(ldexp(a, mbits - e)), e - mbits), fmax);
    }
    return select(-r, r, y >= 0.0);
  }
`;

/** The element format's rounding, from the uniforms every format program declares (ELEM_UNIFORMS). */
const ROUND_ELEM = `
  fn qaftRoundElem(y : f32) -> f32 {
    return qaftRoundFmt(y, uniforms.emin, uniforms.emax, uniforms.mbits, uniforms.fmax);
  }
`;

/** Uniforms of the element format (declared by every format program after its own). */
const ELEM_UNIFORMS = 'emin : i32, emax : i32, mbits : i32, fmax : f32, smin : f32,';
const elemUniforms = (info: FormatInfo) => [...i32(info.elem.emin, info.elem.emax, info.elem.mbits), ...f32(info.elem.max, SCALE_MIN)];

function withFormatHelpers(p: GpuProgram): GpuProgram {
  const user = p.getUserCode;
  return { ...p, getUserCode: () => FORMAT_HELPERS + ROUND_ELEM + user() };
}

const REDUCE_THREADS = 256;

/** max |x| over the whole tensor in one workgroup (NaN when any value is not finite): [1]. */
function absmaxProgram(): GpuProgram {
  return {
    outputShape: [1],
    shaderKey: 'qaftFormatAbsmax',
    variableNames: ['x'],
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    workgroupSize: [REDUCE_THREADS, 1, 1],
    size: false,
    uniforms: 'n : i32,',
    getUserCode: () => `
      ${FORMAT_HELPERS}
      var<workgroup> qaftPart : array<f32, ${REDUCE_THREADS}>;
      var<workgroup> qaftBad : array<u32, ${REDUCE_THREADS}>;
      fn main(index : i32) {
        var m = 0.0;
        var bad = 0u;
        for (var k = index; k < uniforms.n; k = k + ${REDUCE_THREADS}) {
          let v = x[k];
          if (qaftNonFinite(v)) {
            bad = 1u;
          } else {
            m = max(m, abs(v));
          }
        }
        qaftPart[index] = m;
        qaftBad[index] = bad;
        workgroupBarrier();
        for (var s = ${REDUCE_THREADS / 2}; s > 0; s = s >> 1u) {
          if (index < s) {
            qaftPart[index] = max(qaftPart[index], qaftPart[index + s]);
            qaftBad[index] = qaftBad[index] | qaftBad[index + s];
          }
          workgroupBarrier();
        }
        if (index == 0) {
          setOutputAtIndex(0, select(qaftPart[0], uniforms.NAN, qaftBad[0] != 0u));
        }
      }`,
  };
}

/**
 * The block formats, one thread per (block, output channel): the block's absmax, its scale (MX:
 * 2^max(floor(log2 amax) − emax, −126); NVFP4: s_t · E4M3((amax / 6) / s_t) with s_t from the tensor
 * absmax), then its values. A partial last block stops at `rows`.
 */
function blockBody(nv: boolean): string {
  const scale = nv
    ? `let st = max(t / uniforms.tdiv, uniforms.smin);
       let scale = st * qaftRoundFmt((amax / uniforms.ediv) / st, ${E4M3.emin}, ${E4M3.emax}, ${E4M3.mbits}, ${E4M3.max}.0);
       let safe = select(scale, 1.0, scale == 0.0);`
    : `let se = max(qaftExponent(max(amax, ldexp(1.0, ${MX_MIN_EXP}))) - uniforms.emax, ${MX_MIN_EXP});
       let scale = ldexp(1.0, se);`;
  const y = nv ? 'x[k] / safe' : 'ldexp(x[k], -se)';
  return `let g = index / uniforms.cols;
    let j = index - g * uniforms.cols;
    let r0 = g * uniforms.block;
    let r1 = min(r0 + uniforms.block, uniforms.rows);
    var amax = 0.0;
    var bad = false;
    for (var i = r0; i < r1; i = i + 1) {
      let v = x[i * uniforms.cols + j];
      bad = bad || qaftNonFinite(v);
      amax = max(amax, abs(v));
    }
    ${nv ? 'let t = tmax[0]; bad = bad || qaftNonFinite(t);' : ''}
    ${scale}
    for (var i = r0; i < r1; i = i + 1) {
      let k = i * uniforms.cols + j;
      setOutputAtIndex(k, select(qaftRoundElem(${y}) * scale, uniforms.NAN, bad));
    }`;
}

/** FP8 with one scale per output channel, one thread per channel: s = max(amax / max, 1e-8). */
const ROW_BODY = `var amax = 0.0;
  var bad = false;
  for (var i = 0; i < uniforms.rows; i = i + 1) {
    let v = x[i * uniforms.cols + index];
    bad = bad || qaftNonFinite(v);
    amax = max(amax, abs(v));
  }
  let scale = max(amax / uniforms.fmax, uniforms.smin);
  for (var i = 0; i < uniforms.rows; i = i + 1) {
    let k = i * uniforms.cols + index;
    setOutputAtIndex(k, select(qaftRoundElem(x[k] / scale) * scale, uniforms.NAN, bad));
  }`;

/** FP8 with one scale for the tensor, one thread per element, from the tensor absmax tmax [1]. */
const TENSOR_BODY = `let t = tmax[0];
  let scale = max(t / uniforms.fmax, uniforms.smin);
  setOutputAtIndex(index, select(qaftRoundElem(x[index] / scale) * scale, uniforms.NAN, qaftNonFinite(t)));`;

interface WebGpuBackendLike {
  disposeData(id: tf.DataId): void;
}

const webgpuFormatQuant: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = dims(x);
  const a = attrs as unknown as FormatAttrs;
  const info = formatInfo(a.scheme);
  if (!info) throw new Error(`${FORMAT_QUANT}: ${a.scheme} is not a format scheme`);
  const elem = elemUniforms(info);
  const needsTensorMax = info.kind === 'nv' || (info.kind === 'fp8' && a.granularity === 'tensor');
  const tmax = needsTensorMax ? run(backend, absmaxProgram(), [x], i32(rows * cols)) : null;
  try {
    if (info.kind === 'fp8' && a.granularity === 'tensor') {
      const p = withFormatHelpers(flatProgram('qaftFormatTensor', [rows, cols], ['x', 'tmax'], ELEM_UNIFORMS, TENSOR_BODY));
      return run(backend, p, [x, tmax as tf.TensorInfo], elem);
    }
    if (info.kind === 'fp8') {
      const p = withFormatHelpers(threadProgram('qaftFormatRow', [rows, cols], cols, ['x'], `rows : i32, cols : i32, ${ELEM_UNIFORMS}`, ROW_BODY));
      return run(backend, p, [x], [...i32(cols, rows, cols), ...elem]);
    }
    const block = info.block as number;
    const threads = Math.ceil(rows / block) * cols;
    const nv = info.kind === 'nv';
    const p = withFormatHelpers(
      threadProgram(
        nv ? 'qaftFormatNv' : 'qaftFormatMx',
        [rows, cols],
        threads,
        nv ? ['x', 'tmax'] : ['x'],
        `rows : i32, cols : i32, block : i32, ${ELEM_UNIFORMS} tdiv : f32, ediv : f32,`,
        blockBody(nv),
      ),
    );
    return run(backend, p, nv ? [x, tmax as tf.TensorInfo] : [x], [...i32(threads, rows, cols, block), ...elem, ...f32(E4M3.max * E2M1.max, E2M1.max)]);
  } finally {
    if (tmax) (backend as unknown as WebGpuBackendLike).disposeData(tmax.dataId);
  }
};

/** Register the format kernel for wasm and cpu (idempotent). */
export function registerCpuFormatKernels(): void {
  const configs: tf.KernelConfig[] = [
    { kernelName: FORMAT_QUANT, backendName: 'wasm', kernelFunc: wasmFormatQuant },
    { kernelName: FORMAT_QUANT, backendName: 'cpu', kernelFunc: cpuFormatQuant },
  ];
  for (const c of configs) if (!tf.getKernel(c.kernelName, c.backendName)) tf.registerKernel(c);
}

/** Register the format kernel for WebGPU (idempotent; safe before the backend itself is registered). */
export function registerWebGpuFormatKernels(): void {
  if (!tf.getKernel(FORMAT_QUANT, 'webgpu')) tf.registerKernel({ kernelName: FORMAT_QUANT, backendName: 'webgpu', kernelFunc: webgpuFormatQuant });
}

/** The kernel's attributes for a format spec. */
export const formatAttrs = (spec: QuantizerSpec): FormatAttrs => ({ scheme: spec.scheme, granularity: spec.granularity, groupSize: spec.groupSize ?? 0 });
