/**
 * Runs the methods of an experiment: FP pretraining, then RTN, GPTQ, QAFT (from the FP weights
 * or GPTQ's), scratch, LSQ, scale-only, QA-LoRA, data-free QAFT and forward tiled QAT on the
 * quantized model. The same code runs in the browser's worker and in Node (CLI, tests,
 * bench). The FP model is kept and reused while the settings it depends on are unchanged.
 */
import { polyFpKey, polyRunName } from './naming';
import * as tf from '@tensorflow/tfjs';
import { evaluatedConfig, finalBits } from '../core/schedule';
import { layerDims, totalSteps, type ExperimentConfig, type TrainConfig } from '../core/config';
import { METHOD_REGISTRY, methodDef, runMethods, type Method } from '../core/methods';
import { runPlan, withQuantBits } from '../core/plans';
import type { MethodContext, QuantInit, TaskLab } from '../core/task';
import type { NamedWeight } from '../core/inspect';
import type { Throughput } from '../core/progress';
import { RunControl } from '../core/control';
import { headOf, IN_DIM, makeDataset, OUT_DIM, type Dataset } from './data';
import { gptqMlp } from './gptq';
import { disposeMlp, initMlp, mlpFromSnapshot, snapshotMlp, type Mlp, type MlpSnapshot } from './model';
import { localErrors } from './probes';
import { finishingRuns, finishRun, type RunRecord } from '../core/runs';
import { type Plan } from '../core/plans';
import { disposeDevice, evaluate, predict, toDevice, train, type DeviceData, type TrainOptions, type TrainOutcome } from './train';
import type { LabEvent } from '../core/runs';
import { clampScales, disposeLearned, initLsq, initScaleOnly, learnedForward, learnedSnapshot, trainableScales } from './lsq';
import { hasSchedule, quantSegments, segmentAt } from '../core/schedule';
import { activationOnly, asZooSpec, weightQuantLabel, type LayerQuant } from '../core/layerquant';
import { disposeCodebooks } from '../core/fakequant';
import { layerQuant, layerWeightQuant, modelStorageBits, POLY_METRIC, polyMethodProblems, polyProblems } from './layerspec';
import { rtnSnapshot } from './weightquant';
import { trainQaLora } from './lora';
import { dataFreeSeed, trainDataFree } from './datafree';
import { trainTiled } from './tiled';
import { calibrateMlpActs, needsActCalibration, smoothMlp } from './actcalib';
import { scratchSmoothNote } from '../core/act';
import { tiledSteps, tileFigures } from '../core/tiles';
import type { CurvePoint } from '../core/loop';

/** Number of fixed test examples whose predictions are kept with each run. */
export const N_SHOWN = 6;
/** Calibration examples used for the per-layer local errors (the first of the budget). */
export const LOCAL_ERROR_EXAMPLES = 512;
/** How many finished runs keep their weights in memory (for landscape and weight views). */
export const KEPT_MODELS = 24;

type Emit = (e: LabEvent) => void;

let idCounter = 0;
function newRunId(method: Method): string {
  idCounter += 1;
  return `${Date.now().toString(36)}-${method}-${idCounter}`;
}

interface DataCache {
  key: string;
  trainHost: Dataset;
  train: DeviceData;
  test: DeviceData;
  shownX: tf.Tensor2D;
  /** The first `budget` training examples on the device, by budget. */
  subsets: Map<number, DeviceData>;
}

class StoppedError extends Error {}

/** Seed offset for the scratch init, so it is not the FP init. */
const SCRATCH_SEED_OFFSET = 0x5eed;

export class Lab implements TaskLab {
  readonly task = 'poly' as const;
  private data: DataCache | null = null;
  private fpModel: { key: string; runId: string; snapshot: MlpSnapshot } | null = null;
  /** Weights of recent runs, oldest first. */
  private readonly models = new Map<string, MlpSnapshot>();
  private readonly announced = new Set<string>();

  constructor(private readonly backendName: () => string = () => tf.getBackend()) {}

  readonly withBits = withQuantBits;
  readonly problems = polyProblems;

  /** Whether the FP weights for this config are already trained. */
  hasFp(c: ExperimentConfig): boolean {
    return this.fpModel?.key === polyFpKey(c);
  }

