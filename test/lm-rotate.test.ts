/**
 * The transformer's Hadamard rotation (src/engine/lm/rotate.ts): the folded RMSNorm model computes
 * the same logits as the original (random norm gains and biases, sequential and parallel residual,
 * learned and rotary positions), what is folded and what runs online for RMSNorm and LayerNorm,
 * RTN and GPTQ on the rotated model (GPTQ of an online-rotated linear in its rotated basis), and
 * the storage of the folded model.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeGpt, gptForward, gptLinears, initGpt, type Gpt, type GptConfig, type GptQuant } from '../src/engine/lm/gpt';
import { canFold, foldNote, foldRotation, lmRotations, lmRotationTails } from '../src/engine/lm/rotate';
import { gptqGpt } from '../src/engine/lm/gptq';
import { lmLayerErrors, ptqEvalQuant, rtnGpt } from '../src/engine/lm/quantize';
import { Rng } from '../src/engine/core/rng';
import { rotateRows } from '../src/engine/core/rotation';
import { useBackend } from './helpers/backend';
import { rotationTensors } from '../src/engine/core/rotation-tf';
import { LmLab } from '../src/engine/lm/lab';
import { OFFLINE_ENV, OFFLINE_TEXT } from './helpers/lm-offline';
import { parseParams } from '../src/engine/url';

beforeAll(async () => {
  await useBackend();
});

const base: GptConfig = { vocab: 23, context: 16, layers: 2, heads: 2, dModel: 32, norm: 'rms' };

/** A model with random norm gains, biases and positions, so that folding has something to absorb. */
function randomModel(c: GptConfig, seed: number): Gpt {
  const m = initGpt(c, seed);
  const rng = new Rng(seed + 1);
  const rand = (v: tf.Variable, lo: number, hi: number) => {
    const t = tf.tensor(
      Float32Array.from({ length: v.size }, () => rng.uniform(lo, hi)),
      v.shape,
    );
    v.assign(t);
    t.dispose();
  };
  for (const b of m.blocks) {
    rand(b.norm1[0], 0.5, 1.5);
    rand(b.norm2[0], 0.5, 1.5);
    for (const v of [b.bqkv, b.bo, b.bfc, b.bproj]) rand(v, -0.1, 0.1);
    // Larger weights than the init's, so the blocks change the stream noticeably.
    for (const v of [b.wqkv, b.wo, b.wfc, b.wproj]) rand(v, -0.3, 0.3);
  }
  rand(m.normF[0], 0.5, 1.5);
  rand(m.headBias, -0.1, 0.1);
  if (m.wpe.size) rand(m.wpe, -0.2, 0.2);
  return m;
}

function tokens(c: GptConfig, B: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(
    Int32Array.from({ length: B * c.context }, () => rng.int(c.vocab)),
    [B, c.context],
    'int32',
  );
}

const relDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);

describe('folding the rotation into an RMSNorm transformer', () => {
  it('the folded model gives the same logits (to float tolerance), for several layouts and seeds', async () => {
    const layouts: GptConfig[] = [
      base,
      { ...base, parallelResidual: true },
      { ...base, positions: 'rotary', rotaryPct: 0.5 },
      { ...base, untiedHead: true, mlpHidden: 48, gelu: 'tanh' },
    ];
    for (const [k, c] of layouts.entries()) {
      const m = randomModel(c, 10 + k);
      const x = tokens(c, 3, k);
      for (const seed of [0, 5]) {
        const f = await foldRotation(m, seed);
        const [a, b] = [gptForward(f, x), gptForward(m, x)];
        expect(relDiff(a, b), `layout ${k} seed ${seed}`).toBeLessThan(2e-5);
        // The fold did change the weights: gains are 1, the head is untied, the embedding rotated.
        expect(f.config.untiedHead).toBe(true);
        expect(f.blocks[0].norm1[0].dataSync().every((g) => g === 1)).toBe(true);
        const wte = m.wte.dataSync() as Float32Array;
        const want = rotateRows(wte, c.vocab, { inDim: 32, n: 32, seed });
        const got = f.wte.dataSync();
        for (let i = 0; i < want.length; i += 37) expect(got[i]).toBeCloseTo(want[i], 5);
        tf.dispose([a, b]);
        disposeGpt(f);
      }
      x.dispose();
      disposeGpt(m);
    }
  });

  it('what is folded and what runs online: RMSNorm folds the stream (online: attention out, MLP proj); LayerNorm and BitNet do not fold (online: every linear)', () => {
    const q: GptQuant = {
      attn: { weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 },
      mlp: { weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 },
    };
    expect(canFold(base)).toBe(true);
    expect(foldNote(base)).toBeNull();
    expect(Object.keys(lmRotations(base, q, 0)).sort()).toEqual(['out', 'proj']);
    expect(lmRotations(base, q, 0).proj).toEqual({ inDim: 128, n: 128, seed: 0 });
    for (const c of [
      { ...base, norm: 'layer' as const },
      { ...base, bitnet: true },
      { ...base, dModel: 48, heads: 2 },
    ]) {
      expect(canFold(c)).toBe(false);
      expect(foldNote(c)).toMatch(/LayerNorm|BitNet|power of two/);
      expect(Object.keys(lmRotations(c, q, 0)).sort()).toEqual(['fc', 'out', 'proj', 'qkv']);
    }
    // Only the quantized components' linears.
    expect(Object.keys(lmRotations(base, { mlp: q.mlp }, 0))).toEqual(['proj']);
  });

  it('foldRotation refuses a LayerNorm model (mean subtraction does not commute with the rotation)', async () => {
    const m = randomModel({ ...base, norm: 'layer' }, 3);
    await expect(foldRotation(m, 0)).rejects.toThrow(/LayerNorm/);
    disposeGpt(m);
  });
});

