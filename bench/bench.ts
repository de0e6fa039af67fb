/**
 * Training-throughput benchmark of the lab's MLP (14 → 512×4 → 200, GELU, AdamW, MSE), FP and
 * 1.58-bit fake-quant (STE), on each tfjs backend available in Node.
 *
 *   npm run bench -- [--backends wasm,cpu,webgpu] [--batches 256,1024,4096] [--bits fp,1.58,mxfp4,nvfp4,fp8-e4m3,…]
 *                    [--quick] [--steps N] [--no-fused] [--torch] [--no-lm | --lm-only] [--lm-batch N]
 *                    [--lm-formats mxfp4,nvfp4,fp8-e4m3,…] [--interleave N] [--anchors DIR]
 *
 * --bits also takes the format schemes (FP8 per channel, MX, NVFP4 on all layers): each quantized
 * point gets ratio_to_fp (its ms/step over the FP point's, same backend and batch) and within_1_25x.
 * On wasm and cpu the MLP's ratios come from interleaved timing (each quantized variant and FP in
 * turn, N rounds, the medians: `interleaved_ms_per_step`, `interleaved_fp_ms_per_step`;
 * --interleave N, default 5, 0 = off), which a machine whose speed drifts does not skew.
 * Also the default GPT's training tokens/s (FP and the int3 QAFT forward; --lm-formats adds QAFT
 * with those formats on attention and MLP) per backend: `lm_results`, quantized variants with
 * ratio_to_fp and within_1_25x as the MLP's points.
 * Each backend runs in its own child process (the webgpu one with the Dawn/SwiftShader env).
 * --torch also runs the PyTorch CPU references (toy MLP, and the GPT in FP and with int3 QAFT) and
 * reports wasm ÷ PyTorch ratios (`torch_ratios`); --anchors DIR says where their scripts are.
 * stdout: one JSON object; stderr: progress.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LmBenchResult } from './lm';
import { withFpRatio, type BenchResult } from './measure';
import { isBenchBits, type BenchBits } from '../src/engine/poly/bench';
import { FORMAT_SCHEMES, type FormatScheme } from '../src/engine/core/quantizers/formats';
import { runChild, type ChildOptions } from './child';
import { DEFAULT_CONFIG } from '../src/engine/core/config';
import { lmPlan, parseLmFormats } from './lm';
import {
  gptDimensionCheck,
  gptRatios,
  runTorchScript,
  toyRatios,
  TORCH_GPT_SCRIPT,
  TORCH_SCRIPT,
  type TorchGptLine,
  type TorchLine,
  type TorchRun,
} from './torch';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');

const ALL_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
type Backend = (typeof ALL_BACKENDS)[number];
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const DAWN_ENV = { LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: SWIFTSHADER_ICD };

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function usage(msg?: string): never {
  if (msg) log(msg);
  process.stderr.write(
    'usage: npm run bench -- [--backends wasm,cpu,webgpu] [--batches 256,1024,4096] [--bits fp,1.58,mxfp4,nvfp4,fp8-e4m3,…] [--quick] [--steps N] [--no-fused] [--torch] [--no-lm | --lm-only] [--lm-batch N] [--lm-formats mxfp4,nvfp4,fp8-e4m3,…] [--interleave N] [--anchors DIR]\n',
  );
  process.exit(2);
}

function list(s: string | undefined): string[] | undefined {
  return s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
}

interface ChildReport {
  backend: Backend;
  results: BenchResult[];
  lm_results?: LmBenchResult[];
  notes: string[];
  error?: string;
}

/** Run one backend in a child process of this same script; its stdout is one JSON ChildReport. */
function spawnChild(backend: Backend, opts: ChildOptions): Promise<ChildReport> {
  const env = { ...process.env };
  if (backend === 'webgpu' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) Object.assign(env, DAWN_ENV);
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...opts, backend })];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => {
      try {
        resolve({ ...(JSON.parse(out) as ChildReport), backend });
      } catch {
        resolve({ backend, results: [], notes: [], error: `child exited with code ${code} and no report` });
      }
    });
  });
}

interface TorchReport {
  torch_reference: TorchRun<TorchLine>;
  torch_gpt_reference: { fp: TorchRun<TorchGptLine>; qaft: TorchRun<TorchGptLine> };
  /** wasm ÷ PyTorch CPU, same sitting: samples/s per (bits, batch) of the toy, tokens/s of the GPT. */
  torch_ratios: { toy: ReturnType<typeof toyRatios>; gpt: ReturnType<typeof gptRatios> };
  torch_notes: string[];
}

/**
 * The PyTorch CPU references after the engine's backends (same sitting): the toy MLP script, then
 * the GPT script in FP and with int3 QAFT (`--bits 3`) at the bench LM's batch, from the project
 * root (it reads public/lm/corpus.txt); the ratios of the wasm figures to them; whether the GPT
 * script's dimensions are the bench LM's.
 */