  /** The weights of a recent run in this session, if still kept (the cached FP model always is). */
  weightsOf(runId: string): MlpSnapshot | undefined {
    if (this.fpModel?.runId === runId) return this.fpModel.snapshot;
    return this.models.get(runId);
  }

  async weightMatrices(c: ExperimentConfig): Promise<NamedWeight[]> {
    const s = this.requireFp(c);
    return s.weights.map((values, i) => ({
      name: `layer ${i} (${s.dims[i]} → ${s.dims[i + 1]})`,
      shape: [s.dims[i], s.dims[i + 1]],
      values,
      quant: layerWeightQuant(c, i),
    }));
  }

  /** The cached FP model of a config (run id and weights), if trained in this session. */
  fpFor(c: ExperimentConfig): { runId: string; snapshot: MlpSnapshot } | null {
    return this.fpModel && this.fpModel.key === polyFpKey(c) ? { runId: this.fpModel.runId, snapshot: this.fpModel.snapshot } : null;
  }

  /**
   * Use FP weights trained elsewhere (another process of a parallel plan) as this config's FP
   * model, as if this lab had trained them in run `runId`.
   */
  adoptFp(c: ExperimentConfig, runId: string, snapshot: MlpSnapshot): void {
    this.fpModel = { key: polyFpKey(c), runId, snapshot };
  }

  /** The test set of a config on the device (for probes such as the loss landscape). */
  testData(c: ExperimentConfig): DeviceData {
    return this.ensureData(c).test;
  }

  dispose(): void {
    this.disposeData();
    this.fpModel = null;
    this.models.clear();
  }

  private keep(runId: string, snapshot: MlpSnapshot): void {
    this.models.set(runId, snapshot);
    while (this.models.size > KEPT_MODELS) this.models.delete(this.models.keys().next().value as string);
  }

  private ensureData(c: ExperimentConfig): DataCache {
    const { budget: _budget, ...rest } = c.data;
    const key = JSON.stringify(rest);
    if (this.data?.key === key) return this.data;
    this.disposeData();
    const trainHost = makeDataset(c.data.trainSize, c.data.degree, c.data.trainSeed);
    const testSet = makeDataset(c.data.testSize, c.data.degree, c.data.testSeed);
    const shown = headOf(testSet, N_SHOWN);
    this.data = {
      key,
      trainHost,
      train: toDevice(trainHost),
      test: toDevice(testSet),
      shownX: tf.tensor2d(shown.x, [shown.n, IN_DIM]),
      subsets: new Map(),
    };
    return this.data;
  }

  /** Training data after FP pretraining: the first `budget` examples (all when 0). */
  private budgetData(c: ExperimentConfig, d: DataCache): DeviceData {
    const n = c.data.budget;
    if (n === 0 || n >= d.train.n) return d.train;
    let sub = d.subsets.get(n);
    if (!sub) {
      sub = { n, x: tf.slice(d.train.x, [0, 0], [n, IN_DIM]), y: tf.slice(d.train.y, [0, 0], [n, OUT_DIM]) };
      d.subsets.set(n, sub);
    }
    return sub;
  }

  private calibration(c: ExperimentConfig, d: DataCache): { x: Float32Array; n: number } {
    const n = c.data.budget === 0 ? d.trainHost.n : Math.min(c.data.budget, d.trainHost.n);
    return { x: d.trainHost.x.subarray(0, n * IN_DIM), n };
  }

  private disposeData(): void {
    if (!this.data) return;
    disposeDevice(this.data.train);
    disposeDevice(this.data.test);
    for (const s of this.data.subsets.values()) disposeDevice(s);
    this.data.shownX.dispose();
    this.data = null;
  }

  /** Run every item of a plan in order (a sweep, PTQ vs QAFT); stops early when stopped. */
  runPlan(c: ExperimentConfig, plan: Plan, methods: readonly Method[], emit: Emit, control = new RunControl()): Promise<RunRecord[]> {
    return runPlan(this, c, plan, methods, emit, control);
  }

