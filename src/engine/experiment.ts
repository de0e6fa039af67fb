/**
 * Runs the methods of one experiment config: FP pretraining → RTN → QAFT → scratch. The
 * same code runs in the browser's worker and in Node (CLI, tests, bench). The FP model is
 * kept and reused while the settings it depends on are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import {
  fpKey,
  formatBits,
  formatLr,
  isLayerQuantized,
  layerDims,
  totalSteps,
  type ExperimentConfig,
  type Method,
  type TrainConfig,
} from './config';
import { RunControl } from './control';
import { headOf, makeDataset } from './data';
import {
  disposeMlp,
  initMlp,
  mlpFromSnapshot,
  quantizedCopy,
  snapshotMlp,
  type LayerQuant,
  type Mlp,
  type MlpSnapshot,
} from './model';
import { disposeDevice, evaluate, predict, toDevice, train, type CurvePoint, type DeviceData, type Divergence } from './train';

/** Number of fixed test examples whose predictions are kept with each run. */
export const N_SHOWN = 6;

export type RunStatus = 'done' | 'diverged' | 'stopped';

export interface RunRecord {
  id: string;
  name: string;
  method: Method;
  /** Weight bits of the evaluated model (32 for FP). */
  bits: number;
  /** Learning rate (null for RTN, which does not train). */
  lr: number | null;
  /** Planned optimizer steps; 0 for RTN. */
  steps: number;
  stepsDone: number;
  testMse: number | null;
  curve: CurvePoint[];
  /** Model outputs (6 × 200) on the first test examples. */
  predictions: number[][] | null;
  wallMs: number;
  status: RunStatus;
  diverged: Divergence | null;
  backend: string;
  createdAt: number;
  /** The whole config the run came from: a run can be reopened exactly. */
  config: ExperimentConfig;
}

export type LabEvent =
  | { type: 'runStart'; runId: string; name: string; method: Method; total: number }
  | { type: 'point'; runId: string; point: CurvePoint; total: number }
  | { type: 'result'; run: RunRecord }
  | { type: 'notice'; message: string };

export const COMPARISON: readonly Method[] = ['fp', 'rtn', 'qaft', 'scratch'];

export function layerQuant(c: ExperimentConfig): LayerQuant[] {
  const n = c.model.depth + 1;
  return Array.from({ length: n }, (_, i) =>
    isLayerQuantized(c.quant.layers, i, n)
      ? { weight: { bits: c.quant.bits, granularity: c.quant.granularity }, actBits: c.quant.actBits }
      : { weight: null, actBits: 0 },
  );
}

export function runName(method: Method, c: ExperimentConfig): string {
  const b = formatBits(c.quant.bits);
  switch (method) {
    case 'fp':
      return `FP lr ${formatLr(c.fp.lr)}`;
    case 'rtn':
      return `RTN ${b}`;
    case 'qaft':
      return `QAFT ${b} lr ${formatLr(c.qaft.lr)}`;
    case 'scratch':
      return `Scratch ${b} lr ${formatLr(c.qaft.lr)}`;
  }
}

let idCounter = 0;
function newRunId(method: Method): string {
  idCounter += 1;
  return `${Date.now().toString(36)}-${method}-${idCounter}`;
}

interface DataCache {
  key: string;
  train: DeviceData;
  test: DeviceData;
  shownX: tf.Tensor2D;
}

/** Seed offset for the scratch init, so it is not the FP init. */
const SCRATCH_SEED_OFFSET = 0x5eed;

/** How many finished runs keep their weights in memory (for landscape and weight views). */
export const KEPT_MODELS = 24;

export class Lab {
  private data: DataCache | null = null;
  private fp: { key: string; runId: string; snapshot: MlpSnapshot; testMse: number } | null = null;
  /** Weights of recent runs, oldest first. */
  private readonly models = new Map<string, { fpKey: string; snapshot: MlpSnapshot }>();