async function runTorch(anchors: string, lmBatch: number, reports: ChildReport[]): Promise<TorchReport> {
  const toyScript = path.join(anchors, TORCH_SCRIPT);
  const gptScript = path.join(anchors, TORCH_GPT_SCRIPT);
  log(`--- torch reference (${toyScript}) ---`);
  const toy = await runTorchScript<TorchLine>(toyScript, [], repoRoot, log);
  log(`--- torch GPT reference (${gptScript}), FP and --bits 3, batch ${lmBatch} ---`);
  const gptArgs = ['--batch', String(lmBatch), '--threads', '2'];
  const fp = await runTorchScript<TorchGptLine>(gptScript, gptArgs, repoRoot, log);
  const qaft = await runTorchScript<TorchGptLine>(gptScript, [...gptArgs, '--bits', String(DEFAULT_CONFIG.lm.attnBits)], repoRoot, log);
  const results = reports.flatMap((r) => r.results);
  const lm = reports.flatMap((r) => r.lm_results ?? []);
  const notes: string[] = [];
  const t = fp.lines[0] ?? qaft.lines[0];
  const labLm = lm.find((r) => r.backend === 'wasm') ?? lm[0];
  if (t && labLm) {
    const l = DEFAULT_CONFIG.lm;
    const check = gptDimensionCheck({ ...l, vocab: labLm.vocab, batch: labLm.batch, params: labLm.params }, t);
    notes.push(
      check.match
        ? `torch GPT dimensions match the bench LM (DEFAULT_CONFIG.lm): vocab ${t.config.vocab}, context ${t.config.context}, ${t.config.layers} layers, ${t.config.heads} heads, d_model ${t.config.d_model}, GELU MLP 4x, tied head, batch ${t.config.batch}`
        : `torch GPT dimensions DIFFER from the bench LM: ${check.mismatches.join('; ')}`,
    );
    if (check.differences.length) notes.push(`torch GPT vs the bench LM, same dimensions but: ${check.differences.join('; ')}`);
  } else notes.push('no GPT dimension check: the torch GPT script or the LM bench did not run');
  if (DEFAULT_CONFIG.lm.attnBits !== DEFAULT_CONFIG.lm.mlpBits) notes.push('the torch QAFT run quantizes attention and MLP at the attention bits only');
  notes.push('PyTorch runs with 2 threads (torch.set_num_threads(2)); wasm in Node is single-threaded');
  const torch_ratios = { toy: toyRatios(results, toy.lines), gpt: gptRatios(lm, { fp: fp.lines[0], qaft: qaft.lines[0] }) };
  return { torch_reference: toy, torch_gpt_reference: { fp, qaft }, torch_ratios, torch_notes: notes };
}

/**
 * The in-page wasm speed-up with threads vs one thread, as e2e/wasm-threads.e2e.ts last measured it
 * in Chromium (tmp/wasm-threads.json; not this sitting: its date and load average come with it).
 */