  /**
   * Run methods of the registry on these settings (runMethods: the FP model first when needed,
   * every finished run emitted at once). Every result passes finishRun: a run whose final loss
   * is not finite ends 'diverged'.
   */
  async run(c: ExperimentConfig, methods: readonly Method[], emit: Emit, control: RunControl = new RunControl()): Promise<RunRecord[]> {
    return runMethods(this, { c, emit: finishingRuns(emit), control }, methods);
  }

  methodProblems(c: ExperimentConfig, methods: readonly Method[]): string[] {
    const out = polyProblems(c).map((p) => `${p.key}: ${p.message}`);
    for (const m of methods) out.push(...polyMethodProblems(c, m));
    return out;
  }

  fp({ c, emit, control }: MethodContext): Promise<RunRecord> {
    return this.trainFp(c, this.ensureData(c), emit, control);
  }

  ptq({ c, emit, control }: MethodContext, method: 'rtn' | 'gptq'): Promise<RunRecord> {
    return this.runPtq(method, c, this.ensureData(c), emit, control);
  }

  quantTrain({ c, emit, control }: MethodContext, method: Method, init: QuantInit): Promise<RunRecord> {
    return this.runQuantTraining(method, init, c, this.ensureData(c), emit, control);
  }

  learnedScales({ c, emit, control }: MethodContext, method: 'lsq' | 'scaleonly'): Promise<RunRecord> {
    return this.runLearnedScales(method, c, this.ensureData(c), emit, control);
  }

  qaLora({ c, emit, control }: MethodContext): Promise<RunRecord> {
    return this.runQaLora(c, this.ensureData(c), emit, control);
  }

  dataFree({ c, emit, control }: MethodContext): Promise<RunRecord> {
    return this.runDataFree(c, this.ensureData(c), emit, control);
  }

  tiled({ c, emit, control }: MethodContext): Promise<RunRecord> {
    return this.runTiled(c, this.ensureData(c), emit, control);
  }

  private record(method: Method, c: ExperimentConfig, t: TrainConfig | null): RunRecord {
    const quantized = method !== 'fp';
    // With a bit schedule, the evaluated model (labels, storage) has the schedule's final bits.
    const ec = evaluatedConfig(c, method);
    const layers = layerQuant(ec);
    return {
      id: newRunId(method),
      name: polyRunName(method, c),
      method,
      bits: quantized ? finalBits(c, method) : 32,
      lr: t ? t.lr : null,
      steps: t ? totalSteps(t, method === 'fp' || c.data.budget === 0 ? c.data.trainSize : Math.min(c.data.budget, c.data.trainSize)) : 0,
      stepsDone: 0,
      loss: null,
      metric: POLY_METRIC,
      curve: [],
      predictions: null,
      wallMs: 0,
      status: 'done',
      diverged: null,
      backend: this.backendName(),
      createdAt: Date.now(),
      config: structuredClone(c),
      layerQuant: layers.map((l) => (quantized ? weightQuantLabel(l.weight) : 'FP32')),
      storageBits: modelStorageBits(ec, quantized),
      examples: method === 'fp' ? null : method === 'rtn' ? 0 : c.data.budget === 0 ? c.data.trainSize : Math.min(c.data.budget, c.data.trainSize),
      layerErrors: null,
      notes: [],
    };
  }

  /** Evaluate a quantized snapshot (test MSE, predictions, local errors) and keep its weights. */
  private async finishQuantized(r: RunRecord, c: ExperimentConfig, data: DataCache, q: MlpSnapshot, layers: LayerQuant[]): Promise<void> {
    // Weights are already quantized; activation quantization (if on) applies at evaluation,
    // static scales (re)calibrated on these weights.
    const actOnly = await this.evalQuant(c, data, q, layers);
    const m = mlpFromSnapshot(q, false);
    try {
      r.loss = await evaluate(m, data.test, actOnly);
      r.predictions = await predict(m, data.shownX, actOnly);
    } finally {
      disposeMlp(m);
    }
    const fp = this.requireFp(c);
    const calib = this.calibration(c, data);
    const n = Math.min(calib.n, LOCAL_ERROR_EXAMPLES);
    r.layerErrors = localErrors(fp, q, calib.x.subarray(0, n * IN_DIM), n);
    this.keep(r.id, q);
  }

