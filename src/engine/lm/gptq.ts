/**
 * Sequential GPTQ of the GPT's block linears (gptq.py's driver): in forward order (per block:
 * qkv, attn out, fc, proj), each quantized linear gets H = 2·XᵀX/N over the N calibration
 * tokens of its input X, taken on the model being built, so the inputs already pass through the
 * GPTQ'd preceding linears (and the RTN'd embedding / activation quantizers: ptqEvalQuant).
 *
 * X·Xᵀ per calibration batch is a device matMul (float32, as gptq.py's add_batch); the batches
 * are summed in Float64 on the host. The layer algorithm is gptq/gptq.ts (Float64).
 */
import * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop } from '../core/control';
import { checkGptqSpec, gptqLayer, proxyError } from '../core/gptq';
import { asZooSpec, quantizedShape } from '../core/layerquant';
import { rotateRows, rotateSymmetric, unrotateRows } from '../core/rotation';
import { quantizeWeights } from '../core/quantizers/host';
import type { QuantizerSpec } from '../core/quantizers/spec';
import { cloneGpt, disposeGpt, gptBlock, gptEmbed, gptLinears, linearQuant, type Gpt, type GptQuant } from './gpt';
import { quantizeScaled, scaledHessian, scaleRows } from '../core/smooth';
import { calibBatches, disposeCalibBatches, ptqEvalQuant } from './quantize';

export interface GptqGptOptions {
  /** percdamp: damp·mean(diag H) is added to the diagonal. */
  damp: number;
  /** Columns per lazy-update block. */
  blockSize: number;
  /** Columns in order of descending diag(H). */
  actOrder: boolean;
}

export interface GptqLinearReport {
  /** gptLinears name, e.g. "h0.attn.qkv". */
  name: string;
  /** gptq.py's Σ Losses (damped objective); null after a fallback. */
  loss: number | null;
  /** The Cholesky failed and the linear was rounded to nearest instead. */
  fallback: boolean;
  note: string | null;
  /**
   * Local error of the GPTQ / RTN weights on this linear's calibration inputs (the same inputs
   * for both): mean over tokens of ‖x·(Q − W)‖² = ½·tr(ΔWᵀ·H·ΔW) with the undamped H.
   */
  localErrorGptq: number;
  localErrorRtn: number;
  /** Inputs that are always zero (their weights are zeroed). */
  deadInputs: number;
  /** Calibration tokens seen. */
  tokens: number;
  ms: number;
}

/**
 * GPTQ every block linear that `q` quantizes (attn / mlp weights), in forward order, on `n`
 * calibration windows of T tokens (`calib` is [n, T] row-major). Returns a new Gpt (the input is
 * untouched) whose quantized linears hold their GPTQ values (evaluate it with ptqEvalQuant(q)),
 * and one report per GPTQ'd linear. A failed Cholesky rounds that linear to nearest, with a note.
 * Awaits a macrotask after every linear; `shouldStop` is checked before each one: when it says
 * stop, the partly quantized model is returned at once with `stopped: true` (the caller disposes it).
 */
