/** Runs the PyTorch CPU reference (torch_polyfit_bench.py) and collects its JSON lines. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TORCH_SCRIPT = 'torch_polyfit_bench.py';
const PYTHON = '/usr/bin/python3';

export interface TorchLine {
  bits: number | null;
  batch: number;
  ms_per_step: number;
  samples_per_s: number;
}

export function runTorchReference(script: string, log: (m: string) => void): Promise<{ script: string; lines: TorchLine[]; error?: string }> {
  if (!existsSync(script)) return Promise.resolve({ script, lines: [], error: 'script not found' });
  if (!existsSync(PYTHON)) return Promise.resolve({ script, lines: [], error: `${PYTHON} not found` });
  return new Promise((resolve) => {
    const p = spawn(PYTHON, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: TorchLine[] = [];
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
          lines.push(JSON.parse(line) as TorchLine);
          log(`torch ${line}`);
        } catch {
          log(`torch (not JSON): ${line}`);
        }
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => resolve({ script, lines, error: String(e) }));
    p.on('close', (code) => resolve(code === 0 ? { script, lines } : { script, lines, error: `exit ${code}: ${err.trim().slice(-500)}` }));
  });
}