  /** The activation side of `layers` for evaluating the quantized weights `q`: static scales calibrated on `q`. */
  private async evalQuant(c: ExperimentConfig, data: DataCache, q: MlpSnapshot, layers: LayerQuant[]): Promise<LayerQuant[]> {
    const actOnly = layers.map(activationOnly);
    const calib = this.calibration(c, data);
    await calibrateMlpActs(q, actOnly, calib.x, calib.n, c.act);
    return actOnly;
  }

  /** AWQ / SmoothQuant scales on `layers` from the FP model (a note on the run). */
  private smooth(r: RunRecord, c: ExperimentConfig, data: DataCache, layers: LayerQuant[]): void {
    const calib = this.calibration(c, data);
    r.notes?.push(...smoothMlp(this.requireFp(c), calib.x, calib.n, layers, c.act));
  }

  /** Calibrate static activation scales of the training quantizers on the starting model (kept through training). */
  private async calibrateStart(r: RunRecord, c: ExperimentConfig, data: DataCache, start: MlpSnapshot, lists: (LayerQuant[] | undefined)[]): Promise<void> {
    const calib = this.calibration(c, data);
    let any = false;
    for (const l of lists) {
      if (!l || !needsActCalibration(l)) continue;
      any = true;
      await calibrateMlpActs(start, l, calib.x, calib.n, c.act);
    }
    if (any)
      r.notes?.push(
        `Static activation scales (${c.act.observer}) calibrated on the starting model over ${calib.n} examples, fixed during training, re-calibrated on the final weights for evaluation.`,
      );
  }

  /** Emit a run's start once (a GPTQ-initialized run starts before its GPTQ stage, not again at training). */
  private announce(r: RunRecord, emit: Emit, throughput?: Throughput): void {
    if (this.announced.has(r.id)) return;
    this.announced.add(r.id);
    emit({ type: 'runStart', runId: r.id, name: r.name, method: r.method, total: r.steps, throughput });
  }

  /** A finished run: its wall time since `t0`, and its result emitted. */
  private done(r: RunRecord, emit: Emit, t0: number): RunRecord {
    r.wallMs = performance.now() - t0;
    emit({ type: 'result', run: r });
    return r;
  }

  /** A trained copy of the MLP (data-free, tiled): its quantized weights evaluated and kept unless the run diverged; the copy freed either way. */
  private async finishStudent(r: RunRecord, c: ExperimentConfig, data: DataCache, student: Mlp, layers: LayerQuant[], diverged: boolean): Promise<void> {
    try {
      if (!diverged) await this.finishQuantized(r, c, data, await rtnSnapshot(await snapshotMlp(student), layers), layers);
    } finally {
      disposeMlp(student);
    }
  }

  private async trainRun(
    r: RunRecord,
    m: Mlp,
    t: TrainConfig,
    c: ExperimentConfig,
    trainData: DeviceData,
    data: DataCache,
    quant: LayerQuant[] | undefined,
    emit: Emit,
    control: RunControl,
    extra: Partial<TrainOptions> = {},
  ): Promise<void> {
    const t0 = performance.now();
    this.announce(r, emit, { unit: 'samples', perStep: Math.min(t.batch, trainData.n) });
    const outcome = await train(m, trainData, data.test, { ...t, steps: r.steps, logEvery: c.logEvery, quant, ...extra }, this.pointsOf(r, emit), control);
    this.outcome(r, outcome);
    if (!outcome.diverged && !quant) {
      r.loss = await evaluate(m, data.test);
      r.predictions = await predict(m, data.shownX);
    }
    r.wallMs = performance.now() - t0;
  }

  /** A training outcome on its run: curve, steps done, divergence and status. */
  private outcome(r: RunRecord, o: TrainOutcome): void {
    r.curve = o.curve;
    r.stepsDone = o.stepsDone;
    r.diverged = o.diverged;
    r.status = o.diverged ? 'diverged' : o.stopped ? 'stopped' : 'done';
  }

  /** The training options of a run with the QAFT settings (its planned steps, the logging interval). */
  private trainOptions(r: RunRecord, c: ExperimentConfig): Omit<TrainOptions, 'quant'> {
    const t = c.qaft;
    return { lr: t.lr, batch: t.batch, steps: r.steps, schedule: t.schedule, weightDecay: t.weightDecay, seed: t.seed, logEvery: c.logEvery };
  }