  constructor(private readonly backendName: () => string = () => tf.getBackend()) {}

  /** Whether the FP weights for this config are already trained. */
  hasFp(c: ExperimentConfig): boolean {
    return this.fp?.key === fpKey(c);
  }

  private ensureData(c: ExperimentConfig): DataCache {
    const key = JSON.stringify(c.data);
    if (this.data?.key === key) return this.data;
    this.disposeData();
    const trainSet = makeDataset(c.data.trainSize, c.data.degree, c.data.trainSeed);
    const testSet = makeDataset(c.data.testSize, c.data.degree, c.data.testSeed);
    const shown = headOf(testSet, N_SHOWN);
    this.data = {
      key,
      train: toDevice(trainSet),
      test: toDevice(testSet),
      shownX: tf.tensor2d(shown.x, [shown.n, shown.x.length / shown.n]),
    };
    return this.data;
  }

  private disposeData(): void {
    if (!this.data) return;
    disposeDevice(this.data.train);
    disposeDevice(this.data.test);
    this.data.shownX.dispose();
    this.data = null;
  }

  dispose(): void {
    this.disposeData();
    this.fp = null;
    this.models.clear();
  }

  /** The weights of a recent run in this session, if still kept (the cached FP model always is). */
  weightsOf(runId: string): MlpSnapshot | undefined {
    if (this.fp?.runId === runId) return this.fp.snapshot;
    return this.models.get(runId)?.snapshot;
  }

  /** The test set of a config on the device (for probes such as the loss landscape). */
  testData(c: ExperimentConfig): DeviceData {
    return this.ensureData(c).test;
  }

  private keep(runId: string, c: ExperimentConfig, snapshot: MlpSnapshot): void {
    this.models.set(runId, { fpKey: fpKey(c), snapshot });
    while (this.models.size > KEPT_MODELS) this.models.delete(this.models.keys().next().value as string);
  }

  /**
   * Run the given methods in order. Methods that need the FP model (RTN, QAFT) train it
   * first when it is not cached. Every finished run is emitted as a `result` at once, so a
   * later stop or failure loses nothing already computed.
   */
  async run(
    c: ExperimentConfig,
    methods: readonly Method[],
    emit: (e: LabEvent) => void,
    control: RunControl = new RunControl(),
  ): Promise<RunRecord[]> {
    const data = this.ensureData(c);
    const out: RunRecord[] = [];
    const want = new Set(methods);
    const needsFp = want.has('rtn') || want.has('qaft');
    if (want.has('fp') || (needsFp && !this.hasFp(c))) {
      const r = await this.trainFp(c, data, emit, control);
      out.push(r);
      if (r.status !== 'done') {
        if (needsFp) emit({ type: 'notice', message: `${r.name} ${r.status}: RTN and QAFT need a trained FP model and were skipped.` });
        want.delete('rtn');
        want.delete('qaft');
      }
    }
    for (const method of ['rtn', 'qaft', 'scratch'] as const) {
      if (!want.has(method) || control.stopped) continue;
      const r = method === 'rtn' ? await this.runRtn(c, data, emit) : await this.runQuantTraining(method, c, data, emit, control);
      out.push(r);
    }
    return out;
  }

  private record(method: Method, c: ExperimentConfig, bits: number, t: TrainConfig | null): RunRecord {
    return {
      id: newRunId(method),
      name: runName(method, c),
      method,
      bits,
      lr: t ? t.lr : null,
      steps: t ? totalSteps(t, c.data.trainSize) : 0,
      stepsDone: 0,
      testMse: null,
      curve: [],
      predictions: null,
      wallMs: 0,
      status: 'done',
      diverged: null,
      backend: this.backendName(),
      createdAt: Date.now(),
      config: structuredClone(c),
    };
  }

