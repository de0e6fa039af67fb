/**
 * The lab's central claim on a small, fixed config: after FP pretraining, QAFT at 1.58 bits
 * beats both round-to-nearest and training the ternary model from scratch (test MSE); at
 * int8, round-to-nearest is already within a few % of full precision.
 *
 * This exact config, re-run by hand with seeds 0, 1, 2 for init, batches and data (wasm): FP 0.020–0.022,
 * RTN 1.58 0.17–0.19, QAFT 0.084–0.097, scratch 0.32–0.33, RTN int8 within 0.1 % of FP. The
 * assertions below leave wide margins (QAFT/RTN ≤ 0.51 measured vs < 0.75 asserted).
 * About 6 s on wasm (80 s on the cpu backend).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/engine/core/runs';
import { Lab } from '../src/engine/poly/lab';
import { parseParams } from '../src/engine/url';
import { useBackend } from './helpers/backend';

const URL = 'v=1&width=64&depth=2&ntrain=2048&ntest=256&fp_steps=300&fp_lr=1e-3&steps=200&lr=1e-4&log=50';

describe('QAFT vs RTN vs scratch (width 64, depth 2, 2048 examples)', () => {
  let runs: RunRecord[] = [];
  let rtn8: RunRecord;
  let rtn8tensor: RunRecord;

  beforeAll(async () => {
    await useBackend();
    const { config, messages } = parseParams(URL);
    expect(messages).toEqual([]);
    const lab = new Lab();
    runs = await lab.run(config, ['fp', 'rtn', 'qaft', 'scratch'], () => {});
    // Same FP model (cached): quantize it to int8 per row and per tensor.
    [rtn8] = await lab.run({ ...config, quant: { ...config.quant, bits: 8 } }, ['rtn'], () => {});
    [rtn8tensor] = await lab.run({ ...config, quant: { ...config.quant, bits: 8, granularity: 'tensor' } }, ['rtn'], () => {});
    lab.dispose();
  });

  const mse = (m: string) => {
    const r = runs.find((x) => x.method === m);
    expect(r?.status, m).toBe('done');
    return r?.loss ?? NaN;
  };

  it('every run finished with a finite test MSE; FP learned the task', () => {
    expect(runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'scratch']);
    for (const r of runs) expect(Number.isFinite(r.loss), r.method).toBe(true);
    expect(mse('fp')).toBeLessThan(0.05);
  });

  it('1.58 bit: QAFT ends below RTN and below scratch', () => {
    expect(mse('qaft')).toBeLessThan(0.75 * mse('rtn'));
    expect(mse('qaft')).toBeLessThan(0.5 * mse('scratch'));
    // And quantization costs something: every ternary model is worse than FP.
    expect(mse('rtn')).toBeGreaterThan(mse('fp'));
    expect(mse('qaft')).toBeGreaterThan(mse('fp'));
  });

  it('int8: RTN is within a few % of FP (per row and per tensor)', () => {
    const fp = mse('fp');
    expect(rtn8.bits).toBe(8);
    expect(Math.abs((rtn8.loss ?? NaN) - fp) / fp).toBeLessThan(0.03);
    expect(Math.abs((rtn8tensor.loss ?? NaN) - fp) / fp).toBeLessThan(0.03);
  });
});
