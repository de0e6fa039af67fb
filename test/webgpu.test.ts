/**
 * The engine on tfjs-webgpu in Node: Dawn (the `webgpu` package) on SwiftShader. Dawn needs
 * LD_LIBRARY_PATH and VK_ICD_FILENAMES at process start, so test/helpers/webgpu-probe.ts runs
 * as a child process with that environment and prints JSON. This test must run wherever
 * Debian's Chromium (which ships SwiftShader) is installed; it is skipped only without it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectClose } from './helpers/expect';
import { runChild } from './helpers/spawn';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const HAS_SWIFTSHADER = existsSync(ICD);
const SKIP_REASON = `skipped: ${ICD} not found (install Debian's chromium package for SwiftShader WebGPU)`;

interface Probe {
  installed: boolean;
  backend: string;
  adapter: string | null;
  backendDuringTraining: string;
  curve: { step: number; train: number; test: number }[];
  stepsDone: number;
  diverged: unknown;
  counts: number[];
  gpuQuant: Record<string, number[]>;
  cpuQuant: Record<string, number[]>;
  fqGpu: number[];
  fqCpu: number[];
}

const TITLE = 'trains a width-16 depth-1 model for 10 steps; quantizers equal the cpu backend';

describe('WebGPU in Node (Dawn + SwiftShader)', () => {
  it.skipIf(!HAS_SWIFTSHADER)(HAS_SWIFTSHADER ? TITLE : `${TITLE} — ${SKIP_REASON}`, async () => {
    const env = { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: ICD };
    const r = await runChild('npx', ['tsx', 'test/helpers/webgpu-probe.ts'], { env, timeoutMs: 100_000 });
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    const p = JSON.parse(line) as Probe;

    // The backend really was WebGPU (not a silent fallback to wasm/cpu).
    expect(p.installed).toBe(true);
    expect(p.backend).toBe('webgpu');
    expect(p.backendDuringTraining).toBe('webgpu');
    expect(p.adapter).toMatch(/swiftshader/i);

    // Loss finite and decreasing over the 10 steps.
    expect(p.diverged).toBeNull();
    expect(p.stepsDone).toBe(10);
    expect(p.curve.map((c) => c.step)).toEqual([0, 2, 4, 6, 8, 10]);
    for (const c of p.curve) expect(Number.isFinite(c.train) && Number.isFinite(c.test)).toBe(true);
    for (let i = 1; i < p.curve.length; i++) expect(p.curve[i].test, `test loss at step ${p.curve[i].step}`).toBeLessThan(p.curve[i - 1].test);
    expect(p.curve.at(-1)!.train).toBeLessThan(p.curve[0].train);

    // The tensor count is flat across the training steps.
    expect(p.counts).toHaveLength(6);
    expect(new Set(p.counts).size, `numTensors: ${p.counts.join(', ')}`).toBe(1);

    // Quantizer outputs on WebGPU equal the cpu backend's, and the hand-checked references.
    for (const [name, cpu] of Object.entries(p.cpuQuant)) expectClose(p.gpuQuant[name], cpu, 1e-6, name);
    expectClose(
      p.gpuQuant.refTernary,
      [1, -1, 0, 0, 1, 0, 1, -1].map((v) => v * 0.69375),
      1e-6,
      'ternary reference',
    );
    expectClose(
      p.gpuQuant.refInt8Tie,
      [13, -64, 32, 127].map((v) => v / 127),
      1e-6,
      'int8 tie',
    );
    expect(p.gpuQuant.zeros.every((v) => v === 0)).toBe(true);

    // A fake-quantized forward pass (ternary + int8 activations, int4) agrees with cpu.
    expect(p.fqGpu).toHaveLength(4 * 200);
    expectClose(p.fqGpu, p.fqCpu, 1e-4, 'fake-quant forward');
  });
});