  private async trainRun(
    r: RunRecord,
    m: Mlp,
    t: TrainConfig,
    c: ExperimentConfig,
    data: DataCache,
    quant: LayerQuant[] | undefined,
    emit: (e: LabEvent) => void,
    control: RunControl,
  ): Promise<RunRecord> {
    const t0 = performance.now();
    emit({ type: 'runStart', runId: r.id, name: r.name, method: r.method, total: r.steps });
    const outcome = await train(
      m,
      data.train,
      data.test,
      { ...t, steps: r.steps, logEvery: c.logEvery, quant },
      (point) => emit({ type: 'point', runId: r.id, point, total: r.steps }),
      control,
    );
    r.curve = outcome.curve;
    r.stepsDone = outcome.stepsDone;
    r.diverged = outcome.diverged;
    r.status = outcome.diverged ? 'diverged' : outcome.stopped ? 'stopped' : 'done';
    if (!outcome.diverged) {
      r.testMse = await evaluate(m, data.test, quant);
      r.predictions = await predict(m, data.shownX, quant);
    }
    r.wallMs = performance.now() - t0;
    return r;
  }

  private async trainFp(c: ExperimentConfig, data: DataCache, emit: (e: LabEvent) => void, control: RunControl): Promise<RunRecord> {
    const r = this.record('fp', c, 32, c.fp);
    const m = initMlp(layerDims(c.model), c.fp.seed);
    try {
      await this.trainRun(r, m, c.fp, c, data, undefined, emit, control);
      if (r.status === 'done') {
        this.fp = { key: fpKey(c), runId: r.id, snapshot: await snapshotMlp(m), testMse: r.testMse ?? NaN };
        this.keep(r.id, c, this.fp.snapshot);
      }
    } finally {
      disposeMlp(m);
    }
    emit({ type: 'result', run: r });
    return r;
  }

  private async runRtn(c: ExperimentConfig, data: DataCache, emit: (e: LabEvent) => void): Promise<RunRecord> {
    const r = this.record('rtn', c, c.quant.bits, null);
    const t0 = performance.now();
    emit({ type: 'runStart', runId: r.id, name: r.name, method: 'rtn', total: 0 });
    const fp = mlpFromSnapshot(this.requireFp(c), false);
    const q = quantizedCopy(fp, layerQuant(c));
    try {
      // RTN quantizes weights only; activation quantization (if on) applies at evaluation.
      const actOnly = layerQuant(c).map((l) => ({ weight: null, actBits: l.actBits }));
      r.testMse = await evaluate(q, data.test, actOnly);
      r.predictions = await predict(q, data.shownX, actOnly);
      this.keep(r.id, c, await snapshotMlp(q));
    } finally {
      disposeMlp(fp);
      disposeMlp(q);
    }
    r.wallMs = performance.now() - t0;
    emit({ type: 'result', run: r });
    return r;
  }

  private async runQuantTraining(
    method: 'qaft' | 'scratch',
    c: ExperimentConfig,
    data: DataCache,
    emit: (e: LabEvent) => void,
    control: RunControl,
  ): Promise<RunRecord> {
    const r = this.record(method, c, c.quant.bits, c.qaft);
    const m = method === 'qaft' ? mlpFromSnapshot(this.requireFp(c)) : initMlp(layerDims(c.model), c.qaft.seed + SCRATCH_SEED_OFFSET);
    try {
      const quant = layerQuant(c);
      await this.trainRun(r, m, c.qaft, c, data, quant, emit, control);
      // Keep the weights the model actually uses: the quantized ones.
      if (r.status !== 'diverged') {
        const q = quantizedCopy(m, quant);
        this.keep(r.id, c, await snapshotMlp(q));
        disposeMlp(q);
      }
    } finally {
      disposeMlp(m);
    }
    emit({ type: 'result', run: r });
    return r;
  }

  private requireFp(c: ExperimentConfig): MlpSnapshot {
    if (!this.fp || this.fp.key !== fpKey(c)) throw new Error('No trained FP model for these settings.');
    return this.fp.snapshot;
  }
}