export async function gptqGpt(
  m: Gpt,
  q: GptQuant,
  calib: Int32Array,
  n: number,
  opts: GptqGptOptions,
  onLayer?: (done: number, total: number, label: string) => void,
  shouldStop?: () => boolean,
): Promise<{ model: Gpt; reports: GptqLinearReport[]; stopped: boolean }> {
  const T = calib.length / n;
  if (!Number.isInteger(T) || T < 1) throw new Error(`gptqGpt: ${calib.length} calibration tokens are not ${n} windows`);
  if (T > m.config.context) throw new Error(`gptqGpt: windows of ${T} tokens exceed the context ${m.config.context}`);
  const specs = new Map<string, QuantizerSpec>();
  for (const lin of gptLinears(m)) {
    const w = q[lin.component]?.weight;
    if (!w) continue;
    const spec = asZooSpec(w);
    try {
      checkGptqSpec(spec, quantizedShape(lin.w.shape as [number, number], q.rotate?.[lin.role])[0]);
    } catch (e) {
      throw new Error(`${lin.name} (${lin.w.shape[0]} → ${lin.w.shape[1]}): ${(e as Error).message}`);
    }
    specs.set(lin.name, spec);
  }
  const total = specs.size;
  const evalQ = ptqEvalQuant(q);
  const model = cloneGpt(m);
  const lins = gptLinears(model);
  const batches = calibBatches(calib, n, T);
  let xs: tf.Tensor[] = [];
  const reports: GptqLinearReport[] = [];
  let stopped = false;
  try {
    xs = batches.map(({ tokens }) => tf.tidy(() => gptEmbed(model, tokens, evalQ)));
    for (let b = 0; b < model.blocks.length && !stopped; b++) {
      for (const lin of lins.filter((l) => l.block === b)) {
        const spec = specs.get(lin.name);
        if (!spec) continue;
        if ((stopped = shouldStop?.() ?? false)) break;
        const t0 = performance.now();
        const [inDim, outDim] = lin.w.shape as [number, number];
        // H = 2/N · Σ_batches XᵀX, each batch's XᵀX on the device.
        const H = new Float64Array(inDim * inDim);
        let tokens = 0;
        for (const [k, { rows }] of batches.entries()) {
          const gram = tf.tidy(() => {
            let g: tf.Tensor | null = null;
            const hooks = { input: (w: tf.Variable, x: tf.Tensor) => void (w === lin.w && (g = tf.matMul(x, x, true, false))) };
            gptBlock(model, b, xs[k], rows, T, evalQ, hooks);
            if (!g) throw new Error(`gptqGpt: ${lin.name} saw no input`);
            return g as tf.Tensor;
          });
          const data = await gram.data();
          gram.dispose();
          for (let i = 0; i < H.length; i++) H[i] += data[i];
          tokens += rows * T;
        }
        for (let i = 0; i < H.length; i++) H[i] *= 2 / tokens;
        const raw = (await lin.w.data()) as Float32Array;
        const gopts = { blocksize: opts.blockSize, percdamp: opts.damp, actOrder: opts.actOrder };
        // An online-rotated linear: GPTQ of Rᵀ·W with the Hessian of the rotated inputs (Rᵀ·H·R), rotated back (R·Q).
        const rot = q.rotate?.[lin.role];
        // AWQ / SmoothQuant: GPTQ of diag(s)·W on the inputs x/s, back in the original space (as RTN: quantize.ts rtnGpt).
        // The configs refuse both on one linear (actProblems).
        const sm = linearQuant(q, lin)?.smooth;
        if (rot && sm) throw new Error(`GPTQ: ${lin.name} has both a rotation and smoothing scales`);
        const w = rot ? Float32Array.from(rotateRows(raw, outDim, rot)) : raw;
        const Hr = rot ? rotateSymmetric(H, rot) : H;
        const shape = quantizedShape([inDim, outDim], rot);
        const g = sm ? gptqLayer(scaleRows(w, shape, sm), shape, scaledHessian(H, sm), spec, gopts) : gptqLayer(w, shape, Hr, spec, gopts);
        if (sm) g.q = scaleRows(g.q, shape, sm, true);
        const rtn = sm ? quantizeScaled(w, shape, sm, (v) => quantizeWeights(v, shape, spec).values) : quantizeWeights(w, shape, spec).values;
        const localErrorGptq = proxyError(w, g.q, shape, Hr) / 2;
        const localErrorRtn = proxyError(w, rtn, shape, Hr) / 2;
        const next = tf.tensor2d(rot ? Float32Array.from(unrotateRows(g.q, outDim, rot)) : g.q, [inDim, outDim]);
        lin.w.assign(next);
        next.dispose();
        reports.push({
          name: lin.name,
          loss: g.loss,
          fallback: g.fallback,
          note: g.note,
          localErrorGptq,
          localErrorRtn,
          deadInputs: g.deadInputs,
          tokens,
          ms: performance.now() - t0,
        });
        onLayer?.(reports.length, total, `GPTQ: ${lin.name} (${reports.length} of ${total})`);
        await yieldToEventLoop();
      }
      if (b < model.blocks.length - 1 && !stopped) {
        xs = xs.map((x, k) => {
          const y = tf.tidy(() => gptBlock(model, b, x, batches[k].rows, T, evalQ));
          x.dispose();
          return y;
        });
      }
    }
  } catch (e) {
    disposeGpt(model);
    throw e;
  } finally {
    for (const x of xs) x.dispose();
    disposeCalibBatches(batches);
  }
  return { model, reports, stopped };
}
