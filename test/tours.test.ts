/**
 * The guided tours' shipped results (public/tours/<id>.json, made by `npm run tours`): each file
 * matches its tour's experiments as defined now (so a changed experiment without regenerating
 * fails here), every claim the story makes holds on the shipped data, every step's text reads
 * its numbers from it, and the tour keys of the link (tour=…&step=…) are read with clear messages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTourFile, TOURS, TourResults, type TourFile } from '../src/engine/tours';
import { configToParams, parseParams } from '../src/engine/url';
import { upgradeRun } from '../src/engine/runfile';

const load = (id: string): unknown => JSON.parse(readFileSync(path.resolve('public/tours', `${id}.json`), 'utf8'));

describe.each(TOURS.map((t) => [t.id, t] as const))('tour %s', (id, tour) => {
  const data = load(id);

  it('ships a file of this format, made from the experiments as defined now', () => {
    expect(isTourFile(data, id)).toBe(true);
    const file = data as TourFile;
    expect(file.experiments.map((e) => [e.id, e.params, e.plan, e.methods])).toEqual(tour.experiments.map((e) => [e.id, e.params, e.plan, e.methods]));
    for (const e of tour.experiments) {
      // The settings parse without a problem, and the shipped runs carry exactly them (as the lab ran them).
      const parsed = parseParams(e.params);
      expect(parsed.messages).toEqual([]);
      const runs = file.experiments.find((x) => x.id === e.id)!.runs;
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) {
        expect(r.id.startsWith(`tour-${id}-`)).toBe(true);
        expect(upgradeRun(r)).not.toBeNull();
        expect(r.status).toBe('done');
        expect({ ...r.config.data, budget: 0 }).toEqual({ ...parsed.config.data, budget: 0 });
        expect(r.config.model).toEqual(parsed.config.model);
      }
      for (const l of e.landscapeBits ?? []) {
        const land = file.experiments.find((x) => x.id === e.id)!.landscapes.find((x) => x.bits === l);
        expect(land?.result.lines.length).toBeGreaterThanOrEqual(4);
        expect(land?.result.radial.length).toBeGreaterThan(0);
      }
    }
  });

  it('every claim of the story holds on the shipped results', () => {
    const claims = tour.claims(new TourResults(data as TourFile));
    expect(claims.length).toBeGreaterThanOrEqual(3);
    expect(claims.filter((c) => !c.holds).map((c) => c.what)).toEqual([]);
  });

  it('every step reads its numbers from the results and points at something', () => {
    const r = new TourResults(data as TourFile);
    const expIds = tour.experiments.map((e) => e.id);
    for (const step of tour.steps) {
      const text = step.text(r);
      expect(text).toMatch(/\d/);
      expect(text).not.toMatch(/NaN|undefined|Infinity/);
      const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z])/).length;
      expect(sentences).toBeGreaterThanOrEqual(2);
      expect(sentences).toBeLessThanOrEqual(4);
      expect(expIds).toContain(step.exp);
      for (const e of step.show.exps) expect(expIds).toContain(e);
      expect(step.highlight.length).toBeGreaterThan(0);
    }
  });
});

describe('tour keys in the link', () => {
  it('opens a tour at a step, and writes it back', () => {
    const p = parseParams('v=1&width=32&tour=ptq-vs-qaft&step=3');
    expect(p.messages).toEqual([]);
    expect(p.tour).toEqual({ id: 'ptq-vs-qaft', step: 3 });
    expect(p.config.model.width).toBe(32);
    const again = parseParams(configToParams(p.config, { tour: 'ptq-vs-qaft', step: '3' }));
    expect(again.tour).toEqual(p.tour);
    expect(parseParams('tour=why-qaft').tour).toEqual({ id: 'why-qaft', step: 1 });
  });

  it('names what is wrong with a bad tour or step, and keeps the settings', () => {
    const unknown = parseParams('width=32&tour=nope');
    expect(unknown.tour).toBeNull();
    expect(unknown.config.model.width).toBe(32);
    expect(unknown.messages.join(' ')).toMatch(/no tour "nope".*why-qaft, ptq-vs-qaft, formats-bits/);
    for (const bad of ['99', '0', '2.5', 'x', '']) {
      const p = parseParams(`tour=why-qaft&step=${bad}`);
      expect(p.tour).toEqual({ id: 'why-qaft', step: 1 });
      expect(p.messages.join(' ')).toMatch(/not a step of the tour .*steps 1 to 5.*opens at step 1/);
    }
    const lone = parseParams('step=2');
    expect(lone.tour).toBeNull();
    expect(lone.messages.join(' ')).toMatch(/needs a tour/);
  });
});
