/**
 * The language model's activation calibration (as the MLP's, poly/actcalib.ts): AWQ / SmoothQuant
 * scales of the quantized block linears from the FP model's activations, and the static activation
 * scales (observers) of a model about to run, on the calibration windows of the data budget.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActConfig } from '../core/config';
import { asZooSpec } from '../core/layerquant';
import { observeAmax } from '../core/observers';
import { quantizeWeights } from '../core/quantizers/host';
import { mergeStats, smoothingScales, type InputStats } from '../core/smooth';
import { gptBlock, gptEmbed, gptForward, gptLinears, type Gpt, type GptLayerQuant, type GptQuant, type LinearHooks } from './gpt';
import { calibBatches, disposeCalibBatches } from './quantize';

/** The part of a component's quantizer that belongs to one linear (created when missing). */
function own(l: GptLayerQuant, name: string) {
  const map = (l.linears ??= new Map());
  let e = map.get(name);
  if (!e) map.set(name, (e = {}));
  return e;
}

/**
 * Set AWQ / SmoothQuant scales on every quantized block linear of `q` (attn / mlp), from the FP
 * model's own activations on the n calibration windows of T tokens. Returns a note (the α per linear).
 */
export async function smoothGpt(fp: Gpt, q: GptQuant, calib: Int32Array, n: number, T: number, a: ActConfig): Promise<string[]> {
  if (a.smooth === 'none') return [];
  const lins = gptLinears(fp).filter((l) => q[l.component]?.weight);
  if (!lins.length) return [];
  const names = new Map(lins.map((l) => [l.w as tf.Variable, l.name]));
  const withH = a.smooth === 'awq';
  const stats = new Map<string, InputStats>();
  const batches = calibBatches(calib, n, T);
  try {
    for (const { tokens } of batches) {
      const got: { name: string; sum: tf.Tensor; max: tf.Tensor; gram: tf.Tensor | null; rows: number }[] = [];
      tf.tidy(() => {
        const hooks: LinearHooks = {
          input: (w, x) => {
            const name = names.get(w);
            if (!name) return;
            const ax = tf.abs(x);
            got.push({
              name,
              sum: tf.keep(tf.sum(ax, 0)),
              max: tf.keep(tf.max(ax, 0)),
              gram: withH ? tf.keep(tf.matMul(x, x, true, false)) : null,
              rows: x.shape[0],
            });
          },
        };
        gptForward(fp, tokens, undefined, hooks);
      });
      for (const g of got) {
        const sum = Float64Array.from((await g.sum.data()) as Float32Array);
        const b: InputStats = {
          meanAbs: sum.map((v) => v / g.rows),
          maxAbs: Float64Array.from((await g.max.data()) as Float32Array),
          H: g.gram ? Float64Array.from((await g.gram.data()) as Float32Array) : new Float64Array(0),
          rows: g.rows,
        };
        for (const t of [g.sum, g.max, g.gram]) t?.dispose();
        const prev = stats.get(g.name);
        stats.set(g.name, prev ? mergeStats(prev, b) : b);
      }
    }
  } finally {
    disposeCalibBatches(batches);
  }
  const notes: string[] = [];
  for (const lin of lins) {
    const comp = q[lin.component]!;
    const spec = asZooSpec(comp.weight!);
    const shape = lin.w.shape as [number, number];
    const w = (await lin.w.data()) as Float32Array;
    const r = smoothingScales(a.smooth, stats.get(lin.name)!, w, shape, a.alpha, (v) => quantizeWeights(v, shape, spec).values);
    own(comp, lin.name).smooth = r.scales;
    notes.push(a.smooth === 'awq' ? `${lin.name} α ${r.alpha}` : lin.name);
  }
  const name = a.smooth === 'awq' ? 'AWQ (α searched on k/20, k = 0…19)' : `SmoothQuant (α ${a.alpha})`;
  return [`${name} scales from the FP activations of ${n} calibration sequences: ${notes.join(', ')}.`];
}

const isStaticComp = (l: GptLayerQuant | undefined): l is GptLayerQuant => !!l && l.actBits > 0 && !!l.act && l.act.observer !== 'dynamic';

/** Whether `q` has static activation quantizers (observers to calibrate). */
export const gptNeedsActCalibration = (q: GptQuant | undefined): boolean => !!q && (isStaticComp(q.attn) || isStaticComp(q.mlp));

/**
 * Calibrate the static activation quantizers of `q` on `model` (its forward pass under `q`), block
 * by block: each linear's observer sees its inputs (divided by its smoothing scales) with the
 * earlier blocks' activations quantized by their calibrated scales and the block's own activation
 * quantizers off (its four linears are observed in one pass). EMA batches: 8 windows. Sets the
 * per-linear actAmax of q.attn / q.mlp; a no-op without static quantizers.
 */
export async function calibrateGptActs(model: Gpt, q: GptQuant, calib: Int32Array, n: number, T: number, a: ActConfig): Promise<void> {
  if (!gptNeedsActCalibration(q)) return;
  const off: GptQuant = { ...q };
  if (q.attn) off.attn = { ...q.attn, actBits: 0 };
  if (q.mlp) off.mlp = { ...q.mlp, actBits: 0 };
  const lins = gptLinears(model).filter((l) => isStaticComp(q[l.component]));
  const byW = new Map(lins.map((l) => [l.w as tf.Variable, l]));
  const batches = calibBatches(calib, n, T);
  let xs: tf.Tensor[] = [];
  try {
    xs = batches.map(({ tokens }) => tf.tidy(() => gptEmbed(model, tokens, q)));
    for (let b = 0; b < model.blocks.length; b++) {
      const vals = new Map<string, Float32Array[]>();
      for (const [k, { rows }] of batches.entries()) {
        const got: [string, tf.Tensor][] = [];
        tf.tidy(() => {
          gptBlock(model, b, xs[k], rows, T, off, {
            input: (w, x) => {
              const lin = byW.get(w);
              if (lin && lin.block === b) got.push([lin.name, tf.keep(tf.clone(x))]);
            },
          });
        });
        for (const [name, t] of got) {
          const host = Float32Array.from((await t.data()) as Float32Array);
          t.dispose();
          const lin = lins.find((l) => l.name === name)!;
          const s = q[lin.component]?.linears?.get(name)?.smooth;
          if (s) for (let i = 0; i < host.length; i++) host[i] /= s[i % s.length];
          vals.set(name, [...(vals.get(name) ?? []), host]);
        }
      }
      for (const lin of lins.filter((l) => l.block === b)) {
        const comp = q[lin.component]!;
        own(comp, lin.name).actAmax = observeAmax(vals.get(lin.name) ?? [], a, comp.actBits);
      }
      if (b < model.blocks.length - 1)
        xs = xs.map((x, k) => {
          const y = tf.tidy(() => gptBlock(model, b, x, batches[k].rows, T, q));
          x.dispose();
          return y;
        });
    }
  } finally {
    for (const x of xs) x.dispose();
    disposeCalibBatches(batches);
  }
}
