/** The headless CLI (src/cli/lab.ts) as a child process: `npx tsx src/cli/lab.ts …`. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/cli/load';
import { runLabCli } from './helpers/spawn';

const TINY = 'v=1&width=16&depth=1&ntrain=128&ntest=32&fp_steps=20&steps=20&log=10&fp_batch=32&batch=32';
const dir = mkdtempSync(path.join(tmpdir(), 'qaft-cli-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  backend: string;
  config: { model: { width: number; depth: number }; quant: { bits: number } };
  runs: { method: string; bits: number; lr: number | null; steps: number; loss: number | null; diverged: boolean; status: string }[];
}

function expectFourRuns(stdout: string, width: number): Summary {
  const s = JSON.parse(stdout) as Summary;
  expect(s.backend).toBe('wasm');
  expect(s.config.model.width).toBe(width);
  expect(s.runs.map((r) => r.method)).toEqual(['fp', 'rtn', 'qaft', 'scratch']);
  for (const r of s.runs) {
    for (const k of ['method', 'bits', 'lr', 'steps', 'loss', 'diverged'] as const) expect(r, `${r.method} has ${k}`).toHaveProperty(k);
    expect(Number.isFinite(r.loss), r.method).toBe(true);
    expect(r.diverged).toBe(false);
    expect(r.status).toBe('done');
  }
  return s;
}

describe('npx tsx src/cli/lab.ts', () => {
  it('a tiny share URL: stdout is one JSON summary with 4 runs', async () => {
    const r = await runLabCli([`https://lab.example.org/#${TINY}`, '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const s = expectFourRuns(r.stdout, 16);
    expect(s.runs.map((x) => [x.bits, x.lr, x.steps])).toEqual([
      [32, 1e-3, 20],
      [1.58, null, 0],
      [1.58, 1e-4, 20],
      [1.58, 1e-4, 20],
    ]);
    // Progress goes to stderr, not stdout.
    expect(r.stderr).toMatch(/backend wasm/);
    expect(r.stderr).toMatch(/\[FP lr 1e-3\] step 20\/20/);
  });

  it('run=ptq in the link picks the PTQ-vs-QAFT plan (no --plan needed)', async () => {
    const r = await runLabCli([`${TINY}&sweep_bits=2&budget=16&run=ptq`, '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary & { plan: string };
    expect(s.plan).toBe('ptq');
    expect(s.runs.map((x) => `${x.method} ${x.bits}`)).toEqual(['fp 32', 'rtn 2', 'gptq 2', 'qaft 2', 'gptq-qaft 2']);
  });

  it('a preset id reads as its link, plan included', () => {
    const l = loadExperiment('ptq-narrow');
    expect(l.messages).toEqual([]);
    expect(l.plan).toBe('ptq');
    expect(l.config.model).toEqual({ width: 32, depth: 3 });
    expect(loadExperiment('v=1&bits=2').plan).toBeUndefined();
  });

  it('a malformed URL exits non-zero with a message naming the key', async () => {
    const r = await runLabCli([`${TINY}&bits=banana&deg=9`, '--backend', 'wasm']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/"bits" must be a number, not "banana"/);
    expect(r.stderr).toMatch(/"deg=9" is not allowed/);
    expect(r.stderr).toMatch(/--lenient/);
  });

  it('a config JSON file (partial, completed from the defaults) works', async () => {
    const file = path.join(dir, 'tiny.json');
    const cfg = {
      data: { trainSize: 128, testSize: 32 },
      model: { width: 8, depth: 1 },
      quant: { bits: 4 },
      fp: { steps: 20, batch: 32 },
      qaft: { steps: 20, batch: 32 },
      logEvery: 10,
    };
    writeFileSync(file, JSON.stringify(cfg));
    const r = await runLabCli([file, '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const s = expectFourRuns(r.stdout, 8);
    expect(s.config.quant.bits).toBe(4);
    expect(s.runs[1].bits).toBe(4);
  });

  it('a broken JSON file, and an invalid config file, give clear errors', async () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"model": {"width": 16,, }');
    const r1 = await runLabCli([broken, '--backend', 'wasm']);
    expect(r1.code).not.toBe(0);
    expect(r1.stdout).toBe('');
    expect(r1.stderr).toContain(`${broken} is not valid JSON`);

    const invalid = path.join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ model: { width: 2 }, quant: { granularity: 'diagonal' } }));
    const r2 = await runLabCli([invalid, '--backend', 'wasm']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain(`${invalid}: "model.width" = 2 is not allowed`);
    expect(r2.stderr).toContain(`${invalid}: "quant.granularity" = "diagonal" is not allowed`);
    expect(r2.stderr).toMatch(/--lenient/);
  });
  it('bad arguments and settings a method cannot use end with one clear line, never a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [[`${TINY}&bits=1.58`, '--methods', 'lsq', '--backend', 'wasm'], /lab: LSQ needs integer weight bits 2–8/],
      [
        [`${TINY}&bits=4&gran=group&group=8&layers=nofirst`, '--methods', 'lsq', '--backend', 'wasm'],
        /LSQ needs .* layer 1 has int4 sym-narrow g8 \(setting "gran"\)/,
      ],
      [['v=1&lq=0', '--lenient', '--methods', 'bogus'], /"lq" entries are layer:bits[\s\S]*unknown method\(s\) for the polynomial task: "bogus"/],
      [['x.json'], /No file "x\.json"/],
      [[TINY, '--rot', 'bogus'], /--rot takes none or hadamard, not "bogus"/],
      [[`${TINY}&bits=4`, '--rot', 'hadamard', '--methods', 'lsq', '--backend', 'wasm'], /LSQ learns the scales of the weights as stored[\s\S]*"rot"/],
      [['--foo'], /Unknown option '--foo'/],
    ];
    for (const [args, expected] of cases) {
      const r = await runLabCli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(expected);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});
