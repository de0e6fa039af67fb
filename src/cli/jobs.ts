/**
 * Plans on several cores: `--jobs N` runs the cells of a sweep or PTQ-vs-QAFT plan (and their
 * repeats) in N worker processes (src/cli/job-worker.ts). Each FP model is trained once, here,
 * and its weights are handed to the workers bit for bit, so each cell gives exactly the result
 * it gives in one process; the runs come back in the order one process gives.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPref, ExperimentConfig } from '../engine/core/config';
import { RunControl } from '../engine/core/control';
import { needsFpOn, methodDef, type Method } from '../engine/core/methods';
import { labPlanItems, type Plan, type PlanItem } from '../engine/core/plans';
import { type LabEvent, type RunRecord } from '../engine/core/runs';
import type { Lab } from '../engine/poly/lab';
import { fpKey } from '../engine/tasks';
import type { MlpSnapshot } from '../engine/poly/model';

/** What the parent sends a worker: its backend, then one plan cell at a time with the FP model it uses. */
export type ToWorker =
  /** `warm`: a config whose data the worker builds while it waits for its first cell. */
  | { type: 'init'; backend: BackendPref; warm: ExperimentConfig }
  | { type: 'item'; index: number; item: PlanItem; fp: { config: ExperimentConfig; runId: string; file: string } | null }
  | { type: 'done' };
/** What a worker sends back: its events while a cell runs, the cell's runs, or an error. */
export type FromWorker =
  { type: 'ready' } | { type: 'event'; event: LabEvent } | { type: 'item'; index: number; runs: RunRecord[] } | { type: 'error'; message: string };

/** An FP snapshot as one binary file: a JSON header line, then the float32 weights and biases in order. */
export function writeSnapshot(file: string, s: MlpSnapshot): void {
  const header = Buffer.from(JSON.stringify({ dims: s.dims }) + '\n');
  const parts = [...s.weights, ...s.biases].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  writeFileSync(file, Buffer.concat([header, ...parts]));
}

export function readSnapshot(bytes: Buffer): MlpSnapshot {
  const nl = bytes.indexOf(10);
  const { dims } = JSON.parse(bytes.subarray(0, nl).toString()) as { dims: number[] };
  let off = nl + 1;
  const take = (n: number) => {
    const out = new Float32Array(n);
    Buffer.from(out.buffer).set(bytes.subarray(off, off + 4 * n));
    off += 4 * n;
    return out;
  };
  const weights = dims.slice(0, -1).map((d, i) => take(d * dims[i + 1]));
  const biases = dims.slice(1).map((d) => take(d));
  if (off !== bytes.length) throw new Error(`FP snapshot: ${bytes.length - off} bytes left over`);
  return { dims, weights, biases };
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'job-worker.ts');

/**
 * Run a plan of the polynomial task with `jobs` worker processes. The FP run (trained here when
 * a cell needs it and `lab` does not keep it) is emitted first, as in one process; then the cells'
 * runs, in plan order.
 */
export async function runPlanParallel(
  lab: Lab,
  c: ExperimentConfig,
  plan: Plan,
  methods: readonly Method[],
  jobs: number,
  emit: (e: LabEvent) => void,
): Promise<RunRecord[]> {
  const items = labPlanItems(lab, c, plan, methods);
  // One FP model per distinct FP key (repeats move the seeds, so each repeat has its own), trained here in plan order.
  const groups: { key: string; fpRuns: RunRecord[]; fp: { config: ExperimentConfig; runId: string; file: string } | null; cells: number[] }[] = [];
  const cells = items.map((it) => ({ ...it, methods: it.methods.filter((m) => m !== 'fp') }));
  const dir = mkdtempSync(path.join(tmpdir(), 'qaft-jobs-'));
  const workers: ChildProcess[] = [];
  const results: RunRecord[][] = new Array(cells.length);
  let queue: { index: number; fp: (typeof groups)[number]['fp'] }[] | null = null;
  let next = 0;
  let active = 0;
  const waiting: ChildProcess[] = [];
  let settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  finished.catch(() => {});
  const fail = (e: Error) => {
    for (const w of workers) w.kill();
    settle?.reject(e);
  };
  const feed = (w: ChildProcess) => {
    if (!queue) {
      waiting.push(w); // the FP models are still training here
    } else if (next < queue.length) {
      const { index, fp } = queue[next++];
      w.send({ type: 'item', index, item: cells[index], fp } satisfies ToWorker);
    } else {
      w.send({ type: 'done' } satisfies ToWorker); // the worker exits; the plan is over once every worker has
      w.once('exit', () => {
        active -= 1;
        if (active === 0) settle?.resolve();
      });
    }
  };
  try {
    // The workers start (runtime, backend, data) while the FP models train here.
    const n = Math.max(1, Math.min(jobs, cells.filter((x) => x.methods.length).length));
    for (let k = 0; k < n; k++) {
      const w = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      workers.push(w);
      active += 1;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') feed(w);
        else if (m.type === 'event') emit(m.event);
        else if (m.type === 'item') {
          results[m.index] = m.runs;
          feed(w);
        } else fail(new Error(m.message));
      });
      w.on('exit', (code) => {
        if (code !== 0 && code !== null) fail(new Error(`a worker process ended with code ${code}`));
      });
      w.send({ type: 'init', backend: c.backend, warm: items[0]?.config ?? c } satisfies ToWorker);
    }
    for (const [index, it] of items.entries()) {
      const key = fpKey(it.config);
      let g = groups.find((x) => x.key === key);
      if (!g) {
        g = { key, fpRuns: [], fp: null, cells: [] };
        groups.push(g);
        const needsFp = items.some((x) => fpKey(x.config) === key && x.methods.some((m) => m === 'fp' || needsFpOn(methodDef(m), c.task)));
        if (needsFp) {
          // With the group's first cell's config, as one process would (its bits do not change the FP model).
          g.fpRuns = await lab.run(it.config, ['fp'], emit, new RunControl());
          const fp = lab.fpFor(it.config);
          if (fp && g.fpRuns[0]?.status === 'done') {
            const file = path.join(dir, `fp-${groups.length}.bin`);
            writeSnapshot(file, fp.snapshot);
            g.fp = { config: it.config, runId: fp.runId, file };
          }
        }
      }
      // A cell whose FP model failed is skipped, as one process skips the methods that need it.
      if (cells[index].methods.length && (g.fp || !cells[index].methods.some((m) => needsFpOn(methodDef(m), c.task)))) g.cells.push(index);
    }
    queue = groups.flatMap((g) => g.cells.map((index) => ({ index, fp: g.fp })));
    for (const w of waiting.splice(0)) feed(w);
    await finished;
    // In the order one process gives: each FP model, then the cells that use it.
    return groups.flatMap((g) => [...g.fpRuns, ...g.cells.flatMap((i) => results[i] ?? [])]);
  } finally {
    for (const w of workers) if (w.connected) w.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