function pageWasmThreads(): unknown {
  const file = path.join(repoRoot, 'tmp', 'wasm-threads.json');
  if (!existsSync(file)) return { note: 'not measured yet: run the e2e test e2e/wasm-threads.e2e.ts (it leaves tmp/wasm-threads.json)' };
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as {
      wasm_thread_speedup?: unknown;
      measured_at?: string;
      loadavg?: number[];
      cpus?: number;
      source?: string;
    };
    return { source: r.source, measured_at: r.measured_at, cpus: r.cpus, loadavg: r.loadavg, threads_over_one_thread: r.wasm_thread_speedup };
  } catch (e) {
    return { note: `tmp/wasm-threads.json could not be read: ${(e as Error).message}` };
  }
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string' },
      batches: { type: 'string' },
      bits: { type: 'string' },
      steps: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-fused': { type: 'boolean', default: false },
      torch: { type: 'boolean', default: false },
      'no-lm': { type: 'boolean', default: false },
      'lm-only': { type: 'boolean', default: false },
      'lm-batch': { type: 'string' },
      'lm-formats': { type: 'string' },
      interleave: { type: 'string' },
      anchors: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) usage();
  const backends = (list(values.backends) ?? [...ALL_BACKENDS]) as Backend[];
  for (const b of backends) if (!ALL_BACKENDS.includes(b)) usage(`unknown backend ${b}`);
  const batches = list(values.batches)?.map(Number);
  if (batches?.some((b) => !Number.isInteger(b) || b < 1 || b > 8192)) usage('batches must be integers in 1..8192');
  const bits = list(values.bits)?.map((b) => (b === '1.58' ? 1.58 : b));
  if (bits?.some((b) => !isBenchBits(b))) usage(`bits must be among fp, 1.58, ${FORMAT_SCHEMES.join(', ')}`);
  const steps = values.steps ? Number(values.steps) : undefined;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) usage('--steps must be a positive integer');

  const interleave = values.interleave !== undefined ? Number(values.interleave) : undefined;
  if (interleave !== undefined && (!Number.isInteger(interleave) || interleave < 0 || interleave > 50))
    usage('--interleave must be an integer in 0..50 (0: off)');
  const lmBatch = values['lm-batch'] ? Number(values['lm-batch']) : undefined;
  if (lmBatch !== undefined && (!Number.isInteger(lmBatch) || lmBatch < 1 || lmBatch > 1024)) usage('--lm-batch must be an integer in 1..1024');
  if (values['no-lm'] && values['lm-only']) usage('--no-lm and --lm-only exclude each other');
  const lm = values['no-lm'] ? 'off' : values['lm-only'] ? 'only' : 'on';
  let lmFormats: FormatScheme[] | undefined;
  if (values['lm-formats'] !== undefined) {
    const p = parseLmFormats(values['lm-formats']);
    if ('error' in p) usage(p.error);
    if (lm === 'off') usage('--lm-formats runs the GPT benchmark: drop --no-lm');
    lmFormats = p.formats;
  }
  const started = Date.now();
  const loadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const reports: ChildReport[] = [];
  for (const backend of backends) {
    log(`--- ${backend} ---`);
    reports.push(
      await spawnChild(backend, {
        backend,
        batches,
        bits: bits as BenchBits[] | undefined,
        steps,
        quick: values.quick,
        fused: !values['no-fused'],
        lm,
        lmBatch,
        lmFormats,
        interleave,
      }),
    );
    const r = reports[reports.length - 1];
    if (r.error) log(`${backend}: ${r.error}`);
  }
  let torch: TorchReport | undefined;
  if (values.torch) {
    const anchors = path.resolve(values.anchors ?? path.join(repoRoot, '..', 'shared', 'anchors'));
    torch = await runTorch(anchors, lmBatch ?? lmPlan('wasm', values.quick).batch, reports);
  }
  const out = {
    benchmark: 'qaft-lab MLP training throughput',
    model:
      "MLP 14 → 512×4 → 200, GELU, MSE, AdamW (lr 1e-3 linear decay, weight decay 0.01), 1.58-bit = ternary absmean fake-quant on all layers with STE; a format scheme (mxfp4, nvfp4, fp8-e4m3, …) = that format on all layers (FP8 one scale per output channel, MX / NVFP4 blocks along the input) by the zoo's tf fake-quant with STE",
    method:
      'per point: fresh model (seed 0), warm-up steps + one profiled step (kernel counts, peak bytes), then N timed steps enqueued back to back and one readback (await data()) at the end; fixed shapes; each backend in its own process',
    environment: {
      node: process.version,
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? null,
      platform: `${os.platform()} ${os.arch()}`,
      loadavg_start: loadStart,
      quick: values.quick,
      fused_kernels: !values['no-fused'],
    },
    results: withFpRatio(
      reports.flatMap((r) => r.results),
      (r) => r.bits === 'fp',
      (a, b) => a.fused === b.fused,
    ),
    lm_model:
      'GPT of DEFAULT_CONFIG.lm (4 layers, dModel 128, 4 heads, context 64, RMSNorm, char vocabulary of public/lm/corpus.txt), AdamW (DEFAULT_CONFIG.lmFp), engine lmTrainStep; qaft = int3 per-row absmax fake-quant (STE) on attention and MLP weights, embeddings/head FP32; a format variant (mxfp4, nvfp4, fp8-e4m3, …) = QAFT with that format on attention and MLP (FP8 one scale per output channel, MX / NVFP4 blocks along the input), as the lab resolves task=lm&scheme=<format>&bits_attn=<b>&bits_mlp=<b>',
    lm_results: withFpRatio(
      reports.flatMap((r) => r.lm_results ?? []),
      (r) => r.variant === 'fp',
    ),
    notes: reports.flatMap((r) => r.notes.map((n) => `${r.backend}: ${n}`)),
    errors: reports.filter((r) => r.error).map((r) => ({ backend: r.backend, error: r.error })),
    ...(torch ?? {}),
    page_wasm_threads: pageWasmThreads(),
    wall_s: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

const childIdx = process.argv.indexOf('--child');
if (childIdx >= 0) {
  runChild(JSON.parse(process.argv[childIdx + 1]) as ChildOptions & { backend: Backend })
    .then(
      (report) => process.stdout.write(JSON.stringify(report) + '\n'),
      (e: unknown) => {
        process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
        process.stdout.write(JSON.stringify({ results: [], notes: [], error: String((e as Error)?.message ?? e) }) + '\n');
      },
    )
    .finally(() => process.exit(0));
} else {
  parent().catch((e: unknown) => {
    log(String((e as Error)?.stack ?? e));
    process.exit(1);
  });
}