describe('the weights tails the LM layer view shows', () => {
  it('per linear, before and after: an outlier input channel of fc (a residual feature) is spread by the fold, one of proj (a hidden unit) by the online rotation', async () => {
    const m = randomModel(base, 31);
    const bump = (v: tf.Variable, row: number) => {
      const [rows, cols] = v.shape as [number, number];
      const t = tf.tidy(() => tf.mul(v, tf.add(1, tf.mul(tf.oneHot(tf.fill([cols], row, 'int32'), rows).transpose(), 29))));
      v.assign(t);
      t.dispose();
    };
    bump(m.blocks[0].wfc, 4);
    bump(m.blocks[1].wproj, 100);
    const tails = await lmRotationTails(m, 0);
    const names = gptLinears(m).map((l) => l.name);
    expect(tails).toHaveLength(names.length);
    const at = (n: string) => tails[names.indexOf(n)];
    for (const n of ['h0.mlp.fc', 'h1.mlp.proj']) {
      expect(at(n).before.kurtosis, n).toBeGreaterThan(20);
      expect(at(n).after.kurtosis, n).toBeLessThan(at(n).before.kurtosis / 4);
      expect(at(n).after.maxOverStd, n).toBeLessThan(at(n).before.maxOverStd);
    }
    disposeGpt(m);
  });
});

describe('RTN and GPTQ on the rotated transformer', () => {
  it('GPTQ on the folded model with online out/proj rotations lowers every linear’s local error below RTN, and lmLayerErrors sees the same weights', async () => {
    const m = randomModel(base, 21);
    const f = await foldRotation(m, 1);
    const q: GptQuant = {
      attn: { weight: { kind: 'lab', bits: 3, granularity: 'row' }, actBits: 0 },
      mlp: { weight: { kind: 'lab', bits: 3, granularity: 'row' }, actBits: 0 },
    };
    q.rotate = lmRotations(f.config, q, 1);
    const rng = new Rng(4);
    const n = 16;
    const calib = Int32Array.from({ length: n * base.context }, () => rng.int(base.vocab));
    const res = await gptqGpt(f, q, calib, n, { damp: 0.01, blockSize: 128, actOrder: false });
    expect(res.reports.map((r) => r.name)).toEqual(gptLinears(f).map((l) => l.name));
    for (const r of res.reports) expect(r.localErrorGptq, r.name).toBeLessThan(r.localErrorRtn);
    // An online-rotated linear's GPTQ weights are R·Q (Q on the int3 row grid of Rᵀ·W): rotating them back lands on a grid.
    const proj = gptLinears(res.model).find((l) => l.name === 'h0.mlp.proj');
    const back = rotateRows(proj?.w.dataSync() as Float32Array, 32, { inDim: 128, n: 128, seed: 1 });
    for (let j = 0; j < 32; j++) {
      const col = Array.from({ length: 128 }, (_, i) => back[i * 32 + j]);
      const s = Math.max(...col.map(Math.abs)) / 3;
      for (const v of col) expect(Math.abs(v / s - Math.round(v / s))).toBeLessThan(1e-3);
    }
    const rtn = await rtnGpt(f, q);
    const errs = await lmLayerErrors(f, rtn, ptqEvalQuant(q), calib, n, base.context);
    expect(errs.errors.every((e) => e > 0 && Number.isFinite(e))).toBe(true);
    const logits = [gptForward(res.model, tokens(base, 2, 9), ptqEvalQuant(q)), gptForward(f, tokens(base, 2, 9))];
    expect(relDiff(logits[0], logits[1])).toBeLessThan(0.5);
    tf.dispose(logits);
    for (const g of [m, f, res.model, rtn]) disposeGpt(g);
  });
});

