/**
 * Fused WGSL kernels of the transformer step on tfjs-backend-webgpu: RMSNorm forward and
 * backward, causal multi-head attention forward and backward, softmax cross-entropy forward and
 * backward, and absmax-per-output-channel fake-quant in one program.
 *
 * Same contract as webgpu.ts (the backend generates bindings, uniforms and index helpers; we
 * write `main`). These kernels loop over a row (or a column) inside one thread instead of
 * spreading a reduction over a workgroup: the tf-op path's reductions sum in another order, so
 * results agree to float rounding, not bit for bit (bench/verify-kernels.ts checks every kernel,
 * forward and backward, against the tf-op path). Sizes are uniforms, so a new batch or context
 * does not recompile anything.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, i32, run, threadProgram, WORKGROUP, type GpuProgram, type Uniform } from './webgpu';

export const TRANSFORMER_KERNELS = {
  rmsNorm: 'QaftRmsNorm',
  rmsNormGrad: 'QaftRmsNormGrad',
  rmsNormGainGrad: 'QaftRmsNormGainGrad',
  attentionProbs: 'QaftCausalAttentionProbs',
  attentionOut: 'QaftCausalAttentionOut',
  attentionScoreGrad: 'QaftCausalAttentionScoreGrad',
  attentionGrad: 'QaftCausalAttentionGrad',
  crossEntropy: 'QaftCrossEntropy',
  crossEntropyGrad: 'QaftCrossEntropyGrad',
  fakeQuantColAbsmax: 'QaftFakeQuantColAbsmax',
  columnSum: 'QaftColumnSum',
} as const;

/** 1/√(mean(x²) + eps) of row `row` of x [rows, d] (the tf-op path: rsqrt(mean(square(x)) + eps)). */
const RMS_RSTD = `
  fn qaftRstd(row : i32) -> f32 {
    let base = row * uniforms.d;
    var ss = 0.0;
    for (var j = 0; j < uniforms.d; j = j + 1) {
      let v = x[base + j];
      ss = ss + v * v;
    }
    return inverseSqrt(ss / f32(uniforms.d) + uniforms.eps);
  }`;

function rowsOf(x: tf.TensorInfo): [number, number] {
  const d = x.shape[x.shape.length - 1];
  return [x.shape.reduce((a, b) => a * b, 1) / d, d];
}

/** RMSNorm forward, one thread per row: y = (x · rstd) · g. */
const rmsNorm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, g } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  const [rows, d] = rowsOf(x);
  const body = `let r = qaftRstd(index);
    let base = index * uniforms.d;
    for (var j = 0; j < uniforms.d; j = j + 1) {
      setOutputAtIndex(base + j, (x[base + j] * r) * g[j]);
    }`;
  const p = threadProgram('qaftRmsNorm', x.shape, rows, ['x', 'g'], 'd : i32, eps : f32,', body);
  p.getUserCode = withHelper(p.getUserCode, RMS_RSTD);
  return run(backend, p, [x, g], [...i32(rows, d), ...f32(eps)]);
};

/** RMSNorm dx, one thread per row: dx = rstd·g·dy − x·rstd³·(Σ g·dy·x)/d. */
const rmsNormGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, g } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; g: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  const [rows, d] = rowsOf(x);
  const body = `let r = qaftRstd(index);
    let base = index * uniforms.d;
    var dot = 0.0;
    for (var j = 0; j < uniforms.d; j = j + 1) {
      dot = dot + g[j] * dy[base + j] * x[base + j];
    }
    let c = r * r * r * dot / f32(uniforms.d);
    for (var j = 0; j < uniforms.d; j = j + 1) {
      setOutputAtIndex(base + j, r * g[j] * dy[base + j] - x[base + j] * c);
    }`;
  const p = threadProgram('qaftRmsNormGrad', x.shape, rows, ['dy', 'x', 'g'], 'd : i32, eps : f32,', body);
  p.getUserCode = withHelper(p.getUserCode, RMS_RSTD);
  return run(backend, p, [dy, x, g], [...i32(rows, d), ...f32(eps)]);
};

