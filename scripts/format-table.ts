/**
 * The format table (README "Formats compared"): test loss and bits per weight of every weight
 * format × {RTN, GPTQ, QAFT}, with and without the Hadamard rotation, on one task. The FP model is
 * trained (or loaded) once and reused by every cell, which is what running `npm run lab` once per
 * cell would redo each time; every cell is the lab's own run on the same link plus its format keys.
 *
 *   npm run formats -- poly [--backend wasm]   # ptq-narrow, all but the first layer quantized
 *   npm run formats -- lm [--backend wasm]     # the default LM (attn + mlp), 128 sequences
 *   … [--methods rtn,gptq] [--bits 4,6] [--formats mxfp4,nvfp4] [--steps N]   # a subset: methods, formats (by bits, by label), QAFT steps
 *
 * Prints each cell to stderr as it finishes and a JSON summary (one entry per cell) to stdout.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initNodeBackend } from '../src/cli/node-env';
import { nodeLmEnv } from '../src/cli/lm-env';
import { parseParams } from '../src/engine/url';
import { PTQ_NARROW } from '../src/engine/presets';
import { Lab } from '../src/engine/poly/lab';
import { LmLab } from '../src/engine/lm/lab';
import { RunControl } from '../src/engine/core/control';
import type { BackendPref, ExperimentConfig } from '../src/engine/core/config';
import type { RunRecord } from '../src/engine/core/runs';
import type { Method } from '../src/engine/core/methods';
import { layerDims } from '../src/engine/core/config';
import { layerWeightQuant } from '../src/engine/poly/layerspec';
import { lmComponentQuant } from '../src/engine/lm/spec';
import { asZooSpec } from '../src/engine/core/layerquant';
import { storageBits } from '../src/engine/core/quantizers/spec';

/** Each format as URL keys (bits of the quantized components; scheme; granularity). */
export const FORMAT_CELLS: readonly { label: string; keys: string; bits: number }[] = [
  { label: 'int4 absmax per row', keys: 'scheme=auto&gran=row', bits: 4 },
  { label: 'int4 g32 (sym-narrow)', keys: 'scheme=sym-narrow&gran=group&group=32', bits: 4 },
  { label: 'mxfp4', keys: 'scheme=mxfp4', bits: 4 },
  { label: 'nvfp4', keys: 'scheme=nvfp4', bits: 4 },
  { label: 'mxfp6-e2m3', keys: 'scheme=mxfp6-e2m3', bits: 6 },
  { label: 'mxfp6-e3m2', keys: 'scheme=mxfp6-e3m2', bits: 6 },
  { label: 'int8 absmax per row', keys: 'scheme=auto&gran=row', bits: 8 },
  { label: 'fp8-e4m3 per row', keys: 'scheme=fp8-e4m3&gran=row', bits: 8 },
  { label: 'fp8-e5m2 per row', keys: 'scheme=fp8-e5m2&gran=row', bits: 8 },
  { label: 'mxfp8-e4m3', keys: 'scheme=mxfp8-e4m3', bits: 8 },
  { label: 'mxfp8-e5m2', keys: 'scheme=mxfp8-e5m2', bits: 8 },
  { label: 'mxint8', keys: 'scheme=mxint8', bits: 8 },
];

/** The base links: ptq-narrow with all but the first layer quantized (QAFT lr 1e-3, 300 steps), and the default LM on 128 sequences. */
export const FORMAT_BASES = {
  poly: `${PTQ_NARROW}&layers=nofirst`,
  lm: 'v=1&task=lm&budget=128&sample_len=1',
} as const;

function cellConfig(task: 'poly' | 'lm', keys: string, bits: number, rot: boolean, extra = ''): ExperimentConfig {
  const bitKeys = task === 'lm' ? `bits_attn=${bits}&bits_mlp=${bits}` : `bits=${bits}`;
  const p = parseParams(`${FORMAT_BASES[task]}&${keys}&${bitKeys}&rot=${rot ? 'hadamard' : 'none'}${extra}`);
  if (p.messages.length) throw new Error(p.messages.join('; '));
  return p.config;
}

