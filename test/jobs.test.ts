/** `--jobs N`: plan cells in worker processes, the FP model trained once and handed over bit for bit; the same runs as one process. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSnapshot, writeSnapshot } from '../src/cli/jobs';
import { runLabCli } from './helpers/spawn';

const SWEEP = 'v=1&width=16&depth=1&ntrain=128&ntest=32&fp_steps=20&steps=20&log=10&fp_batch=32&batch=32&sweep_bits=4,2&sweep_lr=1e-4,1e-3';

interface Summary {
  plan: string;
  runs: { method: string; name: string; bits: number; lr: number | null; loss: number | null; status: string }[];
}

describe('--jobs', () => {
  it('an FP snapshot file reads back bit for bit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qaft-snap-'));
    try {
      const s = {
        dims: [3, 2, 1],
        weights: [Float32Array.from([1, -2, 3.5, 1e-30, NaN, -0]), Float32Array.from([0.1, 0.2])],
        biases: [Float32Array.from([7, 8]), Float32Array.from([-1])],
      };
      const file = path.join(dir, 'fp.bin');
      writeSnapshot(file, s);
      const back = readSnapshot(readFileSync(file));
      expect(back.dims).toEqual(s.dims);
      for (const [a, b] of [...back.weights.map((w, i) => [w, s.weights[i]]), ...back.biases.map((w, i) => [w, s.biases[i]])]) {
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a sweep with --jobs 2 gives exactly the runs of --jobs 1, in the same order', async () => {
    const one = await runLabCli([SWEEP, '--plan', 'sweep', '--backend', 'wasm', '--jobs', '1'], 120_000);
    const two = await runLabCli([SWEEP, '--plan', 'sweep', '--backend', 'wasm', '--jobs', '2'], 120_000);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const a = (JSON.parse(one.stdout) as Summary).runs;
    const b = (JSON.parse(two.stdout) as Summary).runs;
    expect(a.map((r) => `${r.method} ${r.bits} ${r.lr}`)).toEqual([
      'fp 32 0.001',
      'rtn 4 null',
      'qaft 4 0.0001',
      'qaft 4 0.001',
      'rtn 2 null',
      'qaft 2 0.0001',
      'qaft 2 0.001',
    ]);
    const strip = (r: Summary['runs'][number]) => ({ method: r.method, name: r.name, bits: r.bits, lr: r.lr, loss: r.loss, status: r.status });
    expect(b.map(strip)).toEqual(a.map(strip));
  }, 240_000);

  it('repeats: one FP model per seed, trained once, and the runs in the order of one process', async () => {
    const args = [`${SWEEP.replace('sweep_lr=1e-4,1e-3', 'sweep_lr=1e-3')}&repeats=2`, '--plan', 'sweep', '--backend', 'wasm'];
    const one = await runLabCli([...args, '--jobs', '1'], 120_000);
    const two = await runLabCli([...args, '--jobs', '2'], 120_000);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const a = (JSON.parse(one.stdout) as Summary).runs;
    const b = (JSON.parse(two.stdout) as Summary).runs;
    expect(a.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'rtn', 'qaft', 'fp', 'rtn', 'qaft', 'rtn', 'qaft']);
    const strip = (r: Summary['runs'][number]) => ({ method: r.method, name: r.name, bits: r.bits, lr: r.lr, loss: r.loss, status: r.status });
    expect(b.map(strip)).toEqual(a.map(strip));
    expect(a[0].loss).not.toBe(a[5].loss); // the two repeats' FP models differ
    expect(one.stderr).toMatch(/QAFT 4b lr 1e-3: test MSE \S+ ± \S+ \(95 %, n = 2\)/);
  }, 240_000);

  it('refuses a --jobs that is not a whole number from 1 to 64', async () => {
    const r = await runLabCli([SWEEP, '--jobs', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--jobs takes a whole number of worker processes from 1 to 64, not "0"/);
  });
});
