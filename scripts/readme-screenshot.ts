/**
 * Regenerates docs/screenshot.png: builds nothing itself — run `npx vite build` first. Serves
 * dist/, opens a mid-size 1.58-bit comparison in Chromium with `run=1`, waits for the four
 * runs and saves a screenshot.   Usage: npx tsx scripts/readme-screenshot.ts [hash]
 */
import { mkdirSync } from 'node:fs';
import { preview } from 'vite';
import { launch } from '../e2e/browser';

const hash = process.argv[2] ?? 'v=1&backend=wasm&width=128&depth=3&ntrain=4096&ntest=512&fp_steps=1200&steps=600&lr=1e-3&log=50&run=1';

const server = await preview({ preview: { port: 4174, host: '127.0.0.1', strictPort: true } });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`http://127.0.0.1:4174/#${hash}`);
  await page.getByTestId('result-row').nth(3).waitFor({ timeout: 600_000 });
  await page.waitForTimeout(500);
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: false, clip: { x: 0, y: 0, width: 1280, height: 1000 } });
  console.log('saved docs/screenshot.png');
} finally {
  await browser.close();
  await server.close();
}
