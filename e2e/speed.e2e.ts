/**
 * The speed page in Chromium (WebGPU on SwiftShader, wasm threaded and not, WebGL, cpu): a quick run
 * measures every backend in its own worker (the MLP FP, 1.58-bit, MXFP4 and NVFP4; the GPT FP, int3
 * and MXFP4 QAFT) and gives a JSON result with the adapter's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BASE_URL, launch, shot, watchErrors } from './browser';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

interface Report {
  lab: { version: string; commit: string };
  user_agent: string;
  cross_origin_isolated: boolean;
  gpu_adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  backends: {
    id: string;
    available: boolean;
    error: string | null;
    threads: number | null;
    adapter: string | null;
    matmul: { n: number; gflops: number }[];
    toy: { bits: string | number; per_s: number | null; gpu_programs_per_step: number | null; leaked_tensors_per_step: number | null }[];
    gpt: { variant: string; per_s: number | null; gpu_programs_per_step: number | null; leaked_tensors_per_step: number | null }[];
  }[];
  wasm_thread_speedup: { threads: number } | null;
}

describe('speed page', () => {
  it('runs a quick measurement of every backend and gives a JSON result carrying the adapter', async () => {
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}speed.html#mode=quick&run=1`);
    await page.getByTestId('speed-status').waitFor();
    await expect.poll(() => page.getByTestId('speed-adapter').textContent(), { timeout: 30_000 }).toMatch(/swiftshader|google/i);
    await page.getByTestId('speed-json').waitFor({ timeout: 900_000 });
    const report = JSON.parse(await page.getByTestId('speed-json').inputValue()) as Report;
    console.log(`speed page (quick, Chromium, SwiftShader WebGPU; 2 shared cores):`);
    for (const b of report.backends)
      console.log(
        `  ${b.id}: ${b.error ?? `matmul ${b.matmul.map((m) => `${m.n}:${m.gflops}`).join(' ')} GFLOP/s; MLP ${b.toy.map((t) => `${t.bits} ${t.per_s}`).join(', ')} samples/s; GPT ${b.gpt.map((g) => `${g.variant} ${g.per_s}`).join(', ')} tokens/s; programs ${[...b.toy, ...b.gpt].map((x) => x.gpu_programs_per_step).join('/')}`}`,
      );
    expect(report.gpu_adapter).not.toBeNull();
    expect(`${report.gpu_adapter!.vendor} ${report.gpu_adapter!.architecture} ${report.gpu_adapter!.description}`).toMatch(/swiftshader|google/i);
    expect(report.user_agent).toMatch(/Chrome/);
    expect(report.cross_origin_isolated).toBe(true);
    expect(report.lab.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.lab.commit).not.toBe('unknown');
    expect(report.backends.map((b) => b.id)).toEqual(['webgpu', 'wasm', 'wasm1', 'webgl', 'cpu']);
    const programs = (xs: { gpu_programs_per_step: number | null }[]) => xs.map((x) => x.gpu_programs_per_step!);
    // Every backend this Chromium has gives numbers; WebGPU, wasm and cpu are always there.
    for (const b of report.backends) {
      if (b.id === 'webgl' && !b.available) continue; // a headless Chromium may have no WebGL context
      expect(b.error, b.id).toBeNull();
      expect(b.matmul.length, b.id).toBeGreaterThan(0);
      for (const m of b.matmul) expect(m.gflops, `${b.id} matmul ${m.n}`).toBeGreaterThan(0);
      expect(b.toy.map((t) => t.bits)).toEqual(['fp', 1.58, 'mxfp4', 'nvfp4']);
      expect(b.gpt.map((g) => g.variant)).toEqual(['fp', 'qaft', 'mxfp4']);
      for (const x of [...b.toy, ...b.gpt]) {
        expect(x.per_s, b.id).toBeGreaterThan(0);
        expect(x.leaked_tensors_per_step, b.id).toBe(0);
        // Programs per step are counted on WebGPU only.
        if (b.id === 'webgpu') expect(x.gpu_programs_per_step).toBeGreaterThan(10);
        else expect(x.gpu_programs_per_step).toBeNull();
      }
    }
    const gpu = report.backends.find((b) => b.id === 'webgpu')!;
    expect(gpu.adapter).toMatch(/swiftshader|google/i);
    // The formats' fake-quant is one fused program per weight (MX), two for NVFP4 (tensor amax, then the blocks):
    // the MLP's 5 layers add 5 and 10 programs to the FP step, the GPT's 16 quantized matrices 16.
    const [toyFp, , toyMx, toyNv] = programs(gpu.toy);
    expect([toyMx - toyFp, toyNv - toyFp]).toEqual([5, 10]);
    const [gptFp, , gptMx] = programs(gpu.gpt);
    expect(gptMx - gptFp).toBe(16);
    await expect(page.getByTestId('speed-programs-webgpu').textContent()).resolves.toBe(
      `MLP ${programs(gpu.toy).join(' / ')}GPT ${programs(gpu.gpt).join(' / ')}`,
    );
    await expect(page.getByTestId('speed-table').locator('thead').textContent()).resolves.toMatch(/FP1\.58-bitMXFP4NVFP4FPint3 QAFTMXFP4 QAFT/);
    expect(report.backends.find((b) => b.id === 'wasm')!.threads).toBeGreaterThan(1);
    expect(report.backends.find((b) => b.id === 'wasm1')!.threads).toBe(1);
    expect(report.wasm_thread_speedup?.threads).toBeGreaterThan(1);
    await expect(page.getByTestId('speed-threads').textContent()).resolves.toMatch(/threads vs 1 thread/);
    // Copy gives the same JSON.
    await page.getByTestId('speed-copy').click();
    await expect.poll(() => page.getByTestId('speed-copy').textContent()).toBe('Copied');
    expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toEqual(report);
    await shot(page, 'speed-page');
    expect(errors).toEqual([]);
  }, 1_000_000);
});