describe('LmLab with rot=hadamard', () => {
  const TEXT = OFFLINE_TEXT;
  const env = OFFLINE_ENV;
  const link = (extra: string) => {
    const { config, messages } = parseParams(
      `v=1&task=lm&text=own&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=60&lm_fp_lr=1e-2&lm_fp_batch=8&lm_steps=20&lm_batch=8&lm_lr=2e-3&sample_len=5&log=10&budget=16&df_n=8&tile_steps=5&tile_global=5&bits_attn=3&bits_mlp=3${extra}`,
    );
    expect(messages).toEqual([]);
    return config;
  };

  it('RMSNorm: every method but LSQ / scale-only runs on the folded model (notes say so, tails per linear), no tensor leaks; LSQ is refused', async () => {
    for (const [n, inDim] of [
      [16, 16],
      [64, 64],
    ])
      rotationTensors({ inDim, n, seed: 0 }); // the session's rotation matrices, made once
    const lab = new LmLab(env);
    lab.setOwnText('t.txt', TEXT);
    const c = link('&rot=hadamard');
    const plain = link('');
    const before = tf.memory().numTensors;
    const runs = await lab.run(c, ['fp', 'rtn', 'gptq', 'qaft', 'qalora', 'datafree', 'tiled'], () => {});
    for (const r of runs) {
      expect(r.status, r.name).toBe('done');
      expect(Number.isFinite(r.loss), r.name).toBe(true);
      if (r.method === 'fp') continue;
      expect(r.notes?.join(' '), r.name).toMatch(/folded into the weights.*online rotations before: out, proj/);
      expect(r.layerTails, r.name).toHaveLength(4);
    }
    const [rtnPlain] = await lab.run(plain, ['rtn'], () => {});
    expect(rtnPlain.loss).not.toBe(runs[1].loss);
    expect(lab.methodProblems(c, ['lsq']).join(' ')).toMatch(/rot/);
    lab.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);

  it('with a dynamic FP8 activation quantizer (act settings): RTN, GPTQ and QAFT run rotated and the format matters; smoothing and static observers are refused', async () => {
    const lab = new LmLab(env);
    lab.setOwnText('t.txt', TEXT);
    const before = tf.memory().numTensors;
    const runs = await lab.run(link('&rot=hadamard&abits=8&afmt=fp8-e4m3&agran=tensor'), ['fp', 'rtn', 'gptq', 'qaft'], () => {});
    for (const r of runs) {
      expect(r.status, r.name).toBe('done');
      expect(Number.isFinite(r.loss), r.name).toBe(true);
    }
    const [intAct] = await lab.run(link('&rot=hadamard&abits=8&agran=tensor'), ['rtn'], () => {});
    expect(intAct.loss).not.toBe(runs[1].loss);
    for (const extra of ['&smooth=smoothquant', '&aobs=minmax']) {
      const { messages } = parseParams(`v=1&task=lm&rot=hadamard&abits=8&agran=tensor${extra}`);
      expect(messages.join(' '), extra).toMatch(/^"rot": a Hadamard rotation/);
    }
    lab.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);

  it('LayerNorm: not folded, every linear rotated online', async () => {
    const lab = new LmLab(env);
    lab.setOwnText('t.txt', TEXT);
    const runs = await lab.run(link('&rot=hadamard&lm_norm=layer'), ['fp', 'rtn', 'gptq'], () => {});
    for (const r of runs.slice(1)) {
      expect(r.status).toBe('done');
      expect(r.notes?.join(' ')).toMatch(/not folded \(LayerNorm.*online rotations before: qkv, out, fc, proj/);
    }
    lab.dispose();
  }, 120_000);
});
