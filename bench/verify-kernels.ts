/**
 * Numerical check of the fused WebGPU kernels (src/engine/kernels) against the pure tf-op path
 * on the same backend (setFusedKernels(false)), and of both against the cpu backend. Tiny
 * shapes (SwiftShader is slow). Needs Dawn's env at process start:
 *
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     npx tsx bench/verify-kernels.ts
 *
 * Prints one JSON report on stdout (exit 1 if any check fails); `verifyKernels()` is exported for tests.
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { installNodeWebGpu, wasmDir } from '../src/cli/node-env';
import { initBackend } from '../src/engine/core/backend';
import { cloneConfig, DEFAULT_CONFIG } from '../src/engine/core/config';
import { layerQuant } from '../src/engine/poly/layerspec';
import { setFusedKernels, transpose2d } from '../src/engine/core/kernels';
import { disposeMlp, forward, initMlp, mseLoss, type LayerQuant } from '../src/engine/poly/model';
import { gelu, linear } from '../src/engine/core/ops';
import { attentionCore, gptNllSum, gptParams, initGpt, disposeGpt, nllSum, normalize, type GptConfig, type GptQuant } from '../src/engine/lm/gpt';
import { lmTrainStep } from '../src/engine/lm/train';
import { AdamW } from '../src/engine/core/optim';
import { intAbsmax, quantizeActivation, ternaryAbsmean } from '../src/engine/core/quant';
import { Rng } from '../src/engine/core/rng';
import { allFormatSpecs, quantizeTensor, quantizeWeights, specLabel, type QuantizerSpec } from '../src/engine/core/quantizers';

/** The lab's 1.58-bit QAFT quantization of every layer of a 14 → 32 → 32 → 200 MLP. */
function smallQuant(): LayerQuant[] {
  const c = cloneConfig(DEFAULT_CONFIG);
  c.model = { width: 32, depth: 2 };
  c.quant = { ...c.quant, bits: 1.58, layers: 'all', actBits: 0 };
  return layerQuant(c);
}

export interface Check {
  name: string;
  n: number;
  /** Largest |a − b| / max(1, |b|) between the fused and the tf-op path. */
  maxErr: number;
  /** Elements that differ at all. */
  mismatches: number;
  tol: number;
  ok: boolean;
  note?: string;
}

type Job = () => tf.Tensor | tf.Tensor[];

async function values(job: Job): Promise<number[]> {
  const out = tf.tidy(job);
  const list = Array.isArray(out) ? out : [out];
  const parts: number[][] = [];
  for (const t of list) parts.push(Array.from(await t.data()));
  tf.dispose(list);
  return parts.flat();
}

function compare(name: string, a: number[], b: number[], tol: number, note?: string): Check {
  let maxErr = 0;
  let mismatches = 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (Object.is(x, y) || x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    mismatches += 1;
    const e = x === undefined || y === undefined ? Infinity : Math.abs(x - y) / Math.max(1, Math.abs(y));
    maxErr = Math.max(maxErr, Number.isNaN(e) ? Infinity : e);
  }
  return { name, n, maxErr, mismatches, tol, ok: a.length === b.length && maxErr <= tol, ...(note ? { note } : {}) };
}

/**
 * compare() relative to the largest |b| (for gradients, whose scale is far below 1):
 * maxErr = max |a − b| / max |b|.
 */
function compareScaled(name: string, a: number[], b: number[], tol: number): Check {
  const scale = b.reduce((m, y) => Math.max(m, Math.abs(y)), 0) || 1;
  const c = compare(
    name,
    a.map((x) => x / scale),
    b.map((y) => y / scale),
    tol,
  );
  return { ...c, note: `errors relative to max |tf-op value| = ${scale.toExponential(2)}` };
}

/** The same job with the fused kernels on and off (both on the current backend). */
async function fusedVsOps(job: Job): Promise<{ fused: number[]; ops: number[] }> {
  setFusedKernels(true);
  const fused = await values(job);
  setFusedKernels(false);
  const ops = await values(job);
  setFusedKernels(true);
  return { fused, ops };
}