/** RMSNorm gain gradient [d]: Σ over rows of dy · x · rstd. */
const rmsNormGainGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  const [rows, d] = rowsOf(x);
  // One workgroup per column: its threads take every WORKGROUP-th row, then a tree sum in
  // workgroup memory (barriers in uniform control flow: no bounds guard around them; the
  // dispatch has exactly d workgroups).
  const p: GpuProgram = {
    outputShape: [d],
    shaderKey: 'qaftRmsNormGainGrad',
    variableNames: ['dy', 'x'],
    dispatchLayout: { x: [0] },
    dispatch: [d, 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: false,
    uniforms: 'd : i32, rows : i32, eps : f32,',
    getUserCode: () => `
      ${RMS_RSTD}
      var<workgroup> qaftPartial : array<f32, ${WORKGROUP}>;
      fn main(index : i32) {
        let col = index / ${WORKGROUP};
        let lane = index - col * ${WORKGROUP};
        var acc = 0.0;
        for (var row = lane; row < uniforms.rows; row = row + ${WORKGROUP}) {
          let i = row * uniforms.d + col;
          acc = acc + dy[i] * (x[i] * qaftRstd(row));
        }
        qaftPartial[lane] = acc;
        workgroupBarrier();
        for (var stride = ${WORKGROUP / 2}; stride > 0; stride = stride / 2) {
          if (lane < stride) {
            qaftPartial[lane] = qaftPartial[lane] + qaftPartial[lane + stride];
          }
          workgroupBarrier();
        }
        if (lane == 0) {
          setOutputAtIndex(col, qaftPartial[0]);
        }
      }`,
  };
  return run(backend, p, [dy, x], [...i32(d, rows), ...f32(eps)]);
};

function withHelper(code: () => string, helper: string): () => string {
  return () => `${helper}\n${code()}`;
}

/**
 * Indexing of the packed qkv [B·T, 3D] (q, k, v the thirds of the columns, heads contiguous in
 * each) and the causal scores. `qaftScore(b, h, t, s)` = (q_t · k_s)·scale.
 */
const ATTN_HELPERS = `
  fn qaftQ(b : i32, t : i32, h : i32, j : i32) -> f32 {
    return qkv[(b * uniforms.T + t) * 3 * uniforms.D + h * uniforms.hd + j];
  }
  fn qaftK(b : i32, t : i32, h : i32, j : i32) -> f32 {
    return qkv[(b * uniforms.T + t) * 3 * uniforms.D + uniforms.D + h * uniforms.hd + j];
  }
  fn qaftV(b : i32, t : i32, h : i32, j : i32) -> f32 {
    return qkv[(b * uniforms.T + t) * 3 * uniforms.D + 2 * uniforms.D + h * uniforms.hd + j];
  }
  fn qaftScore(b : i32, h : i32, t : i32, s : i32) -> f32 {
    var acc = 0.0;
    for (var i = 0; i < uniforms.hd; i = i + 1) {
      acc = acc + qaftQ(b, t, h, i) * qaftK(b, s, h, i);
    }
    return acc * uniforms.scale;
  }
`;

const ATTN_UNIFORMS = 'T : i32, H : i32, hd : i32, D : i32, scale : f32,';

interface AttnAttrs {
  T: number;
  heads: number;
}

function attnUniforms(qkv: tf.TensorInfo, a: AttnAttrs, threads: number): { B: number; D: number; hd: number; uniforms: Uniform[] } {
  const D = qkv.shape[1] / 3;
  const hd = D / a.heads;
  const B = qkv.shape[0] / a.T;
  return { B, D, hd, uniforms: [...i32(threads, a.T, a.heads, hd, D), ...f32(1 / Math.sqrt(hd))] };
}

/**
 * Causal attention forward, part 1, one thread per query row (b, h, t): the probabilities
 * P [B, H, T, T] = softmax(q·kᵀ·scale + causal mask), 0 above the diagonal as the tf-op path
 * gives them (exp(−1e9 − max) = 0 in float32).
 */
