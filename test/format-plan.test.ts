/**
 * The format comparison plan ('formats', core/plans.ts): int4 g128, MXFP4, NVFP4 and FP8 E4M3 by
 * RTN, GPTQ and QAFT, on each task through its own rule for the weight bits (tasks.ts), its
 * problems where a format does not fit the model, and the preset that runs it.
 */
import { describe, expect, it } from 'vitest';
import { cloneConfig, DEFAULT_CONFIG } from '../src/engine/core/config';
import { weightQuantLabel } from '../src/engine/core/layerquant';
import { FORMAT_PLAN_METHODS, PLAN_FORMATS } from '../src/engine/core/plans';
import { lmComponentQuant } from '../src/engine/lm/spec';
import { layerWeightQuant } from '../src/engine/poly/layerspec';
import { presetById } from '../src/engine/presets';
import { configProblems, planProblem, taskPlanItems } from '../src/engine/tasks';
import { parseParams } from '../src/engine/url';
import { benchQuant, isBenchBits } from '../src/engine/poly/bench';
import { planProblems } from '../src/ui/problems';

describe('the format plan', () => {
  it('on the default LM: four formats on the attention and MLP weights, RTN, GPTQ and QAFT each, all valid', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.task = 'lm';
    expect(planProblem(c, 'formats')).toBeNull();
    const items = taskPlanItems(c, 'formats');
    expect(items.map((i) => i.label)).toEqual(['with int4 g128', 'with MXFP4', 'with NVFP4', 'with FP8 E4M3']);
    for (const i of items) {
      expect(i.methods).toEqual([...FORMAT_PLAN_METHODS]);
      expect(configProblems(i.config)).toEqual([]);
      // Embedding and head stay FP as in the settings; the FP model's key is unchanged.
      expect([i.config.lm.embedBits, i.config.lm.headBits]).toEqual([32, 32]);
    }
    expect(items.map((i) => [i.config.lm.attnBits, i.config.lm.mlpBits])).toEqual([
      [4, 4],
      [4, 4],
      [4, 4],
      [8, 8],
    ]);
    expect(items.map((i) => weightQuantLabel(lmComponentQuant(i.config, 'mlp')))).toEqual(['int4 asym g128', 'MXFP4 g32', 'NVFP4 g16', 'FP8 E4M3 row']);
    expect(c.lm.attnBits).toBe(3); // the input config is not changed
  });

  it('on the MLP: quant.bits and the quantizer; where int4 g128 does not fit the layers, the largest group that does, else per channel, named in the label', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    // All layers quantized: the first has 14 inputs, which no group of 128, 64 or 32 divides.
    const items = taskPlanItems(c, 'formats');
    expect(items.map((i) => weightQuantLabel(layerWeightQuant(i.config, 1)))).toEqual(['int4 asym row', 'MXFP4 g32', 'NVFP4 g16', 'FP8 E4M3 row']);
    expect(items[0].label).toBe("with int4 g128 (one scale per output channel: groups of 128 do not fit every quantized layer's inputs)");
    expect(planProblems(c, 'formats')).toEqual([]);
    for (const i of items) expect(configProblems(i.config)).toEqual([]);
    // Without the first layer, 512 inputs: g128 as it is.
    const wide = parseParams('v=1&layers=nofirst').config;
    expect(weightQuantLabel(layerWeightQuant(taskPlanItems(wide, 'formats')[0].config, 1))).toBe('int4 asym g128');
    expect(taskPlanItems(wide, 'formats')[0].label).toBe('with int4 g128');
    // ptq-narrow without its first layer: 32 inputs, groups of 32.
    const narrow = parseParams(`${presetById('ptq-narrow')?.params ?? ''}&layers=nofirst`).config;
    expect(weightQuantLabel(layerWeightQuant(taskPlanItems(narrow, 'formats')[0].config, 1))).toBe('int4 asym g32');
  });

  it('the LM still refuses the bit-width plans', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.task = 'lm';
    expect(planProblem(c, 'ptq')).toMatch(/not the plan "ptq"/);
    expect(planProblems(c, 'ptq')).toEqual([{ key: 'run', message: expect.stringMatching(/not the plan "ptq"/) }]);
  });

  it('the lm-formats preset opens the LM and runs the format plan', () => {
    const p = presetById('lm-formats');
    expect(p).toBeDefined();
    const parsed = parseParams(p?.params ?? '');
    expect(parsed.messages).toEqual([]);
    expect(parsed.run).toBe('formats');
    expect(parsed.config.task).toBe('lm');
    expect(PLAN_FORMATS.length).toBe(4);
  });
});

describe('the bench with format schemes', () => {
  it('--bits takes fp, 1.58 and the formats; a format goes on every layer of the bench MLP', () => {
    for (const b of ['fp', 1.58, 'mxfp4', 'nvfp4', 'fp8-e4m3']) expect(isBenchBits(b)).toBe(true);
    for (const b of ['int4', 4, '1.58']) expect(isBenchBits(b)).toBe(false);
    expect(benchQuant('mxfp4')?.map((l) => weightQuantLabel(l.weight))).toEqual(Array(5).fill('MXFP4 g32'));
    expect(benchQuant('nvfp4')?.map((l) => weightQuantLabel(l.weight))).toEqual(Array(5).fill('NVFP4 g16'));
    expect(benchQuant('fp8-e4m3')?.map((l) => weightQuantLabel(l.weight))).toEqual(Array(5).fill('FP8 E4M3 row'));
    expect(benchQuant(1.58)?.map((l) => weightQuantLabel(l.weight))).toEqual(Array(5).fill('ternary absmean'));
  });
});