/** compare() for big tensors: the fused and tf-op results are compared on the device. */
async function compareOnDevice(name: string, input: () => tf.Tensor, f: (x: tf.Tensor) => tf.Tensor, tol: number): Promise<Check> {
  const x = input();
  setFusedKernels(true);
  const a = tf.tidy(() => f(x));
  setFusedKernels(false);
  const b = tf.tidy(() => f(x));
  setFusedKernels(true);
  const [err, diff] = tf.tidy(() => [tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.maximum(tf.abs(b), 1))), tf.sum(tf.cast(tf.notEqual(a, b), 'int32'))]);
  const maxErr = (await err.data())[0];
  const mismatches = (await diff.data())[0];
  tf.dispose([x, a, b, err, diff]);
  return { name, n: x.size, maxErr, mismatches, tol, ok: maxErr <= tol };
}

function uniform(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Count WebGPU programs dispatched while `f` runs. */
function countPrograms(f: () => void): number {
  const b = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
  const orig = b.runWebGPUProgram;
  let n = 0;
  b.runWebGPUProgram = function (this: unknown, ...a: unknown[]) {
    n += 1;
    return orig.apply(this, a);
  };
  try {
    f();
  } finally {
    delete (b as Partial<typeof b>).runWebGPUProgram;
  }
  return n;
}

/**
 * Weights [in, out] for the format checks: N(0, 0.3) with an outlier, a channel of tiny weights
 * (subnormal element codes), a zero block, and channels scaled by powers of two from 2^-100 to
 * 2^125 (the binades of the block scales; not below, where float32 weights would be subnormal,
 * which WGSL lets a GPU flush to zero); `nonFinite` puts NaN, +Infinity and −Infinity in three groups.
 */
function formatWeights(rng: Rng, inDim: number, outDim: number, nonFinite = false): Float32Array {
  const w = Float32Array.from(
    { length: inDim * outDim },
    () => 0.3 * Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-12))) * Math.cos(2 * Math.PI * rng.next()),
  );
  for (let i = 0; i < inDim; i++) w[i * outDim + 1] *= 1e-3 * (1 + (i % 7));
  for (let i = 0; i < Math.min(16, inDim); i++) w[i * outDim + 2] = 0;
  w[5 * outDim] = 4.5;
  for (let j = 3; j < outDim; j++) {
    const e = -100 + (((j - 3) * 5) % 230);
    for (let i = 0; i < inDim; i++) w[i * outDim + j] *= 2 ** e;
  }
  if (nonFinite) {
    w[2 * outDim + 0] = NaN;
    w[(inDim - 1) * outDim + 3] = Infinity;
    w[20 * outDim + 4] = -Infinity;
  }
  return w;
}

/**
 * The fused format kernel on WebGPU against the host quantizer (quantizeWeights, float32 step by
 * step: the reference) and the tf-op chain it replaces, on shapes with partial blocks, every
 * binade, NaN / ±Infinity groups, and one large enough for a reshaped dispatch; its programs.
 */
