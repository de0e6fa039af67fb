/**
 * The method registry (src/engine/core/methods/): one file per method, one entry each; every
 * method of a task runs through that task's lab; GPTQ-initialized QAFT starts from GPTQ.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TASKS } from '../src/engine/core/config';
import { comparisonOf, isMethod, METHOD_IDS, METHOD_REGISTRY, methodDef, methodsOf } from '../src/engine/core/methods';
import { Lab } from '../src/engine/poly/lab';
import { useBackend } from './helpers/backend';
import { tinyConfig } from './helpers/configs';
import { REPO_ROOT } from './helpers/spawn';

describe('the registry', () => {
  it('lists every method file of the folder once, with unique ids and labels', () => {
    const dir = path.join(REPO_ROOT, 'src/engine/core/methods');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'define.ts');
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual([...METHOD_IDS].sort());
    expect(new Set(METHOD_IDS).size).toBe(METHOD_IDS.length);
    expect(new Set(METHOD_REGISTRY.map((m) => m.label)).size).toBe(METHOD_REGISTRY.length);
    for (const m of METHOD_REGISTRY) {
      expect(m.tasks.length, m.id).toBeGreaterThan(0);
      for (const t of [...m.tasks, ...m.comparison]) expect(TASKS).toContain(t);
      for (const t of m.comparison) expect(m.tasks).toContain(t);
    }
    expect(isMethod('gptq-qaft')).toBe(true);
    expect(isMethod('bogus')).toBe(false);
    expect(() => methodDef('bogus' as never)).toThrow(/not a method/);
  });

  it('derives each task’s methods and comparison', () => {
    expect(methodsOf('poly')).toEqual(['fp', 'rtn', 'gptq', 'qaft', 'gptq-qaft', 'scratch', 'lsq', 'scaleonly', 'qalora', 'datafree', 'tiled']);
    expect(methodsOf('lm')).toEqual(['fp', 'rtn', 'gptq', 'qaft', 'gptq-qaft', 'scratch', 'lsq', 'scaleonly', 'qalora', 'datafree', 'tiled']);
    expect(comparisonOf('poly')).toEqual(['fp', 'rtn', 'qaft', 'scratch']);
    expect(comparisonOf('lm')).toEqual(['fp', 'rtn', 'gptq', 'qaft']);
  });
});

describe('every method of the polynomial task through its lab', () => {
  beforeAll(async () => {
    await useBackend();
  });

  it('each ends done with a finite test MSE; GPTQ→QAFT starts near GPTQ and ends below it; QA-LoRA, data-free and tiled keep their figures', async () => {
    const before = tf.memory().numTensors;
    const lab = new Lab();
    const c = tinyConfig({ bits: 4, qaftLr: 1e-3 });
    c.data.budget = 64;
    const runs = await lab.run(c, methodsOf('poly'), () => {});
    expect(runs.map((r) => r.method)).toEqual(methodsOf('poly'));
    for (const r of runs) {
      expect(r.status, r.name).toBe('done');
      expect(Number.isFinite(r.loss), r.name).toBe(true);
    }
    const by = Object.fromEntries(runs.map((r) => [r.method, r]));
    const gq = by['gptq-qaft'];
    const gptqMse = by.gptq.loss as number;
    expect(gq.name).toMatch(/^GPTQ→QAFT 4b lr 1e-3$/);
    expect(gq.examples).toBe(64);
    expect(gq.notes?.some((n) => /Started from GPTQ's weights/.test(n))).toBe(true);
    expect(Math.abs(gq.curve[0].test - gptqMse) / gptqMse).toBeLessThan(0.05);
    expect(gq.loss as number).toBeLessThan(gptqMse);
    // The methods that read the shared lm settings (defaults: r 8, 256 inputs, one layer per tile, 100 + 100 steps).
    expect(by.qalora.name).toBe('QA-LoRA 4b r8 lr 1e-3');
    expect(by.qalora.extra?.map((e) => e.label)).toEqual(['test MSE before merging (quantized base + FP adapters)', 'adapter parameters']);
    expect(by.datafree).toMatchObject({ name: 'Data-free QAFT 4b lr 1e-3', examples: 0 });
    expect(by.tiled).toMatchObject({ name: 'Tiled QAT 4b k1 lr 1e-3', steps: 3 * 100 + 100, stepsDone: 400, examples: 64 });
    lab.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