/**
 * Bits per quantized weight, scales included: the MLP's quantized layers (FP − quantized storage
 * over their weights; a rotated layer padded to a power of two counts its extra rows); the LM's
 * block linears from their quantizer's storage (d_model and 4·d_model are powers of two: no
 * padding; the untied head of a folded model is FP32 and not part of this figure).
 */
function bitsPerWeight(r: RunRecord, c: ExperimentConfig, fp: RunRecord): number {
  if (c.task === 'lm') {
    const d = c.lm.dModel;
    let bits = 0;
    let n = 0;
    for (const [component, shapes] of [
      [
        'attn',
        [
          [d, 3 * d],
          [d, d],
        ],
      ],
      [
        'mlp',
        [
          [d, 4 * d],
          [4 * d, d],
        ],
      ],
    ] as const) {
      const q = lmComponentQuant(c, component);
      for (const shape of shapes) {
        n += shape[0] * shape[1];
        bits += q ? storageBits(asZooSpec(q), shape).totalBits : 32 * shape[0] * shape[1];
      }
    }
    return bits / n;
  }
  // The FP model stores every weight in 32 bits, so FP − quantized storage = Σ over the quantized weights of (32 − their bits).
  const dims = layerDims(c.model);
  let n = 0;
  for (let i = 0; i < dims.length - 1; i++) if (layerWeightQuant(c, i)) n += dims[i] * dims[i + 1];
  return 32 - ((fp.storageBits ?? 0) - (r.storageBits ?? 0)) / n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { backend: { type: 'string' }, methods: { type: 'string' }, bits: { type: 'string' }, steps: { type: 'string' }, formats: { type: 'string' } },
  });
  const methods = (values.methods ?? 'rtn,gptq,qaft').split(',') as Method[];
  const bitsOnly = values.bits ? values.bits.split(',').map(Number) : null;
  const formatsOnly = values.formats ? values.formats.split(',') : null;
  const steps = values.steps ? `&lm_steps=${Number(values.steps)}&steps=${Number(values.steps)}` : '';
  const task = positionals[0];
  if (task !== 'poly' && task !== 'lm') throw new Error('usage: npm run formats -- poly|lm [--backend wasm]');
  const info = await initNodeBackend((values.backend ?? 'auto') as BackendPref);
  process.stderr.write(`formats: backend ${info.name}\n`);
  const lab = task === 'poly' ? new Lab() : new LmLab(nodeLmEnv);
  const emit = () => {};
  const control = new RunControl();
  const t0 = performance.now();
  const base = cellConfig(task, FORMAT_CELLS[0].keys, FORMAT_CELLS[0].bits, false);
  const [fp] = await lab.run(base, ['fp'], emit, control);
  process.stderr.write(`formats: FP ${fp.loss} (${(fp.wallMs / 1000).toFixed(1)} s)\n`);
  const cells = [];
  for (const f of FORMAT_CELLS) {
    if (bitsOnly && !bitsOnly.includes(f.bits)) continue;
    if (formatsOnly && !formatsOnly.some((x) => f.label.startsWith(x))) continue;
    for (const rot of [false, true]) {
      const c = cellConfig(task, f.keys, f.bits, rot, steps);
      const runs = await lab.run(c, methods, emit, control);
      const by = (m: string) => runs.find((r) => r.method === m);
      const cell = {
        format: f.label,
        rotation: rot ? 'hadamard' : 'none',
        bitsPerWeight: bitsPerWeight(runs[0], c, fp),
        rtn: by('rtn')?.loss ?? null,
        gptq: by('gptq')?.loss ?? null,
        qaft: by('qaft')?.loss ?? null,
        seconds: runs.reduce((s, r) => s + r.wallMs / 1000, 0),
      };
      cells.push(cell);
      process.stderr.write(`formats: ${JSON.stringify(cell)}\n`);
    }
  }
  lab.dispose();
  const summary = { task, backend: info.name, base: FORMAT_BASES[task] + steps, methods, fp: fp.loss, wallSeconds: (performance.now() - t0) / 1000, cells };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  tf.disposeVariables();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`formats: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