async function verifyFormats(rng: Rng, programs: Record<string, number>): Promise<Check[]> {
  const checks: Check[] = [];
  const shapes: [number, number, boolean][] = [
    [45, 7, false],
    [64, 53, false],
    [14, 6, false],
    [40, 9, true],
    [512, 200, false],
  ];
  for (const [inDim, outDim, nonFinite] of shapes) {
    const w = formatWeights(rng, inDim, outDim, nonFinite);
    for (const spec of allFormatSpecs()) {
      const name = `format ${specLabel(spec)} [${inDim}, ${outDim}]${nonFinite ? ' with NaN/±Inf' : ''}`;
      const host = Array.from(quantizeWeights(w, [inDim, outDim], spec).values);
      const r = await fusedVsOps(() => quantizeTensor(tf.tensor2d(w, [inDim, outDim]), spec));
      checks.push(compare(`${name}: fused (webgpu) vs host`, r.fused, host, 0));
      // The chain's NaN handling on WebGPU is the backend's (max/where with NaN): compared on finite weights only.
      if (!nonFinite) checks.push(compare(`${name}: fused vs tf ops (webgpu)`, r.fused, r.ops, 0));
    }
  }
  for (const scheme of ['mxfp4', 'nvfp4', 'fp8-e4m3'] as const) {
    const spec = allFormatSpecs().find((s) => s.scheme === scheme) as QuantizerSpec;
    const x = tf.tensor2d(formatWeights(rng, 512, 512), [512, 512]);
    programs[`format ${specLabel(spec)} [512, 512] fused`] = countPrograms(() => tf.dispose(quantizeTensor(x, spec)));
    setFusedKernels(false);
    programs[`format ${specLabel(spec)} [512, 512] tf ops`] = countPrograms(() => tf.dispose(quantizeTensor(x, spec)));
    setFusedKernels(true);
    x.dispose();
  }
  // More than 65535 workgroups of 128 (> 8.39M elements) for the per-element FP8 program; the host reference.
  const big = Float32Array.from({ length: 2900 * 2900 }, () => rng.uniform(-1, 1));
  for (const spec of allFormatSpecs().filter((s) => s.scheme === 'nvfp4' || (s.scheme === 'fp8-e4m3' && s.granularity === 'tensor') || s.scheme === 'mxfp4')) {
    const fused = await values(() => quantizeTensor(tf.tensor2d(big, [2900, 2900]), spec));
    checks.push(
      compare(`format ${specLabel(spec)} large [2900, 2900]: fused (webgpu) vs host`, fused, Array.from(quantizeWeights(big, [2900, 2900], spec).values), 0),
    );
  }
  return checks;
}

