/**
 * PTQ vs QAFT under the same 128-example budget: the paper's ordering, on exactly the page's
 * "PTQ vs QAFT where GPTQ falls short" preset (a narrow 32 × 3 MLP trained to convergence).
 *
 * At int3 and int2: GPTQ's local error is below RTN's in every layer and its test loss below
 * RTN's, yet QAFT on the same 128 examples ends below GPTQ. A control rules out "QAFT just trains
 * more": the FP model fine-tuned on those 128 examples (same lr, steps and batch) gets worse.
 *
 * Where it does not hold: the wide default 512 × 4 MLP, where GPTQ comes within about 1 % of FP
 * at int3 and QAFT overfits 128 examples (README, "Where PTQ works and where it does not").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/engine/core/runs';
import { Lab } from '../src/engine/poly/lab';
import { PTQ_NARROW, presetById } from '../src/engine/presets';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';

describe('RTN vs GPTQ vs QAFT with 128 examples (the narrow, converged preset)', () => {
  let runs: RunRecord[] = [];
  let control: RunRecord;

  beforeAll(async () => {
    await useBackend();
    const { config, messages } = parseParams(PTQ_NARROW);
    expect(messages).toEqual([]);
    expect(presetById('ptq-narrow')?.params).toBe(`${PTQ_NARROW}&run=ptq`);
    const lab = new Lab();
    runs = await lab.runPlan(config, 'ptq', [], () => {});
    // Control: the same training on the same 128 examples without quantization.
    [control] = await lab.run({ ...config, quant: { ...config.quant, bits: 32 } }, ['qaft'], () => {});
    lab.dispose();
  }, 300_000);

  const run = (method: string, bits: number) => {
    const r = runs.find((x) => x.method === method && x.bits === bits);
    expect(r?.status, `${method} ${bits}`).toBe('done');
    return r as RunRecord;
  };

  it('the FP model is trained to convergence: fine-tuning it on the 128 examples makes it worse', () => {
    const fp = runs.find((r) => r.method === 'fp') as RunRecord;
    expect(control.status).toBe('done');
    expect(control.examples).toBe(128);
    expect(control.loss).toBeGreaterThan(fp.loss as number);
  });

  for (const bits of [3, 2]) {
    it(`int${bits}: GPTQ's local error is below RTN's in every layer, and so is its test loss`, () => {
      const rtn = run('rtn', bits);
      const gptq = run('gptq', bits);
      const [er, eg] = [rtn.layerErrors as number[], gptq.layerErrors as number[]];
      expect(eg).toHaveLength(4);
      eg.forEach((e, i) => expect(e, `layer ${i}`).toBeLessThan(er[i]));
      expect(gptq.loss).toBeLessThan(rtn.loss as number);
      expect(gptq.examples).toBe(128);
    });

    it(`int${bits}: QAFT on the same 128 examples ends below GPTQ`, () => {
      const qaft = run('qaft', bits);
      expect(qaft.examples).toBe(128);
      expect(qaft.loss).toBeLessThan(run('gptq', bits).loss as number);
    });
  }
});