const attentionProbs: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { qkv } = inputs as { qkv: tf.TensorInfo };
  const a = attrs as unknown as AttnAttrs;
  const rows = qkv.shape[0] * a.heads; // B·H·T query rows
  const { B, uniforms } = attnUniforms(qkv, a, rows);
  const body = `let t = index % uniforms.T;
    let bh = index / uniforms.T;
    let h = bh % uniforms.H;
    let b = bh / uniforms.H;
    var mx = qaftScore(b, h, t, 0);
    for (var s = 1; s <= t; s = s + 1) {
      mx = max(mx, qaftScore(b, h, t, s));
    }
    var sum = 0.0;
    for (var s = 0; s <= t; s = s + 1) {
      sum = sum + exp(qaftScore(b, h, t, s) - mx);
    }
    let base = index * uniforms.T;
    for (var s = 0; s < uniforms.T; s = s + 1) {
      var p = 0.0;
      if (s <= t) {
        p = exp(qaftScore(b, h, t, s) - mx) / sum;
      }
      setOutputAtIndex(base + s, p);
    }`;
  const p = threadProgram('qaftAttentionProbs', [B, a.heads, a.T, a.T], rows, ['qkv'], ATTN_UNIFORMS, body);
  p.getUserCode = withHelper(p.getUserCode, ATTN_HELPERS);
  return run(backend, p, [qkv], uniforms);
};

/** Causal attention forward, part 2, one thread per output: y [B·T, D] (heads merged), y_t = Σ_{s≤t} P[t, s]·v_s. */
const attentionOut: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { qkv, p: probs } = inputs as { qkv: tf.TensorInfo; p: tf.TensorInfo };
  const a = attrs as unknown as AttnAttrs;
  const n = qkv.shape[0] * (qkv.shape[1] / 3);
  const { D, uniforms } = attnUniforms(qkv, a, n);
  const body = `let row = index / uniforms.D;
    let c = index - row * uniforms.D;
    let b = row / uniforms.T;
    let t = row - b * uniforms.T;
    let h = c / uniforms.hd;
    let j = c - h * uniforms.hd;
    let base = ((b * uniforms.H + h) * uniforms.T + t) * uniforms.T;
    var acc = 0.0;
    for (var s = 0; s <= t; s = s + 1) {
      acc = acc + p[base + s] * qaftV(b, s, h, j);
    }
    setOutputAtIndex(index, acc);`;
  const prog = threadProgram('qaftAttentionOut', [qkv.shape[0], D], n, ['qkv', 'p'], ATTN_UNIFORMS, body);
  prog.getUserCode = withHelper(prog.getUserCode, ATTN_HELPERS);
  return run(backend, prog, [qkv, probs], uniforms);
};

/**
 * Attention backward, part 1, one thread per query row (b, h, t): the score gradient
 * dS [B, H, T, T] = P·(dP − Σ_s P·dP)·scale with dP = dy·vᵀ (tf's softmax gradient, then the
 * scale), 0 above the diagonal.
 */
const attentionScoreGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { qkv, p: probs, dy } = inputs as { qkv: tf.TensorInfo; p: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as AttnAttrs;
  const rows = qkv.shape[0] * a.heads;
  const { B, uniforms } = attnUniforms(qkv, a, rows);
  const body = `let t = index % uniforms.T;
    let bh = index / uniforms.T;
    let h = bh % uniforms.H;
    let b = bh / uniforms.H;
    let base = index * uniforms.T;
    var dsum = 0.0;
    for (var s = 0; s <= t; s = s + 1) {
      dsum = dsum + p[base + s] * qaftDp(b, h, t, s);
    }
    for (var s = 0; s < uniforms.T; s = s + 1) {
      var g = 0.0;
      if (s <= t) {
        g = (p[base + s] * (qaftDp(b, h, t, s) - dsum)) * uniforms.scale;
      }
      setOutputAtIndex(base + s, g);
    }`;
  const dpHelper = `
  fn qaftDp(b : i32, h : i32, t : i32, s : i32) -> f32 {
    var acc = 0.0;
    for (var i = 0; i < uniforms.hd; i = i + 1) {
      acc = acc + dy[(b * uniforms.T + t) * uniforms.D + h * uniforms.hd + i] * qaftV(b, s, h, i);
    }
    return acc;
  }`;
  const prog = threadProgram('qaftAttentionScoreGrad', [B, a.heads, a.T, a.T], rows, ['qkv', 'p', 'dy'], ATTN_UNIFORMS, body);
  prog.getUserCode = withHelper(prog.getUserCode, ATTN_HELPERS + dpHelper);
  return run(backend, prog, [qkv, probs, dy], uniforms);
};

