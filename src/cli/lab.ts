/**
 * Headless lab: runs an experiment from a share URL or a config JSON file in Node.
 *
 *   npm run lab -- '<share URL | key=value&… | preset id | config.json>' [--methods fp,rtn,gptq,qaft,scratch]
 *                  [--plan ${PLANS.join('|')}] [--backend auto|webgpu|wasm|cpu] [--lenient]
 *                  [--hf-dir DIR] [--text FILE] [--jobs N] [--export runs.json] [--export-weights PATH] [--rot none|hadamard]
 *
 * Language model (task=lm): --hf-dir DIR loads the Hugging Face checkpoint in a local folder
 * (config.json, model.safetensors, tokenizer.json; lm_src=files), --text FILE trains and evaluates
 * on a local text file (text=own). Site paths in a link (text_url=/…, hf=/…) read public/ only.
 *
 * --export-weights PATH (task=lm): the weights of the last quantized run (the FP model when only FP
 * ran) as safetensors (lm/export.ts): PATH ending in .safetensors gets the file, with
 * <PATH without .safetensors>.config.json (and .tokenizer.json for a Hugging Face checkpoint) next
 * to it; any other PATH is a folder that gets model.safetensors, config.json (and tokenizer.json).
 *
 * --plan sweep: QAFT at every (sweep_lr × sweep_bits); --plan ptq: RTN, GPTQ and QAFT at every
 * sweep_bits under the same data budget (budget=N). Without --plan, a link's run=ptq / run=sweep
 * picks the plan. Preset ids (the page's "Experiments to try"): see src/engine/presets.ts.
 *
 * Progress goes to stderr; stdout gets one JSON summary with an entry per run.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { comparisonOf, METHOD_IDS, methodDef, methodsOf, needsFpOn, type Method } from '../engine/core/methods';
import type { LabEvent } from '../engine/core/runs';
import { PLANS, type Plan } from '../engine/core/plans';
import { CLI_TASKS } from './tasks';
import { loadExperiment } from './load';
import { fmtDuration, progressText, stepsPerSecond, type Throughput } from '../engine/core/progress';
import { type RunRecord } from '../engine/core/runs';
import { compareGroups, groupRepeats } from '../engine/core/stats';
import { planProblem, taskPlanItems } from '../engine/tasks';
import { quote } from '../engine/settings';
import { PRESETS } from '../engine/presets';
import { initNodeBackend } from './node-env';
import { ROTATIONS } from '../engine/core/config';
import { runsFileText } from '../engine/runfile';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`lab: ${msg}\n`);
  process.stderr.write(
    `usage: npm run lab -- '<share URL | key=value&… | preset id (${PRESETS.map((p) => p.id).join(', ')}) | config.json>' [--methods ${METHOD_IDS.join(',')} (those of the task)] [--plan ${PLANS.join('|')}] [--backend auto|webgpu|wasm|cpu] [--lenient] [--hf-dir DIR] [--text FILE] [--jobs N] [--export runs.json] [--export-weights PATH] [--rot none|hadamard]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        methods: { type: 'string' },
        plan: { type: 'string' },
        backend: { type: 'string' },
        lenient: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        'hf-dir': { type: 'string' },
        text: { type: 'string' },
        jobs: { type: 'string' },
        rot: { type: 'string' },
        export: { type: 'string' },
        'export-weights': { type: 'string' },
      },
    });
  } catch (e) {
    usage((e as Error).message);
  }
  const { values, positionals } = args;
  if (values.help) usage();
  if (positionals.length !== 1) usage('give exactly one URL or config file');
  let loaded;
  try {
    loaded = loadExperiment(positionals[0]);
  } catch (e) {
    usage((e as Error).message);
  }
  for (const m of loaded.messages) process.stderr.write(`lab: ${m}\n`);
  if (loaded.messages.length && !values.lenient) usage('the settings have problems (see above); fix them or pass --lenient to use the defaults for those keys');
  const config = loaded.config;
  if (values.backend) {
    if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(values.backend)) usage(`unknown backend ${quote(values.backend)}`);
    config.backend = values.backend as typeof config.backend;
  }
  if (values.rot !== undefined) {
    // The same as the link's rot key (Hadamard rotation of the quantized layers' inputs).
    if (!(ROTATIONS as readonly string[]).includes(values.rot)) usage(`--rot takes ${ROTATIONS.join(' or ')}, not ${quote(values.rot)}`);
    config.quant.rotate = values.rot as (typeof ROTATIONS)[number];
  }
  const task = CLI_TASKS[config.task];
  let local: ReturnType<typeof task.local>;
  try {
    local = task.local(config, { hfDir: values['hf-dir'], text: values.text });
  } catch (e) {
    usage((e as Error).message);
  }
  for (const n of local.notes) process.stderr.write(`lab: ${n}\n`);
  let methods: Method[] = comparisonOf(config.task);
  if (values.methods) {
    const ofTask: readonly string[] = methodsOf(config.task);
    const asked = values.methods.split(',').map((s) => s.trim());
    const bad = asked.filter((m) => !ofTask.includes(m));
    if (bad.length) usage(`unknown method(s) for the ${task.name} task: ${quote(bad.join(', '))} (methods: ${ofTask.join(', ')})`);
    methods = asked as Method[];
  }

  const exportPath = values['export-weights'];
  if (exportPath !== undefined && !task.exportsWeights) usage('--export-weights writes a language model’s weights: it needs task=lm');
  if (exportPath === '') usage('--export-weights needs a path (a .safetensors file or a folder)');
  const plan = (values.plan ?? loaded.plan ?? 'methods') as Plan;
  const jobs = values.jobs === undefined ? 1 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
    usage(`--jobs takes a whole number of worker processes from 1 to 64, not ${quote(String(values.jobs))}`);
  if (!(PLANS as readonly string[]).includes(plan)) usage(`unknown plan ${quote(String(values.plan))} (plans: ${PLANS.join(', ')})`);

  const info = await initNodeBackend(config.backend);
  for (const n of info.notes) process.stderr.write(`lab: ${n}\n`);
  process.stderr.write(`lab: backend ${info.name}${info.adapter ? ` (adapter: ${info.adapter})` : ''}\n`);

  const planWhy = planProblem(config, plan);
  if (planWhy) usage(planWhy);
  const lab = local.open();
  const t0 = performance.now();
  const names = new Map<string, string>();
  // Progress: steps/s over each read-back window, samples/s or tokens/s, elapsed and time left (core/progress.ts, as in the page).
  const meters = new Map<string, { startedAt: number; lastAt: number; lastStep: number; throughput?: Throughput }>();
  const planned = taskPlanItems(config, plan, methods).flatMap((i) => i.methods);
  const expected = planned.length + (!planned.includes('fp') && planned.some((m) => needsFpOn(methodDef(m), config.task)) ? 1 : 0);
  let finished = 0;
  const emit = (e: LabEvent) => {
    if (e.type === 'runStart') {
      names.set(e.runId, e.name);
      const now = performance.now();
      meters.set(e.runId, { startedAt: now, lastAt: now, lastStep: 0, throughput: e.throughput });
      process.stderr.write(`[${e.name}] start${e.total ? `, ${e.total} steps` : ''}\n`);
    } else if (e.type === 'point') {
      const p = e.point;
      const m = meters.get(e.runId);
      let speed = '';
      if (m) {
        const now = performance.now();
        const rate = stepsPerSecond(p.step - m.lastStep, now - m.lastAt);
        if (p.step > 0) speed = `  (${progressText(p.step, e.total, rate, now - m.startedAt, m.throughput)})`;
        Object.assign(m, { lastAt: now, lastStep: p.step });
      }
      process.stderr.write(`[${names.get(e.runId)}] step ${p.step}/${e.total}  train ${p.train.toExponential(3)}  test ${p.test.toExponential(3)}${speed}\n`);
    } else if (e.type === 'result') {
      finished += 1;
      const r = e.run;
      const what = r.diverged
        ? r.lr === null
          ? 'diverged (final loss not finite)'
          : `diverged at step ${r.diverged.step} (lr ${r.diverged.lr.toPrecision(3)}, loss ${r.diverged.reason})`
        : `${r.status}: ${task.lossText(r)}`;
      process.stderr.write(
        `[${r.name}] ${what}, ${(r.wallMs / 1000).toFixed(1)} s; ${finished} of ${expected} runs done, ${fmtDuration(performance.now() - t0)} elapsed\n`,
      );
      if (r.sample) process.stderr.write(`[${r.name}] sample: ${JSON.stringify(r.sample)}\n`);
    } else if (e.type === 'stage') {
      process.stderr.write(`[${names.get(e.runId)}] ${e.label}\n`);
    } else {
      process.stderr.write(`lab: ${e.message}\n`);
    }
  };
  const runs = await lab.run(config, plan, methods, jobs, emit);
  const exported = exportPath !== undefined ? await lab.exportWeights?.(runs, exportPath) : undefined;
  lab.dispose();
  const repeats = config.repeats > 1 ? repeatSummary(runs) : undefined;
  if (repeats) for (const line of repeats.lines) process.stderr.write(`lab: ${line}\n`);
  const summary = {
    repeats: repeats?.groups,
    exported,
    backend: info.name,
    adapter: info.adapter,
    wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    plan,
    config,
    runs: runs.map((r) => ({
      method: r.method,
      name: r.name,
      bits: r.bits,
      lr: r.lr,
      steps: r.steps,
      stepsDone: r.stepsDone,
      loss: r.loss,
      metric: r.metric,
      ...task.summary(r),
      sample: r.sample ?? undefined,
      extra: r.extra?.length ? r.extra : undefined,
      layerNames: r.layerNames ?? undefined,
      status: r.status,
      diverged: r.status === 'diverged',
      divergedAt: r.diverged,
      examples: r.examples ?? null,
      storageBits: r.storageBits ?? null,
      layerQuant: r.layerQuant ?? null,
      layerErrors: r.layerErrors ?? null,
      notes: r.notes ?? [],
      wallSeconds: Number((r.wallMs / 1000).toFixed(2)),
    })),
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  if (values.export) {
    writeFileSync(values.export, runsFileText(runs, 'QAFT Lab CLI'));
    process.stderr.write(`lab: ${runs.length} run(s) written to ${values.export} (drop it on the page to import them)\n`);
  }
  tf.disposeVariables();
}

main().then(
  () => process.exit(0),
  (e) => {
    // The lab's own errors (a bad checkpoint, an unreachable URL, settings a method cannot use)
    // are messages for the user; anything else is a bug and keeps its stack.
    const plain = e instanceof Error && e.constructor === Error;
    process.stderr.write(`lab: ${plain ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);

/** Repeats: each method's mean ± 95 % interval over the seeds, and which differences exceed the seed noise. */
function repeatSummary(runs: RunRecord[]): { groups: ReturnType<typeof groupRepeats>; lines: string[] } {
  const groups = groupRepeats(runs);
  const fmt = (x: number) => (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(3) : x.toPrecision(4));
  const lines = groups.map((g) => `${g.name}: ${g.metric.name} ${fmt(g.mean)} ± ${Number.isFinite(g.ci95) ? fmt(g.ci95) : '–'} (95 %, n = ${g.n})`);
  // Each quantized group against the others of the same bits: is the difference larger than the seed noise?
  const quantized = groups.filter((g) => g.method !== 'fp' && g.n > 1);
  for (let i = 0; i < quantized.length; i++) {
    for (let j = i + 1; j < quantized.length; j++) {
      const [a, b] = [quantized[i], quantized[j]];
      if (a.bits !== b.bits) continue;
      const d = compareGroups(a, b);
      lines.push(`${a.name} − ${b.name}: ${fmt(d.diff)} ± ${fmt(d.ci95)} (95 %): ${d.significant ? 'larger than the seed noise' : 'within the seed noise'}`);
    }
  }
  return { groups, lines };
}
