/**
 * The paper's ordering in the page: the "Experiments to try" links, then the "PTQ vs QAFT where
 * GPTQ falls short" preset run end to end (on the wasm backend: SwiftShader's emulated WebGPU
 * would take many minutes for a converged FP model) and its local-vs-global and landscape views.
 * At int3 and int2, GPTQ's test MSE is below RTN's, and QAFT's below GPTQ's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PRESETS, PTQ_NARROW } from '../src/engine/presets';
import { BASE_URL, TINY, elementShot, launch, watchErrors } from './browser';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
});

const badge = () => page.getByTestId('backend-badge').textContent();

const viewShot = (name: string) => elementShot(page, 'views', name);

describe('PTQ vs QAFT presets in Chromium', () => {
  it('"Experiments to try" lists every preset as a share link; following one applies its settings and starts it', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${TINY}&backend=webgpu`);
    await expect.poll(badge, { timeout: 60_000 }).toMatch(/webgpu/i);
    await page.getByTestId('presets').locator('summary').click();
    for (const p of PRESETS) {
      await expect(page.getByTestId(`preset-${p.id}`).getAttribute('href')).resolves.toBe(`#${p.params}`);
    }
    await elementShot(page, 'presets', '19-presets');
    await page.getByTestId('preset-ptq-narrow').click();
    await expect.poll(() => page.getByTestId('input-width').inputValue()).toBe('32');
    await expect(page.getByTestId('input-budget').inputValue()).resolves.toBe('128');
    // run=ptq started PTQ vs QAFT (FP first); stop it here, the full run follows on wasm.
    await expect.poll(() => page.getByTestId('stop').isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => page.url()).not.toContain('run=');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the narrow preset on wasm: QAFT below GPTQ below RTN at int3 and int2, GPTQ lowest in local error', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await page.goto(`${BASE_URL}#${PTQ_NARROW}&backend=wasm&run=ptq`);
    await expect.poll(badge, { timeout: 60_000 }).toMatch(/wasm/i);
    // FP, then RTN, GPTQ, QAFT and GPTQ→QAFT at 3 and 2 bits (plus the stopped FP row of the first test); the plan ends with GPTQ→QAFT at 2 bits.
    const last = page.getByTestId('result-row').filter({ hasText: 'GPTQ→QAFT' }).filter({ hasText: '2b' });
    await expect.poll(() => last.filter({ hasText: 'done' }).count(), { timeout: 280_000, interval: 2000 }).toBe(1);
    await expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 60_000 }).toBe(true);
    await page.getByTestId('tab-local-global').click();
    const view = page.getByTestId('view-local-global');
    for (const bits of [3, 2]) {
      await page.getByTestId('input-lg-bits').selectOption(String(bits));
      const mse = async (m: string) => Number(await view.getByTestId(`lg-row-${m}`).getAttribute('data-mse'));
      await expect.poll(() => view.getByTestId('lg-row-qaft').count()).toBe(1);
      const [rtn, gptq, qaft] = [await mse('rtn'), await mse('gptq'), await mse('qaft')];
      expect(gptq, `int${bits}`).toBeLessThan(rtn);
      expect(qaft, `int${bits}`).toBeLessThan(gptq);
      await expect(view.getByTestId('lg-verdict').getAttribute('data-winner')).resolves.toBe('qaft');
      await expect(view.getByTestId('lg-verdict').textContent()).resolves.toMatch(/GPTQ's local error is [\d.]+× below RTN's/);
      await viewShot(`17-ptq-narrow-local-global-int${bits}`);
    }
  });

  it('the landscape of the same runs: lines from FP to each quantized model and random directions', async () => {
    await page.getByTestId('tab-landscape').click();
    const view = page.getByTestId('view-landscape');
    await page.getByTestId('run-landscape').click();
    await expect.poll(() => view.getByTestId('landscape-radial').locator('path.recharts-curve').count(), { timeout: 120_000, interval: 500 }).toBe(4);
    await viewShot('18-ptq-narrow-landscape');
    expect(errors).toEqual([]);
  });
});