/**
 * Attention backward, part 2, one thread per element of dqkv [B·T, 3D]:
 *   dq_t = Σ_{s≤t} dS[t, s]·k_s;   dk_s = Σ_{t≥s} dS[t, s]·q_t;   dv_s = Σ_{t≥s} P[t, s]·dy_t.
 */
const attentionGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { qkv, p: probs, ds, dy } = inputs as { qkv: tf.TensorInfo; p: tf.TensorInfo; ds: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as AttnAttrs;
  const n = qkv.shape[0] * qkv.shape[1];
  const { uniforms } = attnUniforms(qkv, a, n);
  const body = `let D3 = 3 * uniforms.D;
    let row = index / D3;
    let c = index - row * D3;
    let b = row / uniforms.T;
    let t = row - b * uniforms.T;
    let part = c / uniforms.D;
    let cc = c - part * uniforms.D;
    let h = cc / uniforms.hd;
    let j = cc - h * uniforms.hd;
    let bh = (b * uniforms.H + h) * uniforms.T;
    var acc = 0.0;
    if (part == 0) {
      for (var s = 0; s <= t; s = s + 1) {
        acc = acc + ds[(bh + t) * uniforms.T + s] * qaftK(b, s, h, j);
      }
    } else if (part == 1) {
      for (var q = t; q < uniforms.T; q = q + 1) {
        acc = acc + ds[(bh + q) * uniforms.T + t] * qaftQ(b, q, h, j);
      }
    } else {
      for (var q = t; q < uniforms.T; q = q + 1) {
        acc = acc + p[(bh + q) * uniforms.T + t] * dy[(b * uniforms.T + q) * uniforms.D + h * uniforms.hd + j];
      }
    }
    setOutputAtIndex(index, acc);`;
  const prog = threadProgram('qaftAttentionGrad', qkv.shape, n, ['qkv', 'p', 'ds', 'dy'], ATTN_UNIFORMS, body);
  prog.getUserCode = withHelper(prog.getUserCode, ATTN_HELPERS);
  return run(backend, prog, [qkv, probs, ds, dy], uniforms);
};

/** Max and Σ exp(l − max) of the row of logits [N, V] starting at `base`. */
const CE_STATS = `
  fn qaftLogitStats(base : i32) -> vec2<f32> {
    var mx = logits[base];
    for (var j = 1; j < uniforms.V; j = j + 1) {
      mx = max(mx, logits[base + j]);
    }
    var sum = 0.0;
    for (var j = 0; j < uniforms.V; j = j + 1) {
      sum = sum + exp(logits[base + j] - mx);
    }
    return vec2<f32>(mx, sum);
  }`;

/**
 * Cross-entropy per row of logits [N, V] with int32 targets [N], one thread per row:
 * −log softmax(logits)[target] = log Σ exp(l − max) − (l[target] − max), as tf.logSoftmax gives it.
 */
const crossEntropy: tf.KernelFunc = ({ inputs, backend }) => {
  const { logits, targets } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
  const [N, V] = logits.shape;
  const body = `let base = index * uniforms.V;
    let st = qaftLogitStats(base);
    let mx = st.x;
    let sum = st.y;
    setOutputAtIndex(index, log(sum) - (logits[base + targets[index]] - mx));`;
  const p = threadProgram('qaftCrossEntropy', [N], N, ['logits', 'targets'], 'V : i32,', body);
  p.getUserCode = withHelper(p.getUserCode, CE_STATS);
  return run(backend, p, [logits, targets], i32(N, V));
};

