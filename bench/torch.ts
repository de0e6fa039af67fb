/**
 * The PyTorch CPU references (../shared/anchors/torch_polyfit_bench.py for the toy MLP,
 * torch_gpt_bench.py for the GPT), their JSON lines, and the ratios of the engine's wasm figures
 * measured in the same sitting to them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LmBenchResult } from './lm';
import type { BenchResult } from './measure';

export const TORCH_SCRIPT = 'torch_polyfit_bench.py';
export const TORCH_GPT_SCRIPT = 'torch_gpt_bench.py';
const PYTHON = '/usr/bin/python3';

/** One line of torch_polyfit_bench.py (bits null = full precision). */
export interface TorchLine {
  bits: number | null;
  batch: number;
  ms_per_step: number;
  samples_per_s: number;
}

/** The one line of torch_gpt_bench.py. */
export interface TorchGptLine {
  impl: string;
  bits: number | 'fp';
  threads: number;
  config: { vocab: number; context: number; layers: number; heads: number; d_model: number; batch: number; norm: string; mlp: string; head: string };
  params: number;
  warmup_steps: number;
  timed_steps: number;
  ms_per_step: number;
  tokens_per_s: number;
  final_loss_mean: number;
  loadavg: number[];
}

export interface TorchRun<L> {
  script: string;
  args: string[];
  lines: L[];
  error?: string;
}

/** Run `script` with /usr/bin/python3 in `cwd` and collect the JSON lines it prints. */
export function runTorchScript<L>(script: string, args: string[], cwd: string, log: (m: string) => void): Promise<TorchRun<L>> {
  const res = (lines: L[], error?: string): TorchRun<L> => ({ script, args, lines, ...(error ? { error } : {}) });
  if (!existsSync(script)) return Promise.resolve(res([], 'script not found'));
  if (!existsSync(PYTHON)) return Promise.resolve(res([], `${PYTHON} not found`));
  return new Promise((resolve) => {
    const p = spawn(PYTHON, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: L[] = [];
    let buf = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          lines.push(JSON.parse(line) as L);
          log(`torch ${path.basename(script)} ${line}`);
        } catch {
          log(`torch (not JSON): ${line}`);
        }
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => resolve(res(lines, String(e))));
    p.on('close', (code) => resolve(code === 0 ? res(lines) : res(lines, `exit ${code}: ${err.trim().slice(-500)}`)));
  });
}

/** wasm ÷ PyTorch for one toy point: samples/s of the same (bits, batch). */
export interface ToyRatio {
  bits: 'fp' | 1.58;
  batch: number;
  wasm_samples_per_s: number;
  torch_samples_per_s: number;
  wasm_over_torch: number;
}

/** wasm ÷ PyTorch for the GPT: tokens/s of FP and of the int3 QAFT step. */
export interface GptRatio {
  variant: 'fp' | 'qaft';
  wasm_batch: number;
  torch_batch: number;
  wasm_tokens_per_s: number;
  torch_tokens_per_s: number;
  wasm_over_torch: number;
}

const ratio = (a: number, b: number) => Number((a / b).toPrecision(3));

export function toyRatios(results: BenchResult[], torch: TorchLine[]): ToyRatio[] {
  const out: ToyRatio[] = [];
  for (const r of results) {
    if (r.backend !== 'wasm' || r.samples_per_s === null) continue;
    // PyTorch's reference has FP and ternary (1.58) lines only.
    if (r.bits !== 'fp' && r.bits !== 1.58) continue;
    const t = torch.find((l) => l.batch === r.batch && (r.bits === 'fp' ? l.bits === null : l.bits === r.bits));
    if (!t) continue;
    out.push({
      bits: r.bits,
      batch: r.batch,
      wasm_samples_per_s: r.samples_per_s,
      torch_samples_per_s: t.samples_per_s,
      wasm_over_torch: ratio(r.samples_per_s, t.samples_per_s),
    });
  }
  return out;
}

export function gptRatios(lm: LmBenchResult[], torch: { fp?: TorchGptLine; qaft?: TorchGptLine }): GptRatio[] {
  const out: GptRatio[] = [];
  for (const r of lm) {
    // PyTorch's reference has FP and int3 QAFT only (no format variants).
    const variant = r.variant === 'fp' || r.variant === 'qaft' ? r.variant : null;
    const t = variant && torch[variant];
    if (r.backend !== 'wasm' || r.tokens_per_s === null || !variant || !t) continue;
    out.push({
      variant,
      wasm_batch: r.batch,
      torch_batch: t.config.batch,
      wasm_tokens_per_s: r.tokens_per_s,
      torch_tokens_per_s: t.tokens_per_s,
      wasm_over_torch: ratio(r.tokens_per_s, t.tokens_per_s),
    });
  }
  return out;
}

/**
 * Does the PyTorch GPT have the bench LM's dimensions? Compares vocabulary, context, layers, heads,
 * width, MLP width and batch, and names the architectural differences that remain.
 */
export function gptDimensionCheck(
  lab: { vocab: number; context: number; layers: number; heads: number; dModel: number; norm: string; batch: number; params: number | null },
  t: TorchGptLine,
): { match: boolean; mismatches: string[]; differences: string[] } {
  const pairs: [string, number, number][] = [
    ['vocab', lab.vocab, t.config.vocab],
    ['context', lab.context, t.config.context],
    ['layers', lab.layers, t.config.layers],
    ['heads', lab.heads, t.config.heads],
    ['d_model', lab.dModel, t.config.d_model],
    ['batch', lab.batch, t.config.batch],
  ];
  const mismatches = pairs.filter(([, a, b]) => a !== b).map(([k, a, b]) => `${k}: lab ${a}, torch ${b}`);
  if (t.config.mlp !== 'GELU 4x') mismatches.push(`mlp: lab GELU 4x, torch ${t.config.mlp}`);
  if (t.config.head !== 'tied') mismatches.push(`head: lab tied, torch ${t.config.head}`);
  const differences: string[] = [];
  const labNorm = lab.norm === 'rms' ? 'RMSNorm' : 'LayerNorm';
  if (labNorm !== t.config.norm) differences.push(`norm: lab ${labNorm} (DEFAULT_CONFIG.lm.norm = '${lab.norm}'), torch ${t.config.norm}`);
  if (lab.params !== null && lab.params !== t.params)
    differences.push(`parameters: lab ${lab.params}, torch ${t.params} (the lab's GPT has an output bias; norms differ)`);
  return { match: mismatches.length === 0, mismatches, differences };
}
