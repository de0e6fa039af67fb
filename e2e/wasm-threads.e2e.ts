/**
 * wasm threads in the built page (Chromium): the threaded SIMD build runs after bundling, the lab
 * reports its thread count and trains with it, the speed page's fixed workload runs with threads
 * on and off (the speed-up is printed, not asserted), and without cross-origin isolation the page
 * falls back to one thread and says why.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE_URL, TINY, launch, shot, watchErrors } from './browser';

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

/** Where the in-page measurement is left for the benchmark (git-ignored). */
const PAGE_THREADS_DIR = path.resolve('tmp');

const badge = (page: Page) => page.getByTestId('backend-badge').textContent();

describe('wasm threads in Chromium', () => {
  it('the lab runs wasm on every core and trains with it', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&backend=wasm`);
    await expect.poll(() => badge(page), { timeout: 60_000 }).toMatch(/^wasm/);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(cores).toBeGreaterThan(1);
    expect(await badge(page)).toBe(`wasm · ${Math.min(cores, 8)} threads`);
    await page.getByTestId('run-comparison').click();
    await expect.poll(() => page.getByTestId('result-row').count(), { timeout: 240_000, interval: 1000 }).toBeGreaterThanOrEqual(4);
    const table = (await page.getByTestId('results-table').textContent()) ?? '';
    expect(table).not.toMatch(/NaN|diverged/i);
    await shot(page, 'wasm-threads-lab');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('measures the same training workload with threads on and off', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${BASE_URL}speed.html#backends=wasm,wasm1&mode=quick&run=1`);
    await page.getByTestId('speed-json').waitFor({ timeout: 600_000 });
    const report = JSON.parse(await page.getByTestId('speed-json').inputValue()) as {
      backends: {
        id: string;
        threads: number;
        error: string | null;
        toy: { bits: string | number; batch: number; per_s: number }[];
        gpt: { variant: string; batch: number; per_s: number }[];
      }[];
      wasm_thread_speedup: {
        threads: number;
        toy: { bits: string | number; batch: number; ratio: number }[];
        gpt: { variant: string; ratio: number }[];
        matmul: { n: number; ratio: number }[];
      };
    };
    const [on, off] = report.backends;
    expect(on.error).toBeNull();
    expect(off.error).toBeNull();
    expect(on.threads).toBeGreaterThan(1);
    expect(off.threads).toBe(1);
    const s = report.wasm_thread_speedup;
    console.log(`wasm in Chromium, ${on.threads} threads vs 1 (2 cores shared with other processes, quick plan):`);
    for (const t of on.toy) {
      const o = off.toy.find((x) => x.bits === t.bits && x.batch === t.batch)!;
      console.log(`  MLP ${t.bits} batch ${t.batch}: ${t.per_s} vs ${o.per_s} samples/s, ×${s.toy.find((x) => x.bits === t.bits)!.ratio}`);
    }
    for (const g of on.gpt) {
      const o = off.gpt.find((x) => x.variant === g.variant)!;
      console.log(`  GPT ${g.variant} batch ${g.batch}: ${g.per_s} vs ${o.per_s} tokens/s, ×${s.gpt.find((x) => x.variant === g.variant)!.ratio}`);
    }
    console.log(`  matmul: ${s.matmul.map((m) => `${m.n} ×${m.ratio}`).join(', ')}`);
    for (const r of [...s.toy, ...s.gpt, ...s.matmul]) expect(r.ratio).toBeGreaterThan(0);
    // For `npm run bench` (page_wasm_threads): the latest in-page measurement, with its conditions.
    mkdirSync(PAGE_THREADS_DIR, { recursive: true });
    writeFileSync(
      path.join(PAGE_THREADS_DIR, 'wasm-threads.json'),
      JSON.stringify(
        {
          source: 'e2e/wasm-threads.e2e.ts (speed page, quick plan, Chromium)',
          measured_at: new Date().toISOString(),
          cpus: os.cpus().length,
          loadavg: os.loadavg(),
          ...report,
        },
        null,
        2,
      ),
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 700_000);

  it('without cross-origin isolation the page falls back to one thread and says why', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    // Serve the same files without COOP/COEP: no SharedArrayBuffer, so no threads.
    await page.route('**/*', async (route) => {
      const res = await route.fetch();
      const headers = { ...res.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response: res, headers });
    });
    await page.goto(`${BASE_URL}#${TINY}&backend=wasm`);
    await expect.poll(() => badge(page), { timeout: 60_000 }).toMatch(/^wasm/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await badge(page)).toBe('wasm · 1 thread');
    await expect(page.getByTestId('backend-note').textContent()).resolves.toMatch(/1 thread: the page is not cross-origin isolated/);
    await shot(page, 'wasm-threads-not-isolated');
    expect(errors).toEqual([]);
    await page.close();
  });
});