/** Its gradient, one thread per row: dlogits = dy·(softmax(logits) − onehot(target)) (dy a scalar). */
const crossEntropyGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, logits, targets } = inputs as { dy: tf.TensorInfo; logits: tf.TensorInfo; targets: tf.TensorInfo };
  const [N, V] = logits.shape;
  const body = `let base = index * uniforms.V;
    let st = qaftLogitStats(base);
    let mx = st.x;
    let sum = st.y;
    let g = dy[0];
    let tgt = targets[index];
    for (var j = 0; j < uniforms.V; j = j + 1) {
      let p = exp(logits[base + j] - mx) / sum;
      setOutputAtIndex(base + j, g * (p - select(0.0, 1.0, j == tgt)));
    }`;
  const p = threadProgram('qaftCrossEntropyGrad', [N, V], N, ['dy', 'logits', 'targets'], 'V : i32,', body);
  p.getUserCode = withHelper(p.getUserCode, CE_STATS);
  return run(backend, p, [dy, logits, targets], i32(N, V));
};

/**
 * Symmetric int fake-quant of W [in, out] with one absmax scale per output column, the
 * reduction and the rounding in one program (one thread per column; the column's max|W| is
 * exact whatever the order, NaN propagates as tf.max does):
 *   s = qp / max(max|W[:, j]|, eps);  out = clamp(round(W · s), qn, qp) / s.
 */
const fakeQuantColAbsmax: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { qn, qp, eps } = attrs as unknown as { qn: number; qp: number; eps: number };
  const [rows, cols] = x.shape;
  const body = `var amax = abs(x[index]);
    for (var i = 1; i < uniforms.rows; i = i + 1) {
      let v = abs(x[i * uniforms.cols + index]);
      if (isnan(v)) {
        amax = uniforms.NAN;
      } else if (!isnan(amax) && v > amax) {
        amax = v;
      }
    }
    let s = uniforms.qp / qaftMax(amax, uniforms.eps);
    for (var i = 0; i < uniforms.rows; i = i + 1) {
      let k = i * uniforms.cols + index;
      let q = qaftClamp(round(x[k] * s), uniforms.qn, uniforms.qp);
      setOutputAtIndex(k, q / s);
    }`;
  const p = threadProgram('qaftFakeQuantColAbsmax', x.shape, cols, ['x'], 'rows : i32, cols : i32, qn : f32, qp : f32, eps : f32,', body);
  return run(backend, p, [x], [...i32(cols, rows, cols), ...f32(qn, qp, eps)]);
};

/** Σ over the rows of x [rows, cols], one thread per column (a bias gradient: one program instead of a transpose and a reduction). */
const columnSum: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = x.shape;
  const body = `var acc = 0.0;
    for (var i = 0; i < uniforms.rows; i = i + 1) {
      acc = acc + x[i * uniforms.cols + index];
    }
    setOutputAtIndex(index, acc);`;
  const p = threadProgram('qaftColumnSum', [cols], cols, ['x'], 'rows : i32, cols : i32,', body);
  return run(backend, p, [x], i32(cols, rows, cols));
};

const CONFIGS: [string, tf.KernelFunc][] = [
  [TRANSFORMER_KERNELS.columnSum, columnSum],
  [TRANSFORMER_KERNELS.rmsNorm, rmsNorm],
  [TRANSFORMER_KERNELS.rmsNormGrad, rmsNormGrad],
  [TRANSFORMER_KERNELS.rmsNormGainGrad, rmsNormGainGrad],
  [TRANSFORMER_KERNELS.attentionProbs, attentionProbs],
  [TRANSFORMER_KERNELS.attentionOut, attentionOut],
  [TRANSFORMER_KERNELS.attentionScoreGrad, attentionScoreGrad],
  [TRANSFORMER_KERNELS.attentionGrad, attentionGrad],
  [TRANSFORMER_KERNELS.crossEntropy, crossEntropy],
  [TRANSFORMER_KERNELS.crossEntropyGrad, crossEntropyGrad],
  [TRANSFORMER_KERNELS.fakeQuantColAbsmax, fakeQuantColAbsmax],
];

/** Register the transformer kernels on webgpu (idempotent). */
export function registerTransformerKernels(): void {
  for (const [kernelName, kernelFunc] of CONFIGS) if (!tf.getKernel(kernelName, 'webgpu')) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
}
