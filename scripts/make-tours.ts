/**
 * Makes the precomputed results the guided tours play (`npm run tours`): every experiment of
 * every tour in src/engine/tours.ts, run by the real engine in Node (the CLI's code paths: the
 * polynomial Lab and its plans) on the wasm backend, with the tours' loss landscapes computed by
 * the same probe the page's worker runs. Writes public/tours/<id>.json (a TourFile: runs with
 * their configs, curves rounded to 4 significant digits, probe results, the engine commit).
 *
 * Every tour's claims are checked on the data as written; a claim that fails stops the script
 * before anything is written, so regenerating cannot silently break a story. Each step's text
 * is printed to stderr for reading.
 *
 * Usage: npx tsx scripts/make-tours.ts [--only <tour id>] [--backend wasm|cpu|webgpu] [--out dir]
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/cli/node-env';
import type { BackendPref, ExperimentConfig } from '../src/engine/core/config';
import { PTQ_PLAN_METHODS } from '../src/engine/core/plans';
import type { RunRecord } from '../src/engine/core/runs';
import { fpKey } from '../src/engine/tasks';
import { Lab } from '../src/engine/poly/lab';
import { landscape, LINE_TS, RADIAL_DIRECTIONS, radialDistances, type LandscapeResult } from '../src/engine/poly/views';
import {
  TOUR_FORMAT_VERSION,
  TourResults,
  TOURS,
  type Tour,
  type TourExperiment,
  type TourExperimentResult,
  type TourFile,
  type TourLandscape,
} from '../src/engine/tours';
import { parseParams } from '../src/engine/url';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

/** 4 significant digits: what a chart or a 3-digit text needs, at a fraction of the file size. */
const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);