  /** Where a run's curve points go while it trains. */
  private pointsOf(r: RunRecord, emit: Emit): (point: CurvePoint) => void {
    return (point) => emit({ type: 'point', runId: r.id, point, total: r.steps });
  }

  /** The note of a method without the quantizer schedule when the settings have one. */
  private scheduleNote(r: RunRecord, c: ExperimentConfig): void {
    if (hasSchedule(c) && !methodDef(r.method).schedule)
      r.notes?.push(
        `The quantizer schedule (delay, bit schedule) applies to ${METHOD_REGISTRY.filter((d) => d.schedule)
          .map((d) => d.label)
          .join(' and ')} only; this run used its bits throughout.`,
      );
  }

  private async trainFp(c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record('fp', c, c.fp);
    const m = initMlp(layerDims(c.model), c.fp.seed);
    try {
      await this.trainRun(r, m, c.fp, c, data.train, data, undefined, emit, control);
      // Not cached when its test loss is not finite (finishRun also runs when it is emitted).
      if (finishRun(r).status === 'done') this.fpModel = { key: polyFpKey(c), runId: r.id, snapshot: await snapshotMlp(m) };
    } finally {
      disposeMlp(m);
    }
    emit({ type: 'result', run: r });
    return r;
  }

  private async runPtq(method: 'rtn' | 'gptq', c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record(method, c, null);
    const t0 = performance.now();
    const layers = layerQuant(c);
    const fp = this.requireFp(c);
    emit({ type: 'runStart', runId: r.id, name: r.name, method, total: 0 });
    this.smooth(r, c, data, layers);
    const q = method === 'rtn' ? await rtnSnapshot(fp, layers) : await this.gptqSnapshot(r, c, data, layers, emit, control);
    if (!q) {
      r.status = 'stopped';
      return this.done(r, emit, t0);
    }
    await this.finishQuantized(r, c, data, q, layers);
    return this.done(r, emit, t0);
  }

  /**
   * GPTQ of the FP weights on the calibration budget, layer by layer on the already-quantized
   * path (its progress and fallbacks reported on run `r`); null when stopped.
   */
  private async gptqSnapshot(
    r: RunRecord,
    c: ExperimentConfig,
    data: DataCache,
    layers: LayerQuant[],
    emit: Emit,
    control: RunControl,
  ): Promise<MlpSnapshot | null> {
    const calib = this.calibration(c, data);
    const specs = layers.map((l) => (l.weight ? asZooSpec(l.weight) : null));
    let res;
    try {
      res = await gptqMlp(
        this.requireFp(c),
        calib.x,
        specs,
        { blocksize: c.gptq.blockSize, percdamp: c.gptq.damp, actOrder: c.gptq.actOrder },
        (p) => {
          if (control.stopped) throw new StoppedError();
          emit({ type: 'stage', runId: r.id, done: p.done, total: p.layers, label: `GPTQ: layer ${p.done} of ${p.layers} done` });
        },
        layers.map((l) => l.rotation ?? null),
        layers.map((l) => l.smooth),
      );
    } catch (e) {
      if (!(e instanceof StoppedError)) throw e;
      return null;
    }
    for (const l of res.layers) if (l.note) r.notes?.push(`layer ${l.layer}: ${l.note}`);
    r.examples = calib.n;
    return res.snapshot;
  }

