/**
 * A run whose final loss is not finite is flagged, whatever the method: finishRun turns such a
 * 'done' run into 'diverged'; both labs pass every result through it (the toy MLP's FP and RTN
 * runs, whose evaluation is made to return NaN here, and an LM FP checkpoint whose huge weights
 * overflow the NLL); a diverged FP model is not cached for the quantized methods.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseParams } from '../src/engine/url';
import { Lab } from '../src/engine/poly/lab';
import { type LabEvent } from '../src/engine/core/runs';
import { LmLab } from '../src/engine/lm/lab';
import { parseHfTokenizer } from '../src/engine/lm/hftokenizer';
import { finishRun, type RunRecord } from '../src/engine/core/runs';
import { useBackend } from './helpers/backend';
import { tinyConfig } from './helpers/configs';
import { bpeTokenizerJson, gpt2Config, gpt2Tensors, safetensorsOf, type ModelSpec } from './helpers/hf-fixtures';

/** Which toy evaluations return NaN: the FP model's (no quantizer) or the quantized ones'. */
const poison = vi.hoisted(() => ({ fp: false, quantized: false }));

vi.mock('../src/engine/poly/train', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/engine/poly/train')>();
  return {
    ...orig,
    evaluate: async (...args: Parameters<typeof orig.evaluate>) => {
      const quantized = args[2] !== undefined;
      if (quantized ? poison.quantized : poison.fp) return NaN;
      return orig.evaluate(...args);
    },
  };
});

beforeAll(async () => {
  await useBackend();
});
afterEach(() => {
  poison.fp = false;
  poison.quantized = false;
});

const results = (events: LabEvent[]) => events.flatMap((e) => (e.type === 'result' ? [e.run] : []));

describe('finishRun', () => {
  const base = (loss: number | null, status: RunRecord['status'] = 'done'): RunRecord =>
    ({
      method: 'rtn',
      lr: null,
      stepsDone: 0,
      loss,
      metric: { name: 'test MSE', unit: '' },
      status,
      diverged: null,
      notes: [],
      config: tinyConfig(),
    }) as unknown as RunRecord;

  it('a non-finite final loss makes any run diverged with a reason and a note; finite ones are left alone', () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      const r = finishRun(base(v));
      expect(r.status).toBe('diverged');
      expect(r.diverged).toEqual({ step: 0, lr: 0, reason: 'non-finite' });
      expect(r.notes?.at(-1)).toMatch(/^The final test MSE is (NaN|Infinity|-Infinity): the run counts as diverged\.$/);
    }
    expect(finishRun(base(NaN, 'stopped')).status).toBe('diverged');
    for (const r of [base(0.5), base(null), base(null, 'stopped')]) {
      const before = structuredClone(r);
      expect(finishRun(r)).toEqual(before);
    }
    // A run training already flagged keeps its own divergence.
    const trained = { ...base(NaN, 'diverged'), diverged: { step: 7, lr: 1, reason: 'exploded' as const } };
    expect(finishRun(trained).diverged).toEqual({ step: 7, lr: 1, reason: 'exploded' });
  });
});

describe('the toy lab', () => {
  const c = tinyConfig({ width: 8, depth: 1, trainSize: 64, testSize: 16, fpSteps: 10, qaftSteps: 10, batch: 16 });

  it('an RTN, GPTQ or QAFT run whose test MSE is NaN ends diverged, not done', async () => {
    poison.quantized = true;
    const lab = new Lab();
    const events: LabEvent[] = [];
    const runs = await lab.run(c, ['fp', 'rtn', 'gptq', 'qaft'], (e) => events.push(e));
    expect(runs.map((r) => `${r.method} ${r.status}`)).toEqual(['fp done', 'rtn diverged', 'gptq diverged', 'qaft diverged']);
    // What was emitted is what was returned (the UI and the CLI see 'diverged').
    expect(results(events).map((r) => r.status)).toEqual(['done', 'diverged', 'diverged', 'diverged']);
    expect(runs[1].diverged).toEqual({ step: 0, lr: 0, reason: 'non-finite' });
    expect(runs[1].notes).toContain('The final test MSE is NaN: the run counts as diverged.');
    lab.dispose();
  });

  it('an FP run whose test MSE is NaN ends diverged; it is not cached and the quantized methods are skipped', async () => {
    poison.fp = true;
    const lab = new Lab();
    const events: LabEvent[] = [];
    const runs = await lab.run(c, ['fp', 'rtn'], (e) => events.push(e));
    expect(runs.map((r) => `${r.method} ${r.status}`)).toEqual(['fp diverged']);
    expect(runs[0].diverged).toEqual({ step: c.fp.steps, lr: c.fp.lr, reason: 'non-finite' });
    expect(lab.hasFp(c)).toBe(false);
    expect(events.some((e) => e.type === 'notice' && /FP lr .* diverged: RTN.* the trained FP model and (was|were) skipped/.test(e.message))).toBe(true);
    lab.dispose();
  });

  it('an FP run whose training blows up (learning rate 10) ends diverged as before', async () => {
    const lab = new Lab();
    const runs = await lab.run(tinyConfig({ width: 8, depth: 1, trainSize: 64, testSize: 16, fpSteps: 40, fpLr: 10, batch: 16 }), ['fp'], () => {});
    expect(runs[0].status).toBe('diverged');
    expect(runs[0].diverged?.reason).toMatch(/non-finite|exploded/);
    lab.dispose();
  });
});

describe('the LM lab', () => {
  it('an FP checkpoint whose NLL overflows (finite but huge weights) ends diverged and is not used by RTN', async () => {
    const corpus = 'the cat sat on the mat. the dog ran to the park and back.\n'.repeat(30);
    const tok = bpeTokenizerJson(corpus, 8, 'gpt2');
    const spec: ModelSpec = { layers: 1, d: 8, heads: 2, vocab: parseHfTokenizer(tok).vocab, nPos: 16, inner: 16 };
    const t = gpt2Tensors(spec, 5);
    // Every weight near the float32 maximum: the logits overflow to ±Infinity.
    for (const x of t.values()) x.data.fill(3e38);
    const lab = new LmLab({
      fetchText: async (u) => Promise.reject(new Error(`no network (${u})`)),
      fetchBytes: async (u) => Promise.reject(new Error(`no network (${u})`)),
    });
    lab.setOwnText('text.txt', corpus);
    lab.setFiles({ config: JSON.stringify(gpt2Config(spec)), weights: safetensorsOf(t), tokenizer: tok, name: 'huge' });
    const { config, messages } = parseParams('v=1&task=lm&lm_src=files&text=own&lm_ctx=8&sample_len=4&budget=4');
    expect(messages).toEqual([]);
    const before = tf.memory().numTensors;
    const events: LabEvent[] = [];
    const runs = await lab.run(config, ['fp', 'rtn'], (e) => events.push(e));
    expect(runs.map((r) => `${r.method} ${r.status}`)).toEqual(['fp diverged']);
    expect(Number.isFinite(runs[0].loss)).toBe(false);
    expect(runs[0].diverged).toEqual({ step: 0, lr: 0, reason: 'non-finite' });
    expect(runs[0].notes?.at(-1)).toMatch(/^The final val NLL is (NaN|Infinity): the run counts as diverged\.$/);
    expect(results(events)[0].status).toBe('diverged');
    expect(events.some((e) => e.type === 'notice' && /diverged: RTN needs? the trained FP model and (was|were) skipped/.test(e.message))).toBe(true);
    lab.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