export async function verifyKernels(): Promise<{ backend: string; adapter: string | null; checks: Check[]; programs: Record<string, number> }> {
  const installed = await installNodeWebGpu();
  const info = await initBackend('webgpu');
  if (!installed || info.name !== 'webgpu') throw new Error(`WebGPU unavailable (backend ${info.name})`);
  const rng = new Rng(11);
  const checks: Check[] = [];
  const w = uniform(rng, 14 * 16, -1, 1);
  const W = () => tf.tensor2d(w, [14, 16]);
  const act = uniform(rng, 6 * 20, -3, 3);
  const odd = uniform(rng, 5 * 7, -2, 2);

  // --- fake-quant: the exact quantizer semantics, ties included ---
  const quantJobs: Record<string, Job> = {
    ternary: () => ternaryAbsmean(W()),
    // mean|w| = 1 exactly, so w/γ = w: ±0.5 must round half to even (to ±0; half-up would give 1).
    ternaryTies: () => ternaryAbsmean(tf.tensor1d([0.5, -0.5, 1.5, -1.5, 1, -1, 2, 0, 1.5, -0.5])),
    ternaryOdd: () => ternaryAbsmean(tf.tensor2d(odd, [5, 7])),
    int4rowOdd: () => intAbsmax(tf.tensor2d(odd, [5, 7]), 4, 0),
    ternaryZeros: () => ternaryAbsmean(tf.zeros([4, 4])),
    // amax = 7 → s = 1: ties 0.5, 1.5, 2.5, −0.5, −2.5, 3.5.
    int4Ties: () => intAbsmax(tf.tensor1d([7, 0.5, 1.5, 2.5, -0.5, -2.5, 3.5, -7]), 4, null),
    int8Tie: () => intAbsmax(tf.tensor2d([[0.1, -0.5, 0.25, 1.0]]), 8, 1),
    // Per output column with more rows than a workgroup has threads (the column kernel walks them).
    int3rowTall: () => intAbsmax(tf.tensor2d(uniform(new Rng(12), 257 * 33, -1, 1), [257, 33]), 3, 0),
    ...Object.fromEntries(
      [2, 3, 4, 8].flatMap((bits) => [
        [`int${bits}row`, () => intAbsmax(W(), bits, 0)],
        [`int${bits}tensor`, () => intAbsmax(W(), bits, null)],
      ]),
    ),
    act8: () => quantizeActivation(tf.tensor2d(act, [6, 20]), 8),
    act4: () => quantizeActivation(tf.tensor2d(act, [6, 20]), 4),
    intZerosRow: () => intAbsmax(tf.zeros([3, 4]), 4, 0),
  };
  const cpuRef: Record<string, number[]> = {};
  const gpu: Record<string, { fused: number[]; ops: number[] }> = {};
  for (const [name, job] of Object.entries(quantJobs)) gpu[name] = await fusedVsOps(job);
  await tf.setBackend('cpu');
  for (const [name, job] of Object.entries(quantJobs)) cpuRef[name] = await values(job);
  await tf.setBackend('webgpu');
  for (const name of Object.keys(quantJobs)) {
    checks.push(compare(`fakeQuant ${name}: fused vs tf ops (webgpu)`, gpu[name].fused, gpu[name].ops, 0));
    checks.push(compare(`fakeQuant ${name}: fused (webgpu) vs cpu`, gpu[name].fused, cpuRef[name], 1e-6));
  }
  const expect = (name: string, want: number[]) => checks.push(compare(`fakeQuant ${name}: expected values (half to even)`, gpu[name].fused, want, 1e-7));
  expect('ternaryTies', [0, -0, 1, -1, 1, -1, 1, 0, 1, -0]);
  expect('int4Ties', [7, 0, 2, 2, -0, -2, 4, -7]);
  expect('int8Tie', [13 / 127, -64 / 127, 32 / 127, 1]);

  // --- GELU forward and backward (through the customGrad) ---
  const xs = Float32Array.from([...uniform(rng, 200, -4, 4), 0, -0, 1e-8, -1e-8, 10, -10, 30, -30, 0.5, -0.5]);
  const upstream = uniform(rng, xs.length, -2, 2);
  const g = await fusedVsOps(() => {
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d(upstream);
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => gelu(t))([x], dy);
    return [value, grads[0]];
  });
  const n = xs.length;
  checks.push(compare('gelu forward: fused vs tf ops', g.fused.slice(0, n), g.ops.slice(0, n), 1e-6));
  checks.push(compare('gelu backward: fused vs tf ops', g.fused.slice(n), g.ops.slice(n), 1e-6));

  // --- AdamW: 3 steps with changing gradients and lr, weight decay on ---
  for (const wd of [0, 0.1]) {
    const p0 = uniform(rng, 3 * 7, -1, 1);
    const gs = [0, 1, 2].map(() => uniform(rng, 3 * 7, -0.5, 0.5));
    const lrs = [1e-2, 5e-3, 2e-3];
    const runAdam = async (fused: boolean) => {
      setFusedKernels(fused);
      const p = tf.tidy(() => tf.variable(tf.tensor2d(p0, [3, 7])));
      const opt = new AdamW([p], { weightDecay: wd });
      for (let k = 0; k < 3; k++) tf.tidy(() => opt.step([tf.tensor2d(gs[k], [3, 7])], lrs[k]));
      const out = Array.from(await p.data());
      opt.dispose();
      p.dispose();
      setFusedKernels(true);
      return out;
    };
    checks.push(compare(`adamw wd=${wd}: fused vs tf ops (3 steps)`, await runAdam(true), await runAdam(false), 1e-6));
  }

  // --- AdamW over many parameters: the in-place moments take 7 gradients per program (2-D, 1-D, size 1) ---
  {
    const shapes = [[3, 7], [5], [1], [4, 4], [9], [2, 3], [6], [1], [3, 3], [11], [2, 2]];
    const p0 = shapes.map((sh) =>
      uniform(
        rng,
        sh.reduce((a, b) => a * b, 1),
        -1,
        1,
      ),
    );
    const gs = [0, 1, 2].map(() =>
      shapes.map((sh) =>
        uniform(
          rng,
          sh.reduce((a, b) => a * b, 1),
          -0.5,
          0.5,
        ),
      ),
    );
    const runAdam = async (fused: boolean) => {
      setFusedKernels(fused);
      const ps = shapes.map((sh, i) => tf.tidy(() => tf.variable(tf.tensor(p0[i], sh))));
      const opt = new AdamW(ps, { weightDecay: 0.05 });
      for (let k = 0; k < 3; k++)
        tf.tidy(() =>
          opt.step(
            shapes.map((sh, i) => tf.tensor(gs[k][i], sh)),
            [1e-2, 5e-3, 2e-3][k],
          ),
        );
      const out = (await Promise.all(ps.map((p) => p.data()))).flatMap((d) => Array.from(d));
      opt.dispose();
      tf.dispose(ps);
      setFusedKernels(true);
      return out;
    };
    checks.push(compare(`adamw ${shapes.length} parameters: fused vs tf ops (3 steps)`, await runAdam(true), await runAdam(false), 1e-6));
  }

  // --- three training steps of a small QAFT model, and programs per step ---
  const programs: Record<string, number> = {};
  for (const bits of ['fp', 1.58] as const) {
    const quant: LayerQuant[] | undefined = bits === 'fp' ? undefined : smallQuant();
    const trainRun = async (fused: boolean) => {
      setFusedKernels(fused);
      const m = initMlp([14, 32, 32, 200], 5);
      const params = [...m.weights, ...m.biases];
      const opt = new AdamW(params, { weightDecay: 0.01 });
      const r = new Rng(9);
      const x = tf.tensor2d(uniform(r, 16 * 14, 0, 1), [16, 14]);
      const y = tf.tensor2d(uniform(r, 16 * 200, 0, 1), [16, 200]);
      const losses: number[] = [];
      let count = 0;
      for (let s = 0; s < 3; s++) {
        let loss: tf.Scalar | null = null;
        const c = countPrograms(() => {
          loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => mseLoss(forward(m, x, quant), y), params);
            opt.step(
              params.map((p) => grads[p.name]),
              1e-3,
            );
            return value;
          });
        });
        count = c;
        const l = loss as unknown as tf.Scalar;
        losses.push((await l.data())[0]);
        l.dispose();
      }
      const weights = (await Promise.all(params.map((p) => p.data()))).flatMap((d) => Array.from(d));
      opt.dispose();
      disposeMlp(m);
      tf.dispose([x, y]);
      setFusedKernels(true);
      return { losses, weights, count };
    };
    const on = await trainRun(true);
    const off = await trainRun(false);
    programs[`${bits} fused`] = on.count;
    programs[`${bits} tf ops`] = off.count;
    checks.push(compare(`train ${bits}: losses over 3 steps, fused vs tf ops`, on.losses, off.losses, 1e-5));
    checks.push(
      compare(
        `train ${bits}: weights after 3 steps, fused vs tf ops`,
        on.weights,
        off.weights,
        bits === 'fp' ? 1e-5 : 1e-4,
        bits === 'fp' ? undefined : 'a weight on a quantization boundary may flip after float-level differences',
      ),
    );
  }
  // --- the transformer kernels, forward and backward, through the engine's own ops ---
  /** Value and gradients of sum(f(inputs)·upstream) with respect to every input, fused and tf ops. */
  const gradCheck = async (name: string, shapes: number[][], f: (xs: tf.Tensor[]) => tf.Tensor, tol: number, lo = -2, hi = 2) => {
    const data = shapes.map((sh) =>
      uniform(
        rng,
        sh.reduce((a, b) => a * b, 1),
        lo,
        hi,
      ),
    );
    let outSize = 0;
    const r = await fusedVsOps(() => {
      const xs = shapes.map((sh, i) => tf.tensor(data[i], sh));
      const y = f(xs);
      outSize = y.size;
      const up = tf.tensor(uniform(new Rng(5), y.size, -1, 1), y.shape);
      const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => f(a))(xs, up);
      return [value, ...grads];
    });
    checks.push(compare(`${name} forward: fused vs tf ops`, r.fused.slice(0, outSize), r.ops.slice(0, outSize), tol));
    checks.push(compareScaled(`${name} backward: fused vs tf ops`, r.fused.slice(outSize), r.ops.slice(outSize), tol));
  };
  const tiny: GptConfig = { vocab: 23, context: 8, layers: 2, heads: 2, dModel: 16, norm: 'rms' };
  const tm = initGpt(tiny, 3);
  // Values are O(1) and sums run over ≤ 64 terms in another order than the tf-op path's tree
  // reductions: a few float32 ulps (~1e-7 relative each), so 1e-5 is tight.
  await gradCheck(
    'linear [6, 20]·[20, 12] + b (transposed-operand backward, column-sum bias)',
    [[6, 20], [20, 12], [12]],
    ([x, w, b]) => linear(x, w, b),
    1e-5,
  );
  await gradCheck('linear [67, 5]·[5, 3] + b', [[67, 5], [5, 3], [3]], ([x, w, b]) => linear(x, w, b), 1e-5);
  await gradCheck('rmsnorm [6, 20]', [[6, 20], [20]], ([x, g]) => normalize(x, [g as tf.Variable], 'rms'), 1e-5);
  await gradCheck('rmsnorm [300, 16] (rows > one workgroup)', [[300, 16], [16]], ([x, g]) => normalize(x, [g as tf.Variable], 'rms'), 1e-5);
  await gradCheck('rmsnorm [33, 7], eps 1e-6', [[33, 7], [7]], ([x, g]) => normalize(x, [g as tf.Variable], 'rms', 1e-6), 1e-5);
  for (const [B, T] of [
    [3, 8],
    [2, 5],
  ]) {
    await gradCheck(`causal attention B=${B} T=${T} heads=2 hd=8`, [[B * T, 48]], ([qkv]) => attentionCore(tm, qkv, B, T), 1e-5);
  }
  const ceData = uniform(rng, 24 * 23, -6, 6);
  const ceTargets = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 23);
  const ce = await fusedVsOps(() => {
    const l = tf.tensor2d(ceData, [24, 23]);
    const t = tf.tensor1d(ceTargets, 'int32');
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => nllSum(x, t))([l], tf.scalar(0.37));
    return [value, grads[0]];
  });
  checks.push(compare('cross-entropy sum [24, 23] forward: fused vs tf ops', ce.fused.slice(0, 1), ce.ops.slice(0, 1), 1e-5));
  checks.push(compareScaled('cross-entropy sum [24, 23] backward: fused vs tf ops', ce.fused.slice(1), ce.ops.slice(1), 1e-5));
  // The whole GPT: loss and every parameter's gradient, FP and the default int3 QAFT forward.
  const tok = Int32Array.from({ length: 3 * 8 }, (_, i) => (i * 5 + 1) % 23);
  const tgt = Int32Array.from({ length: 3 * 8 }, (_, i) => (i * 3 + 2) % 23);
  const int3: GptQuant = {
    attn: { weight: { kind: 'lab', bits: 3, granularity: 'row' }, actBits: 0 },
    mlp: { weight: { kind: 'lab', bits: 3, granularity: 'row' }, actBits: 0 },
  } as GptQuant;
  for (const [label, quant] of [
    ['fp', undefined],
    ['int3', int3],
  ] as [string, GptQuant | undefined][]) {
    const r = await fusedVsOps(() => {
      const x = tf.tensor2d(tok, [3, 8], 'int32');
      const y = tf.tensor2d(tgt, [3, 8], 'int32');
      const { value, grads } = tf.variableGrads(() => gptNllSum(tm, x, y, quant), gptParams(tm));
      return [value, ...gptParams(tm).map((p) => grads[p.name])];
    });
    checks.push(compare(`gpt ${label} loss (2 layers, B=3, T=8): fused vs tf ops`, r.fused.slice(0, 1), r.ops.slice(0, 1), 1e-5));
    let at = 1;
    for (const [i, p] of gptParams(tm).entries()) {
      checks.push(
        compareScaled(
          `gpt ${label} gradient of parameter ${i} [${p.shape}]: fused vs tf ops`,
          r.fused.slice(at, at + p.size),
          r.ops.slice(at, at + p.size),
          1e-5,
        ),
      );
      at += p.size;
    }
  }
  disposeGpt(tm);
  // Three AdamW steps of the tiny GPT (the engine's lmTrainStep): losses, weights, programs per
  // step and live tensors after each step (flat: every tensor of a step is disposed).
  for (const [label, quant] of [
    ['fp', undefined],
    ['int3', int3],
  ] as [string, GptQuant | undefined][]) {
    const lmRun = async (fused: boolean) => {
      setFusedKernels(fused);
      const m = initGpt(tiny, 4);
      const params = gptParams(m);
      const opt = new AdamW(params, { weightDecay: 0.1 });
      let acc: tf.Scalar = tf.scalar(0);
      const losses: number[] = [];
      const tensors: number[] = [];
      let count = 0;
      for (let k = 0; k < 3; k++) {
        const batch = { x: tok.map((t) => (t + k) % 23), y: tgt.map((t) => (t + 2 * k) % 23) };
        const before = (await acc.data())[0];
        let next: tf.Scalar | null = null;
        count = countPrograms(() => {
          next = lmTrainStep(m, params, opt, batch, 3, 3e-3, acc, quant);
        });
        acc.dispose();
        acc = next as unknown as tf.Scalar;
        losses.push((await acc.data())[0] - before);
        tensors.push(tf.memory().numTensors);
      }
      const weights = (await Promise.all(params.map((p) => p.data()))).flatMap((d) => Array.from(d));
      acc.dispose();
      opt.dispose();
      disposeGpt(m);
      setFusedKernels(true);
      return { losses, weights, count, tensors };
    };
    const on = await lmRun(true);
    const off = await lmRun(false);
    programs[`gpt ${label} fused`] = on.count;
    programs[`gpt ${label} tf ops`] = off.count;
    checks.push(compare(`gpt ${label} training: losses over 3 AdamW steps, fused vs tf ops`, on.losses, off.losses, 1e-5));
    checks.push(
      compare(
        `gpt ${label} training: weights after 3 steps, fused vs tf ops`,
        on.weights,
        off.weights,
        label === 'fp' ? 1e-5 : 1e-4,
        label === 'fp' ? undefined : 'a weight on a quantization boundary may flip after float-level differences',
      ),
    );
    const flat = on.tensors.every((n) => n === on.tensors[0]);
    checks.push({
      name: `gpt ${label} training (fused): live tensors after each step ${on.tensors.join(', ')}`,
      n: 3,
      maxErr: flat ? 0 : 1,
      mismatches: flat ? 0 : 1,
      tol: 0,
      ok: flat,
    });
  }

  // --- more than 65535 workgroups of 128 (> 8.39M elements): the backend reshapes the dispatch ---
  const big = () => tf.randomUniform([2900, 2900], -1, 1, 'float32', 3);
  for (const [name, job] of [
    ['ternary', (x: tf.Tensor) => ternaryAbsmean(x)],
    ['int8 per row of x (activation)', (x: tf.Tensor) => intAbsmax(x, 8, 1)],
    ['gelu', (x: tf.Tensor) => gelu(x)],
  ] as [string, (x: tf.Tensor) => tf.Tensor][]) {
    checks.push(await compareOnDevice(`large [2900, 2900] ${name}: fused vs tf ops`, big, job, name === 'gelu' ? 1e-6 : 0));
  }

  checks.push(...(await verifyFormats(rng, programs)));

  // --- the blocked transpose of the CPU backends: an exact copy ---
  for (const name of ['cpu', 'wasm'] as const) {
    const b = await initBackend(name, { wasmPaths: wasmDir() });
    if (b.name !== name) throw new Error(`backend ${name} unavailable`);
    for (const [r, c] of [
      [7, 3],
      [33, 65],
      [256, 14],
      [512, 200],
    ]) {
      const x = uniform(rng, r * c, -1, 1);
      const t = await fusedVsOps(() => transpose2d(tf.tensor2d(x, [r, c])));
      checks.push(compare(`transpose2d [${r}, ${c}] on ${name}: kernel vs tf.transpose`, t.fused, t.ops, 0));
    }
  }
  await tf.setBackend('webgpu');
  return { backend: info.name, adapter: info.adapter, checks, programs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  verifyKernels().then(
    (r) => {
      for (const c of r.checks)
        process.stderr.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: maxErr ${c.maxErr.toExponential(2)}, ${c.mismatches}/${c.n} differ (tol ${c.tol})\n`);
      process.stderr.write(`programs per training step: ${JSON.stringify(r.programs)}\n`);
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(r.checks.every((c) => c.ok) ? 0 : 1);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
