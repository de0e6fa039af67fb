/**
 * Guided tours end to end in Chromium on WebGPU: every tour played start to end with Next from its
 * shipped results (a screenshot of each step: e2e/screenshots/tour-<n>-step-<k>.png), the
 * highlighted element on screen and numbers in each text; Back; a step link; bad tour links; the
 * user's own runs set aside during a tour and back after it; "Run it yourself" starting a live run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { TOURS } from '../src/engine/tours';
import { BASE_URL, SHOTS, TINY, launch, openLab, watchErrors } from './browser';

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
});

const rows = (page: Page) => page.getByTestId('result-row');
const player = (page: Page) => page.getByTestId('tour-player');
const idle = async (page: Page) => expect.poll(() => page.getByTestId('run-comparison').isEnabled(), { timeout: 120_000, interval: 500 }).toBe(true);

/** The step on screen: its number, the text loaded with numbers in it, and the highlighted element found and visible. */
async function expectStep(page: Page, k: number, n: number): Promise<string> {
  await expect.poll(() => player(page).getAttribute('data-step')).toBe(String(k));
  await expect.poll(() => page.getByTestId('tour-progress').textContent()).toContain(`Step ${k} of ${n}`);
  await page.getByTestId('tour-text').waitFor();
  const text = (await page.getByTestId('tour-text').textContent()) ?? '';
  expect(text).toMatch(/\d\.\d|\de-\d/);
  expect(text).not.toMatch(/NaN|undefined|missing/);
  await expect.poll(() => player(page).getAttribute('data-highlight-found'), { timeout: 15_000 }).toBe('true');
  const ring = page.locator('.tour-highlight');
  await expect(ring.count()).resolves.toBe(1);
  await expect(ring.isVisible()).resolves.toBe(true);
  // The ring is on screen (scrolled into view), not only in the page.
  const box = await ring.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.y + box!.height).toBeGreaterThan(0);
  expect(box!.y).toBeLessThan(1000);
  return text;
}

async function stepShot(page: Page, n: number, k: number): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // What the visitor sees: the highlighted element scrolled into view, with the tour panel.
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, `tour-${n}-step-${k}.png`) });
}

describe('guided tours in Chromium on WebGPU', () => {
  let page: Page;
  let errors: string[];
  let mine: string[] = [];

  it('keeps the user’s runs: a tiny comparison before the tour', async () => {
    page = await context.newPage();
    errors = watchErrors(page);
    await openLab(page, `${TINY}&backend=webgpu`);
    await page.getByTestId('run-comparison').click();
    await expect.poll(() => rows(page).count(), { timeout: 150_000, interval: 1000 }).toBe(4);
    await idle(page);
    mine = await rows(page).allTextContents();
  });

  for (const [i, tour] of TOURS.entries()) {
    const n = i + 1;
    it(`plays "${tour.title}" start to end with Next, a screenshot per step`, async () => {
      const list = page.getByTestId('tours');
      if ((await list.getAttribute('open')) === null) await list.locator('summary').click();
      await page.getByTestId(`tour-open-${tour.id}`).click();
      const texts: string[] = [];
      for (let k = 1; k <= tour.steps.length; k++) {
        texts.push(await expectStep(page, k, tour.steps.length));
        await expect(page.getByTestId('tour-title').textContent()).resolves.toBe(tour.steps[k - 1].title);
        // The link of the step says which tour and step it opens.
        expect(page.url()).toContain(`tour=${tour.id}&step=${k}`);
        await expect(page.getByTestId('tour-link').getAttribute('href')).resolves.toContain(`step=${k}`);
        // Only the tour's runs are on screen, none of the user's.
        for (const row of await rows(page).allTextContents()) expect(row).toContain('wasm');
        await stepShot(page, n, k);
        if (k < tour.steps.length) await page.getByTestId('tour-next').click();
      }
      expect(new Set(texts).size).toBe(tour.steps.length);
      // Back goes to the step before.
      await page.getByTestId('tour-back').click();
      await expectStep(page, tour.steps.length - 1, tour.steps.length);
      await page.getByTestId('tour-next').click();
      await expectStep(page, tour.steps.length, tour.steps.length);
      await page.getByTestId('tour-finish').click();
      await expect.poll(() => player(page).count()).toBe(0);
      // The user's own runs are back, exactly, with the view tab they had, and the link has no tour.
      await expect.poll(() => rows(page).allTextContents()).toEqual(mine);
      await expect(page.getByTestId('tab-sweep').getAttribute('aria-selected')).resolves.toBe('true');
      expect(page.url()).not.toContain('tour=');
    });
  }

  it('a step link opens that step, with its precomputed landscape', async () => {
    await page.goto(`${BASE_URL}#tour=ptq-vs-qaft&step=4`);
    await expectStep(page, 4, 5);
    await expect(page.getByTestId('tour-title').textContent()).resolves.toBe('The loss landscape');
    await expect(page.getByTestId('landscape-source').textContent()).resolves.toMatch(/Precomputed for this tour/);
    await expect.poll(() => page.getByTestId('view-landscape').locator('svg .recharts-line').count()).toBeGreaterThanOrEqual(4);
    await page.getByTestId('tour-close').click();
    await expect.poll(() => rows(page).allTextContents()).toEqual(mine);
  });

  it('a bad tour or step in the link is named, and nothing is lost', async () => {
    await page.goto(`${BASE_URL}#tour=nope`);
    await expect.poll(() => page.getByTestId('url-messages').textContent()).toMatch(/no tour "nope"/);
    await expect(player(page).count()).resolves.toBe(0);
    await page.goto(`${BASE_URL}#tour=why-qaft&step=99`);
    await expect.poll(() => page.getByTestId('url-messages').textContent()).toMatch(/"step=99" is not a step.*opens at step 1/);
    await expectStep(page, 1, 5);
    await page.getByTestId('tour-close').click();
    await expect.poll(() => rows(page).allTextContents()).toEqual(mine);
  });

  it('"Run it yourself" applies the step and starts its experiment live; the user’s runs come back after', async () => {
    await openLab(page, `tour=why-qaft&step=2&backend=webgpu`);
    await expectStep(page, 2, 5);
    await page.getByTestId('tour-run').click();
    await page.getByTestId('tour-own').waitFor();
    await expect.poll(() => page.getByTestId('stop').isEnabled(), { timeout: 30_000 }).toBe(true);
    // The step's settings are applied (the tour's 64 × 3 MLP at 1.58 bits).
    await expect(page.getByTestId('input-width').inputValue()).resolves.toBe('64');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(SHOTS, 'tour-run-yourself.png') });
    await page.getByTestId('stop').click();
    await idle(page);
    await page.getByTestId('tour-close').click();
    // The user's runs are back, with the (stopped) run started from the tour kept too.
    const after = await rows(page).allTextContents();
    for (const row of mine) expect(after).toContain(row);
    expect(after.length).toBeGreaterThan(mine.length);
    expect(errors).toEqual([]);
  });
});