function commitOf(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain -- src/engine src/cli scripts/make-tours.ts', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

function configOf(e: TourExperiment): ExperimentConfig {
  const p = parseParams(e.params);
  if (p.messages.length) throw new Error(`experiment "${e.id}": its settings have problems: ${p.messages.join(' ')}`);
  return p.config;
}

/** A run as shipped: id prefixed by the tour (the page tells tour runs from the user's by it), numbers rounded. */
function shipRun(tour: string, r: RunRecord, keepPredictions: boolean): RunRecord {
  return {
    ...r,
    id: `tour-${tour}-${r.id}`,
    curve: r.curve.map((p) => ({ ...p, train: r4(p.train), test: r4(p.test) })),
    predictions: keepPredictions && r.predictions ? r.predictions.map((row) => row.map(r4)) : null,
    layerErrors: r.layerErrors ? r.layerErrors.map(r4) : r.layerErrors,
  };
}

/** The page's landscape at `bits`: lines FP → each PTQ-plan method and RTN → QAFT, then the radial sweeps (as probes.ts asks the worker). */
async function landscapeAt(lab: Lab, c: ExperimentConfig, runs: RunRecord[], bits: number): Promise<LandscapeResult> {
  const at = (m: string) => runs.find((r) => r.method === m && r.bits === bits);
  const lines: [string, string][] = [];
  for (const m of PTQ_PLAN_METHODS) {
    const r = at(m);
    if (r) lines.push(['fp', r.id]);
  }
  const rtn = at('rtn');
  const qaft = at('qaft');
  if (rtn && qaft) lines.push([rtn.id, qaft.id]);
  const cb = { ...c, quant: { ...c.quant, bits: bits as ExperimentConfig['quant']['bits'] } };
  const first = await landscape(lab, cb, { lines, ts: LINE_TS, directions: 0, distances: [], seed: 1 });
  if (first.missing.length) throw new Error(`landscape at ${bits} bits: no weights for ${first.missing.join(', ')}`);
  const radial = await landscape(lab, cb, { lines: [], ts: [], directions: RADIAL_DIRECTIONS, distances: radialDistances(first.lines), seed: 1 });
  return {
    lines: first.lines.map((l) => ({ ...l, points: l.points.map((p) => ({ t: p.t, distance: r4(p.distance), loss: r4(p.loss) })) })),
    radial: radial.radial,
    missing: [],
  };
}

async function makeTour(lab: Lab, tour: Tour, fpRuns: Map<string, RunRecord>, backend: string): Promise<TourFile> {
  const t0 = performance.now();
  const experiments: TourExperimentResult[] = [];
  for (const e of tour.experiments) {
    const c = configOf(e);
    log(`[${tour.id}/${e.id}] ${e.plan}: ${e.params}`);
    const runs = await lab.runPlan(c, e.plan, e.methods, (ev) => {
      if (ev.type === 'result')
        log(`[${tour.id}/${e.id}] ${ev.run.name}: ${ev.run.metric.name} ${ev.run.loss?.toExponential(4)} (${(ev.run.wallMs / 1000).toFixed(1)} s)`);
      else if (ev.type === 'notice') log(`[${tour.id}/${e.id}] ${ev.message}`);
    });
    // The FP run of these settings: trained now, or earlier (the Lab reuses its FP model and reports no second FP run).
    const fp = runs.find((r) => r.method === 'fp');
    if (fp) fpRuns.set(fpKey(c), fp);
    else {
      const earlier = fpRuns.get(fpKey(c));
      if (!earlier) throw new Error(`experiment "${e.id}": no FP run`);
      runs.unshift(earlier);
    }
    const landscapes: TourLandscape[] = [];
    for (const bits of e.landscapeBits ?? []) {
      log(`[${tour.id}/${e.id}] loss landscape at ${bits} bits`);
      const result = await landscapeAt(lab, c, runs, bits);
      const id = (x: string) => (x === 'fp' ? x : `tour-${tour.id}-${x}`);
      landscapes.push({ bits, result: { ...result, lines: result.lines.map((l) => ({ ...l, from: id(l.from), to: id(l.to) })) } });
    }
    experiments.push({
      id: e.id,
      params: e.params,
      plan: e.plan,
      methods: e.methods,
      runs: runs.map((r) => shipRun(tour.id, r, e.predictions === true)),
      landscapes,
    });
  }
  return {
    version: TOUR_FORMAT_VERSION,
    tour: tour.id,
    title: tour.title,
    generatedAt: new Date().toISOString(),
    commit: commitOf(),
    backend,
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    experiments,
  };
}

async function main(): Promise<void> {
  const only = arg('only');
  const tours = only ? TOURS.filter((t) => t.id === only) : TOURS;
  if (!tours.length) throw new Error(`no tour "${only}" (tours: ${TOURS.map((t) => t.id).join(', ')})`);
  // Every experiment's settings first: a bad link fails before minutes of training.
  for (const tour of tours) for (const e of tour.experiments) configOf(e);
  const out = path.resolve(arg('out') ?? 'public/tours');
  const info = await initNodeBackend((arg('backend') ?? 'wasm') as BackendPref);
  log(`tours: backend ${info.name}`);
  const lab = new Lab();
  const fpRuns = new Map<string, RunRecord>();
  const files: TourFile[] = [];
  for (const tour of tours) files.push(await makeTour(lab, tour, fpRuns, info.name));
  lab.dispose();
  tf.disposeVariables();

  let failed = 0;
  for (const file of files) {
    const tour = TOURS.find((t) => t.id === file.tour) as Tour;
    // Check and print on the data as written (rounded through JSON).
    const r = new TourResults(JSON.parse(JSON.stringify(file)) as TourFile);
    log(`\n== ${tour.title} (${file.wallSeconds} s)`);
    tour.steps.forEach((s, k) => log(`-- ${k + 1}. ${s.title}\n${s.text(r)}`));
    for (const c of tour.claims(r)) {
      log(`${c.holds ? 'ok  ' : 'FAIL'} ${c.what}`);
      if (!c.holds) failed += 1;
    }
  }
  if (failed) throw new Error(`${failed} claim(s) do not hold in the new results; nothing was written (change the experiments or the texts).`);
  mkdirSync(out, { recursive: true });
  for (const file of files) {
    const p = path.join(out, `${file.tour}.json`);
    writeFileSync(p, JSON.stringify(file) + '\n');
    log(`wrote ${path.relative(process.cwd(), p)}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`tours: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
