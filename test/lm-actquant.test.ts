/**
 * The language model's activation calibration and AWQ / SmoothQuant on a tiny random GPT: static
 * min-max scales equal the inputs' max |x| (block 0, where nothing upstream is quantized),
 * SmoothQuant's per-linear scales from the FP activations, and the whole path (smoothing, RTN and
 * GPTQ in the scaled space, calibration) gives finite losses without leaking tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { smoothQuantScales } from '../src/engine/core/smooth';
import { calibrateGptActs, smoothGpt } from '../src/engine/lm/actcalib';
import { disposeGpt, gptForward, gptLinears, initGpt, type GptQuant } from '../src/engine/lm/gpt';
import { gptqGpt } from '../src/engine/lm/gptq';
import { ptqEvalQuant, rtnGpt } from '../src/engine/lm/quantize';
import { Rng } from '../src/engine/core/rng';
import { useBackend } from './helpers/backend';

beforeAll(async () => {
  await useBackend();
});

const cfg = { vocab: 20, context: 16, layers: 2, heads: 2, dModel: 16, norm: 'rms' as const };
const act = (over: Partial<typeof DEFAULT_CONFIG.act>) => ({ ...DEFAULT_CONFIG.act, ...over });
const n = 6;
const T = 16;
const calib = (() => {
  const r = new Rng(5);
  return Int32Array.from({ length: n * T }, () => r.int(20));
})();

/** Per linear: max |x| and max_rows |x_j| of its inputs in an unquantized forward pass. */
async function fpInputs(m: ReturnType<typeof initGpt>): Promise<Map<string, { amax: number; colMax: Float32Array }>> {
  const names = new Map(gptLinears(m).map((l) => [l.w as tf.Variable, l.name]));
  const got: [string, tf.Tensor][] = [];
  const tokens = tf.tensor2d(calib, [n, T], 'int32');
  tf.tidy(() => {
    gptForward(m, tokens, undefined, { input: (w, x) => void got.push([names.get(w)!, tf.keep(tf.max(tf.abs(x), 0))]) });
  });
  tokens.dispose();
  const out = new Map<string, { amax: number; colMax: Float32Array }>();
  for (const [name, t] of got) {
    const colMax = (await t.data()) as Float32Array;
    out.set(name, { amax: Math.max(...colMax), colMax });
    t.dispose();
  }
  return out;
}

describe('LM activation calibration and smoothing', () => {
  it('static min-max: block 0’s linears get max |x| of their inputs; every linear gets a finite amax', async () => {
    const m = initGpt(cfg, 1);
    const q: GptQuant = {
      attn: { weight: null, actBits: 8, act: { format: 'int', granularity: 'tensor', observer: 'minmax' } },
      mlp: { weight: null, actBits: 8, act: { format: 'int', granularity: 'tensor', observer: 'minmax' } },
    };
    await calibrateGptActs(m, q, calib, n, T, act({ observer: 'minmax', granularity: 'tensor' }));
    const fp = await fpInputs(m);
    // Block 0's qkv and fc see exactly the FP inputs (the calibration pass has the block's own quantizers off).
    expect(q.attn!.linears!.get('h0.attn.qkv')!.actAmax).toBeCloseTo(fp.get('h0.attn.qkv')!.amax, 5);
    expect(q.attn!.linears!.get('h0.attn.out')!.actAmax).toBeCloseTo(fp.get('h0.attn.out')!.amax, 5);
    for (const l of gptLinears(m)) expect(Number.isFinite(q[l.component]!.linears!.get(l.name)!.actAmax)).toBe(true);
    disposeGpt(m);
  });

  it('SmoothQuant: each linear’s scales are max|x_j|^α / max|W_j|^(1−α) of the FP inputs; RTN, GPTQ and calibration then run without leaks', async () => {
    const m = initGpt(cfg, 2);
    const mk = () => ({
      weight: { kind: 'lab' as const, bits: 4, granularity: 'row' as const },
      actBits: 8,
      act: { format: 'int' as const, granularity: 'tensor' as const, observer: 'mse' as const },
    });
    const q: GptQuant = { attn: mk(), mlp: mk() };
    const a = act({ observer: 'mse', granularity: 'tensor', smooth: 'smoothquant', alpha: 0.5 });
    const before = tf.memory().numTensors;
    const notes = await smoothGpt(m, q, calib, n, T, a);
    expect(notes[0]).toMatch(/SmoothQuant \(α 0.5\)/);
    const fp = await fpInputs(m);
    for (const l of gptLinears(m)) {
      const want = smoothQuantScales(fp.get(l.name)!.colMax, (await l.w.data()) as Float32Array, l.w.shape as [number, number], 0.5);
      const got = q[l.component]!.linears!.get(l.name)!.smooth!;
      got.forEach((s, j) => expect(s).toBeCloseTo(want[j], 4));
    }
    const rtn = await rtnGpt(m, q);
    const evalQ = ptqEvalQuant(q);
    await calibrateGptActs(rtn, evalQ, calib, n, T, a);
    await calibrateGptActs(m, q, calib, n, T, a);
    const g = await gptqGpt(m, q, calib, n, { damp: 0.01, blockSize: 128, actOrder: false });
    await calibrateGptActs(g.model, ptqEvalQuant(q), calib, n, T, a);
    const tokens = tf.tensor2d(calib, [n, T], 'int32');
    const y = tf.tidy(() => gptForward(rtn, tokens, evalQ));
    expect(Array.from(await y.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([tokens, y]);
    disposeGpt(rtn);
    disposeGpt(g.model);
    expect(tf.memory().numTensors).toBe(before);
    disposeGpt(m);
  });
});