  /** Quantized training with the QAFT settings from the FP weights, GPTQ's weights, or a fresh init (scratch). */
  private async runQuantTraining(method: Method, init: QuantInit, c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record(method, c, c.qaft);
    const layers = layerQuant(evaluatedConfig(c, method));
    if (init !== 'scratch') this.smooth(r, c, data, layers);
    else if (scratchSmoothNote(c)) r.notes?.push(scratchSmoothNote(c)!);
    let m: Mlp;
    if (init === 'gptq') {
      this.announce(r, emit, { unit: 'samples', perStep: Math.min(c.qaft.batch, this.budgetData(c, data).n) });
      const q = await this.gptqSnapshot(r, c, data, layers, emit, control);
      if (!q) {
        r.status = 'stopped';
        emit({ type: 'result', run: r });
        disposeCodebooks(layers);
        return r;
      }
      r.notes?.push(`Started from GPTQ's weights (${r.examples} calibration examples, the same as its training data).`);
      r.examples = this.budgetData(c, data).n;
      m = mlpFromSnapshot(q);
    } else m = init === 'fp' ? mlpFromSnapshot(this.requireFp(c)) : initMlp(layerDims(c.model), c.qaft.seed + SCRATCH_SEED_OFFSET);
    // Schedules: one LayerQuant list per segment (the final one is `layers`); null bits = FP.
    const scheduled = methodDef(method).schedule && hasSchedule(c);
    this.scheduleNote(r, c);
    const segments = scheduled ? quantSegments(c, r.steps) : [];
    const lists = segments.map((sg) =>
      sg.bits === null
        ? undefined
        : sg === segments[segments.length - 1]
          ? layers
          : layerQuant({ ...c, quant: { ...c.quant, bits: sg.bits as ExperimentConfig['quant']['bits'] } }),
    );
    const extra: Partial<TrainOptions> = segments.length ? { quantAt: (step) => lists[segmentAt(segments, step)] } : {};
    // The schedule's other segments quantize with the same smoothing scales.
    for (const l of lists) if (l && l !== layers) l.forEach((x, i) => (x.smooth = layers[i].smooth));
    try {
      await this.calibrateStart(r, c, data, await snapshotMlp(m), [layers, ...lists]);
      await this.trainRun(r, m, c.qaft, c, this.budgetData(c, data), data, layers, emit, control, extra);
      if (r.status !== 'diverged') {
        // The model is its quantized weights: evaluate and keep exactly those.
        const q = await rtnSnapshot(await snapshotMlp(m), layers);
        if (this.hasFp(c)) await this.finishQuantized(r, c, data, q, layers);
        else {
          const actOnly = await this.evalQuant(c, data, q, layers);
          const qm = mlpFromSnapshot(q, false);
          r.loss = await evaluate(qm, data.test, actOnly);
          r.predictions = await predict(qm, data.shownX, actOnly);
          disposeMlp(qm);
          this.keep(r.id, q);
        }
      }
    } finally {
      disposeMlp(m);
      disposeCodebooks(layers);
      for (const l of lists) if (l) disposeCodebooks(l);
    }
    emit({ type: 'result', run: r });
    return r;
  }

  /** LSQ (weights and step sizes trained) or scale-only (codes frozen, scales trained), from the FP model. */
  private async runLearnedScales(method: 'lsq' | 'scaleonly', c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record(method, c, c.qaft);
    if (hasSchedule(c)) r.notes?.push('The quantizer schedule (delay, bit schedule) applies to QAFT and scratch only; this run used its bits throughout.');
    const m = mlpFromSnapshot(this.requireFp(c));
    const layers = layerQuant(c);
    const ls = method === 'lsq' ? initLsq(m, layers) : initScaleOnly(m, layers);
    const params = method === 'lsq' ? [...m.weights, ...m.biases, ...trainableScales(ls)] : trainableScales(ls);
    try {
      await this.calibrateStart(r, c, data, this.requireFp(c), [layers]);
      await this.trainRun(r, m, c.qaft, c, this.budgetData(c, data), data, layers, emit, control, {
        params,
        forwardFn: learnedForward(ls),
        afterStep: () => clampScales(ls),
      });
      if (r.status !== 'diverged') await this.finishQuantized(r, c, data, await learnedSnapshot(m, ls), layers);
    } finally {
      disposeMlp(m);
      disposeLearned(ls);
    }
    emit({ type: 'result', run: r });
    return r;
  }

