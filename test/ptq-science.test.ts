/**
 * PTQ vs QAFT under the same 128-example budget (width 64, depth 2, well-trained FP):
 * what holds robustly in this lab. GPTQ lowers every layer's local error below RTN's at int3
 * and int2, and its test loss with it; QAFT also ends well below RTN.
 *
 * What does NOT hold here (measured, see the issue notes): the paper's "QAFT below GPTQ" at
 * int3/int2. With a well-trained FP model, per-channel GPTQ beats QAFT on this toy, both on
 * this small config and on the default 512×4 model; QAFT on 128 examples overfits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/engine/experiment';
import { Lab } from '../src/engine/experiment';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';

const URL = 'v=1&width=64&depth=2&ntrain=2048&ntest=256&fp_steps=1200&fp_batch=128&budget=128&steps=200&batch=128&lr=3e-4&log=200&sweep_bits=3,2';

describe('RTN vs GPTQ vs QAFT with 128 examples (width 64, depth 2)', () => {
  let runs: RunRecord[] = [];

  beforeAll(async () => {
    await useBackend();
    const { config, messages } = parseParams(URL);
    expect(messages).toEqual([]);
    const lab = new Lab();
    runs = await lab.runPlan(config, 'ptq', [], () => {});
    lab.dispose();
  });

  const run = (method: string, bits: number) => {
    const r = runs.find((x) => x.method === method && x.bits === bits);
    expect(r?.status, `${method} ${bits}`).toBe('done');
    return r as RunRecord;
  };

  for (const bits of [3, 2]) {
    it(`int${bits}: GPTQ's local error is below RTN's in every layer, and so is its test loss`, () => {
      const rtn = run('rtn', bits);
      const gptq = run('gptq', bits);
      const [er, eg] = [rtn.layerErrors as number[], gptq.layerErrors as number[]];
      expect(eg).toHaveLength(3);
      eg.forEach((e, i) => expect(e, `layer ${i}`).toBeLessThan(er[i]));
      expect(gptq.testMse).toBeLessThan(rtn.testMse as number);
      expect(gptq.examples).toBe(128);
    });

    it(`int${bits}: QAFT on the same 128 examples ends below RTN`, () => {
      expect(run('qaft', bits).testMse).toBeLessThan(run('rtn', bits).testMse as number);
      expect(run('qaft', bits).examples).toBe(128);
    });
  }
});
