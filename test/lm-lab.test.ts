/**
 * The LM task end to end through LmLab (what the worker and the CLI run): a tiny GPT on the
 * user's own text, every LM method of the registry (FP → RTN → GPTQ → QAFT → GPTQ→QAFT → scratch →
 * LSQ → scale-only → QA-LoRA → data-free → tiled), each a finished run
 * with a validation NLL, a text sample and per-layer errors; bad input gets a clear message.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import type { LabEvent } from '../src/engine/core/runs';
import { OFFLINE_ENV, OFFLINE_TEXT } from './helpers/lm-offline';
import { LmLab } from '../src/engine/lm/lab';
import { methodsOf } from '../src/engine/core/methods';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';

const TEXT = OFFLINE_TEXT;
const env = OFFLINE_ENV;

function tinyConfig(): ExperimentConfig {
  const { config, messages } = parseParams(
    'v=1&task=lm&text=own&lm_layers=1&lm_heads=2&lm_d=16&lm_ctx=16&lm_pre=0&lm_fp_steps=120&lm_fp_lr=1e-2&lm_fp_batch=8&lm_steps=40&lm_batch=8&lm_lr=2e-3&sample_len=30&log=20&budget=32&df_n=16&tile_steps=20&tile_global=10&prompt=the%20',
  );
  expect(messages).toEqual([]);
  return config;
}

describe('LmLab', () => {
  beforeAll(async () => {
    await useBackend();
  });

  it('runs every LM method as a finished run with NLL, sample and layer errors, without leaking tensors', async () => {
    const lab = new LmLab(env);
    lab.setOwnText('test.txt', TEXT);
    const c = tinyConfig();
    const events: LabEvent[] = [];
    const before = tf.memory().numTensors;
    const runs = await lab.run(c, methodsOf('lm'), (e) => events.push(e));
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'gptq', 'qaft', 'gptq-qaft', 'scratch', 'lsq', 'scaleonly', 'qalora', 'datafree', 'tiled']);
    for (const r of runs) {
      expect(r.status, r.name).toBe('done');
      expect(Number.isFinite(r.loss), r.name).toBe(true);
      expect(r.sample?.startsWith(c.lm.prompt), r.name).toBe(true);
      expect(r.sample?.length, r.name).toBe(c.lm.prompt.length + c.lm.sampleLength);
      expect(r.config.task).toBe('lm');
      if (r.method !== 'fp') expect(r.layerErrors?.length, r.name).toBe(4);
    }
    const nll = Object.fromEntries(runs.map((r) => [r.method, r.loss as number]));
    console.log('LmLab tiny int3:', JSON.stringify(nll));
    expect(nll.rtn).toBeGreaterThan(nll.fp);
    expect(nll.qaft).toBeLessThan(nll.rtn);
    // QAFT from GPTQ's weights starts near where GPTQ ended (the fake-quant re-derives each row's
    // absmax scale from GPTQ's weights, which moves a few of them one level), far below RTN;
    // scratch starts from a random model, far above RTN.
    const gq = runs.find((r) => r.method === 'gptq-qaft')!;
    expect(Math.abs(gq.curve[0].test - nll.gptq) / nll.gptq).toBeLessThan(0.02);
    expect(gq.curve[0].test).toBeLessThan(nll.rtn);
    expect(nll['gptq-qaft']).toBeLessThan(nll.gptq);
    const scratch = runs.find((r) => r.method === 'scratch')!;
    expect(scratch.curve[0].test).toBeGreaterThan(nll.rtn);
    // LSQ and scale-only end below RTN; each is evaluated as the quantized weights it trained
    // (its final NLL is its curve's last point); scale-only starts at RTN.
    for (const m of ['lsq', 'scaleonly'] as const) {
      const r = runs.find((x) => x.method === m)!;
      expect(nll[m], m).toBeLessThan(nll.rtn);
      expect(nll[m], m).toBeCloseTo(r.curve.at(-1)!.test, 5);
      expect(r.name).toBe(`${m === 'lsq' ? 'LSQ' : 'Scale-only'} 3b lr 2e-3 n32`);
    }
    expect(runs.find((x) => x.method === 'scaleonly')!.curve[0].test).toBeCloseTo(nll.rtn, 4);
    expect(events.filter((e) => e.type === 'result')).toHaveLength(11);
    expect(events.some((e) => e.type === 'point')).toBe(true);
    // A second comparison reuses the cached FP model (no FP run).
    const again = await lab.run(c, ['rtn'], () => {});
    expect(again.map((r) => r.method)).toEqual(['rtn']);
    expect(again[0].loss).toBeCloseTo(nll.rtn, 6);
    // Only the latest LM_KEPT_MODELS runs keep their model: sample from LSQ's (QAFT's is gone by now).
    const text = await lab.sample(c, runs.find((r) => r.method === 'lsq')!.id, 'the ');
    expect(text.startsWith('the ')).toBe(true);
    lab.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('with the same 128-sequence budget, QAFT ends below GPTQ and GPTQ below RTN at int3 and int2', async () => {
    const lab = new LmLab(env);
    lab.setOwnText('test.txt', TEXT);
    const out: Record<string, Record<string, number>> = {};
    for (const bits of [3, 2] as const) {
      const c = tinyConfig();
      c.lm.attnBits = bits;
      c.lm.mlpBits = bits;
      c.data.budget = 128;
      const runs = await lab.run(c, bits === 3 ? ['fp', 'rtn', 'gptq', 'qaft'] : ['rtn', 'gptq', 'qaft'], () => {});
      out[bits] = Object.fromEntries(runs.map((r) => [r.method, r.loss as number]));
    }
    console.log('LmLab tiny, budget 128:', JSON.stringify(out));
    for (const bits of ['3', '2']) {
      expect(out[bits].qaft, `int${bits}`).toBeLessThan(out[bits].gptq);
      expect(out[bits].gptq, `int${bits}`).toBeLessThan(out[bits].rtn);
    }
    lab.dispose();
  }, 120_000);

  it('says clearly what is wrong with bad input', async () => {
    const lab = new LmLab(env);
    const c = tinyConfig();
    await expect(lab.run(c, ['fp'], () => {})).rejects.toThrow(/no text was given/);
    lab.setOwnText('short.txt', 'abc');
    await expect(lab.run(c, ['fp'], () => {})).rejects.toThrow(/only 3 characters/);
    const u = cloneConfig(c);
    u.lm.corpus = 'url';
    u.lm.corpusUrl = 'https://example.invalid/t.txt';
    await expect(lab.run(u, ['fp'], () => {})).rejects.toThrow(/could not be fetched: no network/);
    await expect(lab.run(c, ['bogus' as never], () => {})).rejects.toThrow(/bogus is not a method of the language-model task/);
    // LSQ and scale-only name the setting that keeps them from running.
    const asym = cloneConfig(c);
    asym.quant.scheme = 'asym';
    await expect(lab.run(asym, ['lsq'], () => {})).rejects.toThrow(/LSQ needs integer weight bits 2–8.*attn has .*\(setting "scheme"\)/);
    const tern = cloneConfig(c);
    tern.lm.mlpBits = 1.58;
    await expect(lab.run(tern, ['scaleonly'], () => {})).rejects.toThrow(/Scale-only fine-tuning needs .*mlp has 1.58 bits \(setting "bits_mlp"\)/);
    const f = cloneConfig(c);
    f.lm.source = 'files';
    lab.setOwnText('test.txt', TEXT);
    await expect(lab.run(f, ['fp'], () => {})).rejects.toThrow(/no checkpoint files were dropped/);
    lab.dispose();
  });
});

void DEFAULT_CONFIG;