  /**
   * QA-LoRA: rank-r adapters on the frozen RTN weights of the quantized layers, trained on the
   * data budget; the run's model is the merged weights re-quantized (its test MSE the run's loss);
   * the unmerged model's test MSE goes in `extra`.
   */
  private async runQaLora(c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record('qalora', c, c.qaft);
    const t0 = performance.now();
    this.scheduleNote(r, c);
    const layers = layerQuant(c);
    this.announce(r, emit, { unit: 'samples', perStep: Math.min(c.qaft.batch, this.budgetData(c, data).n) });
    try {
      const res = await trainQaLora(
        this.requireFp(c),
        layers,
        this.budgetData(c, data),
        data.test,
        { ...this.trainOptions(r, c), rank: c.lm.loraRank, alpha: c.lm.loraAlpha },
        this.pointsOf(r, emit),
        control,
      );
      this.outcome(r, res);
      r.extra = [
        { label: 'test MSE before merging (quantized base + FP adapters)', value: res.unmergedMse },
        { label: 'adapter parameters', value: res.adapterParams },
      ];
      if (!res.diverged) await this.finishQuantized(r, c, data, await rtnSnapshot(res.merged, layers), layers);
    } finally {
      disposeCodebooks(layers);
    }
    return this.done(r, emit, t0);
  }

  /**
   * Data-free QAFT: the quantized student learns the FP model's outputs on df_n inputs of the
   * polynomial generator (a seed of its own); no training example or target is used.
   */
  private async runDataFree(c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record('datafree', c, c.qaft);
    const n = c.lm.dfSequences;
    r.steps = totalSteps(c.qaft, n);
    r.examples = 0;
    const t0 = performance.now();
    this.scheduleNote(r, c);
    const layers = layerQuant(c);
    const genSeed = dataFreeSeed(c.qaft.seed, [c.data.trainSeed, c.data.testSeed]);
    this.announce(r, emit, { unit: 'samples', perStep: Math.min(c.qaft.batch, n) });
    try {
      const res = await trainDataFree(
        this.requireFp(c),
        layers,
        data.test,
        { ...this.trainOptions(r, c), inputs: n, degree: c.data.degree, genSeed },
        this.pointsOf(r, emit),
        control,
      );
      this.outcome(r, res);
      r.extra = [{ label: 'generated inputs (the only training data)', value: res.inputs }];
      r.notes?.push(
        `Trained only on ${res.inputs} inputs that the polynomial data generator made with seed ${genSeed} (not the training seed ${c.data.trainSeed} nor the test seed ${c.data.testSeed}), labelled by the FP model's outputs (${(res.genMs / 1000).toFixed(1)} s); no training examples or targets.`,
        `The MLP has no logits and samples nothing: the loss is the MSE to the FP model's outputs, whatever df_loss (${c.lm.dfLoss}) and df_temp say (they apply to the language model).`,
      );
      await this.finishStudent(r, c, data, res.student, layers, res.diverged !== null);
    } finally {
      disposeCodebooks(layers);
    }
    return this.done(r, emit, t0);
  }

  /**
   * Forward tiled QAT: tile_k layers at a time quantized and trained (tile_steps each) to
   * reproduce the FP activations after them, on the data budget; then tile_global steps of QAFT.
   */
  private async runTiled(c: ExperimentConfig, data: DataCache, emit: Emit, control: RunControl): Promise<RunRecord> {
    const r = this.record('tiled', c, c.qaft);
    const nLayers = c.model.depth + 1;
    r.steps = tiledSteps(nLayers, c.lm);
    const t0 = performance.now();
    this.scheduleNote(r, c);
    const layers = layerQuant(c);
    this.announce(r, emit, { unit: 'samples', perStep: Math.min(c.qaft.batch, this.budgetData(c, data).n) });
    try {
      const res = await trainTiled(
        this.requireFp(c),
        layers,
        this.budgetData(c, data),
        data.test,
        { ...this.trainOptions(r, c), tileK: c.lm.tileK, tileSteps: c.lm.tileSteps, globalSteps: c.lm.tileGlobal },
        this.pointsOf(r, emit),
        control,
      );
      this.outcome(r, res);
      const figures = tileFigures(res.tiles, 'layers');
      r.extra = figures.extra;
      r.notes?.push(...figures.notes);
      await this.finishStudent(r, c, data, res.student, layers, res.diverged !== null);
    } finally {
      disposeCodebooks(layers);
    }
    return this.done(r, emit, t0);
  }

  private requireFp(c: ExperimentConfig): MlpSnapshot {
    if (!this.fpModel || this.fpModel.key !== polyFpKey(c)) throw new Error('No trained FP model for these settings.');
    return this.fpModel.snapshot;
  }
}
