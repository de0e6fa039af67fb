/** Launches Debian's Chromium with real WebGPU on SwiftShader (no GPU on CI) for the e2e tests. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const BASE_URL = process.env.LAB_URL ?? 'http://127.0.0.1:4173/';
export const SHOTS = path.resolve('e2e/screenshots');

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Open the lab at `#hash` and wait until its backend is WebGPU (SwiftShader here). */
export async function openLab(page: Page, hash: string): Promise<void> {
  await page.goto(`${BASE_URL}#${hash}`);
  await page.getByTestId('backend-badge').waitFor();
  await expect.poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 60_000 }).toMatch(/webgpu/i);
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A screenshot of one element (by test id), e.g. the views card: what a shot is about, without the page around it. */
export async function elementShot(page: Page, testId: string, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.getByTestId(testId).screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Collect page errors and console errors so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Tiny settings: SwiftShader runs WebGPU on the CPU, so the e2e models are small. */
export const TINY = 'v=1&width=16&depth=1&ntrain=64&ntest=16&fp_steps=30&steps=30&batch=16&fp_batch=16&log=10';
