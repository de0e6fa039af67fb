/**
 * The LM task end to end: load the text and the FP model (the shipped checkpoint, pretraining
 * here, or a Hugging Face checkpoint), then RTN, GPTQ, QAFT, LSQ, scale-only, QA-LoRA, data-free
 * QAFT and forward tiled QAT, each a RunRecord like the polynomial toy's (test loss = validation
 * NLL, nats/token), with a text sample from the same prompt and seed. Every finished run is
 * emitted at once.
 */
import { lmFpKey, lmRunName } from './naming';
import * as tf from '@tensorflow/tfjs';
import { type ExperimentConfig, type TrainConfig } from '../core/config';
import { methodLabel, runMethods, type Method } from '../core/methods';
import type { MethodContext, QuantInit, TaskLab } from '../core/task';
import type { NamedWeight } from '../core/inspect';
import { RunControl } from '../core/control';
import type { LabEvent } from '../core/runs';
import { weightQuantLabel } from '../core/layerquant';
import { finishingRuns, finishRun, type RunRecord } from '../core/runs';
import { storageBits } from '../core/quantizers/spec';
import { asZooSpec, quantizedShape, rotationRefused } from '../core/layerquant';
import type { Rotation } from '../core/rotation';
import { canFold, foldNote, foldRotation, lmRotations, lmRotationTails } from './rotate';
import {
  BUILTIN_CHECKPOINT,
  MAX_CHECKPOINT_BYTES,
  charTokenizerOf,
  encodePrompt,
  loadCorpus,
  textHash,
  type HfFiles,
  type LmEnv,
  type LmTokenizer,
} from './assets';
import { loadGpt } from './checkpoint';
import { generate } from './generate';
import { cloneGpt, disposeGpt, gptLinears, gptParamCount, initGpt, type Gpt, type GptQuant } from './gpt';
import { gptqGpt } from './gptq';
import { calibrateGptActs, gptNeedsActCalibration, smoothGpt } from './actcalib';
import { scratchSmoothNote } from '../core/act';
import { fetchHfModel, hfNameOf, loadHfModel } from './hf';
import { gptQuantOf, hasKmeans, lmLayerErrors, ptqEvalQuant, refreshGptCodebooks, rtnGpt } from './quantize';
import { LM_BITS_KEY, lmComponentQuant, lmWithBits, lmLearnedScaleProblems, LM_METRIC, lmProblems, LM_COMPONENTS } from './spec';
import { disposeEvalSet, evaluateLm, makeEvalSet, trainLm, type LmCurvePoint, type LmEvalSet, type LmTrainOptions, type LmTrainOutcome } from './train';
import { trainQaLora } from './lora';
import { trainDataFree } from './datafree';
import { trainTiled } from './tiled';
import { tiledSteps, tileFigures } from '../core/tiles';
import { trainLearnedScales } from './lsq';
import { exportQuantizedLm, type ExportLayout } from './export';

type Emit = (e: LabEvent) => void;

/** Validation windows used for the curves and the final NLL (fixed, from the end of the text). */
export const LM_VAL_WINDOWS = 128;
/** Evaluation batch (sequences per forward). */
export const LM_EVAL_BATCH = 16;
/** Calibration windows used for the per-layer local errors. */
export const LM_ERROR_WINDOWS = 32;
/** How many runs keep their model in memory for text samples. */
export const LM_KEPT_MODELS = 8;

/** The trainers' options from a training config of the lab. */
function trainOptions(t: TrainConfig, logEvery: number): LmTrainOptions {
  return { steps: t.steps, batch: t.batch, lr: t.lr, schedule: t.schedule, weightDecay: t.weightDecay, seed: t.seed, logEvery };
}

let idCounter = 0;
const newRunId = (method: Method) => `${Date.now().toString(36)}-lm-${method}-${++idCounter}`;

interface LmData {
  key: string;
  tok: LmTokenizer;
  /** Training tokens (the start of the text) and validation windows (its end). */
  train: Int32Array;
  val: LmEvalSet;
  /** Sequence length used (the config's context, capped by a checkpoint's maximum). */
  T: number;
  label: string;
}

interface FpModel {
  key: string;
  runId: string;
  model: Gpt;
  /** The text as this model's tokenizer reads it (the quantized methods use the same). */
  data: LmData;
}

/** A model as it is evaluated: weights + the fake-quant of the forward (RTN on the fly, or activations only). */
interface Evaluated {
  model: Gpt;
  quant: GptQuant | undefined;
}

/** A finished run's model as kept in memory (samples, export): how it is evaluated, its tokenizer and settings. */
type Kept = Evaluated & { tok: LmTokenizer; config: ExperimentConfig; method: Method; name: string; checkpoint: { config: string; tokenizer: string } | null };

/** A run's quantized weights as files (exportWeights). */
export interface LmWeightsExport {
  /** model.safetensors, config.json and, for a Hugging Face checkpoint, its tokenizer.json. */
  files: { name: string; bytes: Uint8Array }[];
  layout: ExportLayout;
  /** The weights that have codes (their stored names). */
  quantized: string[];
  notes: string[];
}

/** Seed offset of a scratch model's init, so it is not the FP init. */
const SCRATCH_SEED_OFFSET = 0x5eed;

export class LmLab implements TaskLab {
  readonly task = 'lm' as const;
  readonly withBits = lmWithBits;
  readonly problems = lmProblems;
  private ownText: { name: string; text: string } | null = null;
  private files: HfFiles | null = null;
  private data: LmData | null = null;
  private fpModel: FpModel | null = null;
  /** The FP model with its residual stream rotated (folded) for rot=hadamard: of which FP run and seed. */
  private rotated: { runId: string; seed: number; model: Gpt } | null = null;
  private readonly kept = new Map<string, Kept>();
  /** config.json and tokenizer.json of the loaded Hugging Face checkpoint (exports carry them on). */
  private checkpointText: { config: string; tokenizer: string } | null = null;

  constructor(
    private readonly env: LmEnv,
    private readonly backendName: () => string = () => tf.getBackend(),
  ) {}

  setOwnText(name: string, text: string): void {
    this.ownText = { name, text };
  }
  setFiles(files: HfFiles | null): void {
    this.files = files;
  }
  /** Hand the user's text and files to another lab (a new backend needs new tensors, not new uploads). */
  transferAssetsTo(other: LmLab): void {
    other.ownText = this.ownText;
    other.files = this.files;
  }
  get assets(): { text: { name: string; chars: number } | null; files: { name: string; bytes: number }[] } {
    return {
      text: this.ownText ? { name: this.ownText.name, chars: this.ownText.text.length } : null,
      files: this.files ? [{ name: this.files.name, bytes: this.files.weights.length }] : [],
    };
  }

  dispose(): void {
    if (this.data) disposeEvalSet(this.data.val);
    this.data = null;
    // The FP model is also among the kept ones: dispose every model once.
    const models = new Set([...this.kept.values()].map((k) => k.model));
    if (this.fpModel) models.add(this.fpModel.model);
    for (const m of models) disposeGpt(m);
    this.fpModel = null;
    this.dropRotated();
    this.kept.clear();
  }

  /** The cache key of the FP model: the settings, plus the user's text / files that the URL cannot carry. */
  private key(c: ExperimentConfig): string {
    const own = c.lm.corpus === 'own' && this.ownText ? textHash(this.ownText.text) : '';
    const files = c.lm.source === 'files' && this.files ? `${this.files.name}:${this.files.weights.length}` : '';
    return `${lmFpKey(c)}|${own}|${files}`;
  }

  /** Load the FP model of a checkpoint source (hf URL / dropped files), or null for the tiny GPT. */
  private async loadCheckpoint(c: ExperimentConfig, emit: Emit, runId: string): Promise<{ model: Gpt; tok: LmTokenizer; name: string } | null> {
    const l = c.lm;
    if (l.source === 'tiny') return null;
    let files: HfFiles;
    if (l.source === 'files') {
      if (!this.files)
        throw new Error(
          'Source "files" is selected but no checkpoint files were dropped: drop config.json, model.safetensors and tokenizer.json on the model panel.',
        );
      files = this.files;
    } else {
      const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
      files = await fetchHfModel(
        l.hfUrl,
        this.env.fetch ?? ((url, init) => fetch(url, init)),
        (p) =>
          emit({
            type: 'stage',
            runId,
            done: p.loaded,
            total: p.total ?? p.loaded,
            label: `Downloading ${p.file}: ${mb(p.loaded)}${p.total ? ` of ${mb(p.total)}` : ''}`,
          }),
        { maxBytes: MAX_CHECKPOINT_BYTES },
      );
    }
    const { model, tokenizer, name } = await loadHfModel(files, { maxBytes: MAX_CHECKPOINT_BYTES, context: l.context });
    this.checkpointText = { config: files.config, tokenizer: files.tokenizer };
    return { model, tok: tokenizer, name };
  }

  /**
   * The tokenized text, split into training tokens and validation windows of T tokens. `tok`
   * null: the char tokenizer of the text itself (a model pretrained here).
   */
  private async ensureData(c: ExperimentConfig, tok: LmTokenizer | null, T: number): Promise<LmData> {
    const key = `${this.key(c)}|${T}|${tok ? tok.vocab : 'chars'}`;
    if (this.data?.key === key) return this.data;
    if (this.data) disposeEvalSet(this.data.val);
    this.data = null;
    const { text, label } = await loadCorpus(c, this.env, this.ownText);
    const t = tok ?? charTokenizerOf(text);
    const ids = t.encode(text);
    const split = Math.floor(ids.length * (1 - c.lm.valFraction));
    const valIds = ids.subarray(split);
    const windows = Math.min(LM_VAL_WINDOWS, Math.floor((valIds.length - 1) / T));
    const batch = Math.min(LM_EVAL_BATCH, windows);
    if (batch < 1)
      throw new Error(
        `The validation part of the text (${valIds.length} tokens) is shorter than one window of ${T + 1} tokens: use a longer text or a larger validation fraction.`,
      );
    const val = makeEvalSet(valIds.subarray(0, Math.floor(windows / batch) * batch * T + 1), T, batch);
    this.data = { key, tok: t, train: ids.subarray(0, split), val, T, label };
    return this.data;
  }

  /** Tokens of the data budget: the first `budget` windows of T tokens (+1 for the targets); all when 0. */
  private budgetTokens(c: ExperimentConfig, d: LmData): { ids: Int32Array; windows: number } {
    const all = Math.floor((d.train.length - 1) / d.T);
    const n = c.data.budget === 0 ? all : Math.min(c.data.budget, all);
    return { ids: d.train.subarray(0, n * d.T + 1), windows: n };
  }

  private record(method: Method, c: ExperimentConfig, trained: boolean, d: LmData | null): RunRecord {
    const t = method === 'fp' ? c.lmFp : c.lmQaft;
    // Tiles: a checkpoint's own depth (the FP model's), not the tiny GPT's setting.
    const layers = this.fpModel?.model.config.layers ?? c.lm.layers;
    const steps = !trained ? 0 : method === 'tiled' ? tiledSteps(layers, c.lm) : t.steps;
    const quantized = method !== 'fp';
    return {
      id: newRunId(method),
      name: lmRunName(method, c),
      method,
      bits: quantized ? Math.min(...LM_COMPONENTS.map((k) => c.lm[LM_BITS_KEY[k]])) : 32,
      lr: trained && method !== 'tiled' ? t.lr : null,
      steps,
      stepsDone: 0,
      loss: null,
      metric: LM_METRIC,
      curve: [],
      predictions: null,
      wallMs: 0,
      status: 'done',
      diverged: null,
      backend: this.backendName(),
      createdAt: Date.now(),
      config: structuredClone(c),
      layerQuant: LM_COMPONENTS.map((k) => `${k}: ${quantized ? weightQuantLabel(lmComponentQuant(c, k)) : 'FP32'}`),
      examples: method === 'fp' || method === 'rtn' ? null : method === 'datafree' ? 0 : d ? this.budgetTokens(c, d).windows : null,
      layerErrors: null,
      notes: [],
      sample: null,
      extra: [],
    };
  }

  /**
   * Run methods of the registry on these settings (runMethods: the FP model loaded, taken from
   * the shipped checkpoint, or pretrained first when a method needs it and it is not kept).
   * Every result passes finishRun: a run whose final validation NLL is not finite ends 'diverged'.
   */
  async run(c: ExperimentConfig, methods: readonly Method[], emit: Emit, control: RunControl = new RunControl()): Promise<RunRecord[]> {
    return runMethods(this, { c, emit: finishingRuns(emit), control }, methods);
  }

  hasFp(c: ExperimentConfig): boolean {
    return this.fpModel?.key === this.key(c);
  }

  async weightMatrices(c: ExperimentConfig): Promise<NamedWeight[]> {
    const fp = this.fpModel;
    if (!fp || fp.key !== this.key(c)) throw new Error('The engine holds no FP model for these settings: run FP first.');
    return Promise.all(
      gptLinears(fp.model).map(async (lin) => ({
        name: lin.name,
        shape: [lin.w.shape[0], lin.w.shape[1]] as [number, number],
        values: (await lin.w.data()) as Float32Array,
        quant: lmComponentQuant(c, lin.component),
      })),
    );
  }

  methodProblems(c: ExperimentConfig, methods: readonly Method[]): string[] {
    const out = lmProblems(c).map((p) => `${p.key}: ${p.message}`);
    const noKmeans = methods.filter((m) => m === 'qalora' || m === 'datafree' || m === 'tiled');
    if (hasKmeans(gptQuantOf(c)) && noKmeans.length)
      out.push(
        `k-means levels work with RTN, GPTQ and the QAFT-style methods on the language model; ${noKmeans.join(', ')} need a uniform, ternary, binary or NF4 quantizer (setting "scheme").`,
      );
    for (const m of ['lsq', 'scaleonly'] as const)
      if (methods.includes(m)) out.push(...(c.quant.rotate !== 'none' ? [rotationRefused(m)] : lmLearnedScaleProblems(c, m)));
    return out;
  }

  fp({ c, emit, control }: MethodContext): Promise<RunRecord> {
    return this.runFp(c, emit, control);
  }

  private async runFp(c: ExperimentConfig, emit: Emit, control: RunControl): Promise<RunRecord> {
    const t0 = performance.now();
    const r = this.record('fp', c, false, null);
    if (this.fpModel) {
      this.kept.delete(this.fpModel.runId);
      disposeGpt(this.fpModel.model);
      this.fpModel = null;
    }
    this.dropRotated();
    const shipped = c.lm.source === 'tiny' && c.lm.pretrained && c.lm.corpus === 'builtin' ? await this.shippedCheckpoint(c) : null;
    const pretrain = c.lm.source === 'tiny' && !shipped;
    if (pretrain) {
      r.steps = c.lmFp.steps;
      r.lr = c.lmFp.lr;
    }
    if (shipped) r.name = 'FP GPT (pretrained checkpoint)';
    else if (!pretrain) r.name = c.lm.source === 'hf' ? `FP ${hfNameOf(c.lm.hfUrl)}` : 'FP checkpoint files';
    emit({
      type: 'runStart',
      runId: r.id,
      name: r.name,
      method: 'fp',
      total: r.steps,
      throughput: pretrain ? { unit: 'tokens', perStep: c.lmFp.batch * c.lm.context } : undefined,
    });
    let model: Gpt;
    let tok: LmTokenizer;
    let d: LmData;
    if (shipped) {
      ({ model, tok } = shipped);
      d = await this.ensureData(c, tok, model.config.context);
      r.notes?.push(`Loaded ${BUILTIN_CHECKPOINT}, pretrained by \`npm run pretrain-lm\` with exactly these model and FP settings.`);
    } else if (!pretrain) {
      const loaded = await this.loadCheckpoint(c, emit, r.id);
      if (!loaded) throw new Error('internal: no checkpoint source');
      ({ model, tok } = loaded);
      r.name = `FP ${loaded.name}`;
      d = await this.ensureData(c, tok, model.config.context); // loaded with the context capped at lm.context
      r.notes?.push(`${loaded.name}: ${(gptParamCount(model) / 1e6).toFixed(1)}M parameters, vocabulary ${tok.vocab}, evaluated as loaded (no training).`);
    } else {
      d = await this.ensureData(c, null, c.lm.context);
      tok = d.tok;
      const l = c.lm;
      model = initGpt(
        { vocab: tok.vocab, context: l.context, layers: l.layers, heads: l.heads, dModel: l.dModel, norm: l.norm, bitnet: l.bitnet },
        c.lmFp.seed,
      );
      await this.train(r, c, model, d.train, d, c.lmFp, undefined, emit, control);
      if (r.status !== 'done') {
        disposeGpt(model);
        r.wallMs = performance.now() - t0;
        emit({ type: 'result', run: r });
        return r;
      }
    }
    this.fpModel = { key: this.key(c), runId: r.id, model, data: d };
    await this.finish(r, c, d, { model, quant: undefined }, null);
    // A model whose NLL is not finite is no FP model for the other methods (it stays among the kept ones, which dispose it).
    if (finishRun(r).status !== 'done') this.fpModel = null;
    r.wallMs = performance.now() - t0;
    emit({ type: 'result', run: r });
    return r;
  }

  /** The shipped checkpoint when it was trained with exactly this model, corpus and FP settings. */
  private async shippedCheckpoint(c: ExperimentConfig): Promise<{ model: Gpt; tok: LmTokenizer } | null> {
    let bytes: Uint8Array;
    try {
      bytes = await this.env.fetchBytes(BUILTIN_CHECKPOINT);
    } catch {
      return null;
    }
    const { model, meta } = loadGpt(bytes, { name: BUILTIN_CHECKPOINT });
    const l = c.lm;
    const want = { layers: l.layers, heads: l.heads, dModel: l.dModel, context: l.context, norm: l.norm, bitnet: l.bitnet };
    const m = model.config;
    const have = { layers: m.layers, heads: m.heads, dModel: m.dModel, context: m.context, norm: m.norm, bitnet: Boolean(m.bitnet) };
    const sorted = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    const fpSame = meta.lmFp !== undefined && sorted(meta.lmFp) === sorted(c.lmFp);
    if (JSON.stringify(want) !== JSON.stringify(have) || !fpSame || meta.valFraction !== l.valFraction || !meta.chars) {
      disposeGpt(model);
      return null;
    }
    return { model, tok: charTokenizerOf(meta.chars) };
  }

  private async train(
    r: RunRecord,
    c: ExperimentConfig,
    model: Gpt,
    ids: Int32Array,
    d: LmData,
    t: TrainConfig,
    quant: GptQuant | undefined,
    emit: Emit,
    control: RunControl,
  ): Promise<LmTrainOutcome> {
    const o = await trainLm(model, ids, d.val, { ...trainOptions(t, c.logEvery), quant }, (p) => this.point(r, p, emit), control);
    this.outcome(r, o);
    return o;
  }

  private point(r: RunRecord, p: LmCurvePoint, emit: Emit): void {
    const point = { step: p.step, train: p.train, test: p.val };
    r.curve.push(point);
    emit({ type: 'point', runId: r.id, point, total: r.steps });
  }

  private outcome(r: RunRecord, o: { stepsDone: number; diverged: boolean; stopped: boolean }): void {
    r.stepsDone = o.stepsDone;
    r.status = o.diverged ? 'diverged' : o.stopped ? 'stopped' : 'done';
    if (o.diverged) r.diverged = { step: o.stepsDone, lr: r.lr ?? 0, reason: 'non-finite' };
  }

  /** Validation NLL, text sample, local errors; keep the model for later samples. */
  private async finish(r: RunRecord, c: ExperimentConfig, d: LmData, e: Evaluated, fp: Gpt | null): Promise<void> {
    r.loss = await evaluateLm(e.model, d.val, e.quant);
    r.extra?.push({ label: 'perplexity', value: Math.exp(r.loss) });
    r.storageBits = lmStorageBits(c, e.model, r.method !== 'fp', e.quant?.rotate);
    const prompt = encodePrompt(d.tok, c.lm.prompt);
    if (prompt.note) r.notes?.push(prompt.note);
    const ids = await generate(e.model, e.quant, prompt.ids, c.lm.sampleLength, c.lm.sampleTemp, c.lm.sampleSeed);
    r.sample = d.tok.decode(ids);
    if (fp) {
      const calib = this.budgetTokens(c, d);
      const n = Math.min(calib.windows, LM_ERROR_WINDOWS);
      const { names, errors } = await lmLayerErrors(fp, e.model, e.quant, calib.ids.subarray(0, n * d.T), n, d.T);
      r.layerNames = names;
      r.layerErrors = errors;
      r.layerTails = await this.tails(c);
    }
    const checkpoint = c.lm.source === 'tiny' ? null : this.checkpointText;
    this.keep(r.id, { ...e, tok: d.tok, config: structuredClone(c), method: r.method, name: r.name, checkpoint });
  }

  private keep(runId: string, e: Kept): void {
    this.kept.set(runId, e);
    while (this.kept.size > LM_KEPT_MODELS) {
      const [oldest, k] = this.kept.entries().next().value as [string, Evaluated];
      this.kept.delete(oldest);
      if (k.model !== this.fpModel?.model && ![...this.kept.values()].some((x) => x.model === k.model)) disposeGpt(k.model);
    }
  }

  /** Text from a kept run's model with a new prompt (same length, temperature and seed settings). */
  async sample(c: ExperimentConfig, runId: string, prompt: string): Promise<string> {
    const k = this.kept.get(runId);
    if (!k) throw new Error('That run’s model is no longer in memory (only the latest runs of this session are kept): run it again to sample from it.');
    const p = encodePrompt(k.tok, prompt);
    const ids = await generate(k.model, k.quant, p.ids, c.lm.sampleLength, c.lm.sampleTemp, c.lm.sampleSeed);
    return (p.note ? `[${p.note}]\n` : '') + k.tok.decode(ids);
  }

  /** The FP model's per-linear weight tails before / after the rotation of rot_seed (cached per FP run and seed). */
  private tailCache: { runId: string; seed: number; tails: NonNullable<RunRecord['layerTails']> } | null = null;
  private async tails(c: ExperimentConfig): Promise<RunRecord['layerTails']> {
    const fp = this.fpModel;
    if (!fp) return undefined;
    const seed = c.quant.rotSeed;
    if (this.tailCache?.runId !== fp.runId || this.tailCache.seed !== seed)
      this.tailCache = { runId: fp.runId, seed, tails: await lmRotationTails(fp.model, seed) };
    return this.tailCache.tails;
  }

  private dropRotated(): void {
    if (this.rotated) disposeGpt(this.rotated.model);
    this.rotated = null;
  }

  /** The FP model the quantized methods start from: the FP model itself, or with rot=hadamard its folded rotation (when foldable), cached. */
  private async baseModel(fp: FpModel, c: ExperimentConfig): Promise<Gpt> {
    if (c.quant.rotate !== 'hadamard' || !canFold(fp.model.config)) return fp.model;
    const seed = c.quant.rotSeed;
    if (this.rotated?.runId === fp.runId && this.rotated.seed === seed) return this.rotated.model;
    this.dropRotated();
    this.rotated = { runId: fp.runId, seed, model: await foldRotation(fp.model, seed) };
    return this.rotated.model;
  }

  /**
   * A kept run's weights as safetensors (export.ts): the tiny GPT in the lab's own checkpoint
   * layout, a Hugging Face checkpoint in its family's (GPT-2 or GPT-NeoX), with the codes and
   * scales of every matrix the run's settings quantize (none for the FP model).
   */
  async exportWeights(runId: string): Promise<LmWeightsExport> {
    const k = this.kept.get(runId);
    if (!k) throw new Error('That run’s model is no longer in memory (only the latest runs of this session are kept): run it again to export its weights.');
    const c = k.config;
    if (c.quant.rotate !== 'none' && k.method !== 'fp')
      throw new Error(
        `The weights of "${k.name}" cannot be exported: they were quantized in a rotated basis (rot=${c.quant.rotate}), which the exported layouts have no place for (online Hadamard rotations, a folded residual stream).`,
      );
    const layout: ExportLayout = c.lm.source === 'tiny' ? 'lab' : k.model.config.positions === 'rotary' ? 'gpt-neox' : 'gpt2';
    const quantized = k.method !== 'fp';
    const specs = { embed: null, attn: null, mlp: null, head: null } as Record<(typeof LM_COMPONENTS)[number], ReturnType<typeof lmComponentQuant>>;
    if (quantized) for (const x of LM_COMPONENTS) specs[x] = lmComponentQuant(c, x);
    let baseConfig: Record<string, unknown> | undefined;
    if (layout !== 'lab' && k.checkpoint) baseConfig = JSON.parse(k.checkpoint.config) as Record<string, unknown>;
    const out = await exportQuantizedLm({
      model: k.model,
      quant: k.quant,
      specs,
      layout,
      about: { method: k.method, run: k.name, scheme: c.quant.scheme, settings: lmRunName(k.method, c) },
      baseConfig,
      chars: k.tok.chars,
    }).catch((e: Error) => {
      // GPTQ's weights that no per-group codes and scales describe: say why.
      const why =
        k.method !== 'gptq'
          ? ''
          : c.quant.scheme === 'nvfp4'
            ? ' GPTQ fits NVFP4’s tensor scale in float64, and its weights have no float32 tensor scale and E4M3 block scales.'
            : c.gptq.actOrder && c.quant.granularity === 'group'
              ? ' With act-order, GPTQ’s groups are not runs of consecutive inputs (the file has no g_idx): export GPTQ without act-order.'
              : '';
      throw new Error(`The weights of "${k.name}" cannot be exported: ${e.message}.${why}`);
    });
    const enc = new TextEncoder();
    const files = [
      { name: 'model.safetensors', bytes: out.weights },
      { name: 'config.json', bytes: enc.encode(out.config) },
    ];
    if (layout !== 'lab' && k.checkpoint) files.push({ name: 'tokenizer.json', bytes: enc.encode(k.checkpoint.tokenizer) });
    return { files, layout, quantized: Object.keys(out.quantized), notes: out.notes };
  }

  /**
   * The kept FP model and a new run record of `method` on it (the FP model must be kept: runMethods
   * sees to it), and `base`: the model the method starts from (the FP model, rotated with rot=hadamard).
   */
  private async begin(
    method: Method,
    c: ExperimentConfig,
    emit: Emit,
    trained: boolean,
  ): Promise<{ t0: number; fp: FpModel; base: Gpt; d: LmData; r: RunRecord; q: GptQuant; budget: { ids: Int32Array; windows: number } }> {
    const t0 = performance.now();
    const fp = this.fpModel;
    if (!fp || fp.key !== this.key(c)) throw new Error(`${methodLabel(method)} on the language model needs the FP model of these settings: run FP first.`);
    const d = fp.data;
    const r = this.record(method, c, trained, d);
    const q = gptQuantOf(c);
    const base = await this.baseModel(fp, c);
    if (c.quant.rotate === 'hadamard') {
      q.rotate = lmRotations(fp.model.config, q, c.quant.rotSeed);
      const online = Object.keys(q.rotate).join(', ') || 'none';
      const why = foldNote(fp.model.config);
      r.notes?.push(
        why === null
          ? `Hadamard rotation: the residual stream is folded into the weights (norm gains absorbed, embeddings, readers and writers rotated; the head untied); online rotations before: ${online}.`
          : `Hadamard rotation: not folded (${why}); online rotations before: ${online}.`,
      );
    }
    if (hasKmeans(q)) await refreshGptCodebooks(base, q);
    emit({
      type: 'runStart',
      runId: r.id,
      name: r.name,
      method,
      total: r.steps,
      throughput: trained ? { unit: 'tokens', perStep: c.lmQaft.batch * d.T } : undefined,
    });
    return { t0, fp, base, d, r, q, budget: this.budgetTokens(c, d) };
  }

  /** Evaluate the run's model (or keep it as it ended: stopped, diverged), and emit the result. */
  private async end(r: RunRecord, c: ExperimentConfig, d: LmData, e: Evaluated | null, base: Gpt, t0: number, emit: Emit): Promise<RunRecord> {
    if (e) {
      if (e.quant && hasKmeans(e.quant)) await refreshGptCodebooks(e.model, e.quant);
      // Static activation scales are (re)calibrated on the final weights.
      if (e.quant) await this.calibrate(c, d, e.model, e.quant);
      await this.finish(r, c, d, e, base);
    }
    r.wallMs = performance.now() - t0;
    emit({ type: 'result', run: r });
    return r;
  }

  /** Calibrate the static activation quantizers of `quant` on `model` over the budget's windows (a no-op without them). */
  private async calibrate(c: ExperimentConfig, d: LmData, model: Gpt, quant: GptQuant): Promise<void> {
    if (!gptNeedsActCalibration(quant)) return;
    const b = this.budgetTokens(c, d);
    await calibrateGptActs(model, quant, b.ids.subarray(0, b.windows * d.T), b.windows, d.T, c.act);
  }

  /** Calibrate before training (or GPTQ) on the starting model, with a note on the run. */
  private async calibrateStart(r: RunRecord, c: ExperimentConfig, d: LmData, model: Gpt, quant: GptQuant, what: string): Promise<void> {
    if (!gptNeedsActCalibration(quant)) return;
    await this.calibrate(c, d, model, quant);
    r.notes?.push(
      `Static activation scales (${c.act.observer}) calibrated on ${what} over ${this.budgetTokens(c, d).windows} sequences, then re-calibrated on the final weights for evaluation.`,
    );
  }

  /** AWQ / SmoothQuant scales on q's block linears from the FP model (a note on the run). */
  private async smooth(r: RunRecord, c: ExperimentConfig, fp: FpModel, q: GptQuant, budget: { ids: Int32Array; windows: number }): Promise<void> {
    const T = fp.data.T;
    r.notes?.push(...(await smoothGpt(fp.model, q, budget.ids.subarray(0, budget.windows * T), budget.windows, T, c.act)));
  }

  /** GPTQ of the FP model on the data budget (progress on run `r`); null when stopped. */
  private async gptqModel(
    r: RunRecord,
    c: ExperimentConfig,
    fp: FpModel,
    base: Gpt,
    q: GptQuant,
    budget: { ids: Int32Array; windows: number },
    emit: Emit,
    control: RunControl,
  ): Promise<Gpt | null> {
    const T = fp.data.T;
    const res = await gptqGpt(
      base,
      q,
      budget.ids.subarray(0, budget.windows * T),
      budget.windows,
      { damp: c.gptq.damp, blockSize: c.gptq.blockSize, actOrder: c.gptq.actOrder },
      (done, total, label) => emit({ type: 'stage', runId: r.id, done, total, label }),
      () => control.stopped,
    );
    if (res.stopped) {
      disposeGpt(res.model);
      return null;
    }
    for (const rep of res.reports) if (rep.note) r.notes?.push(`${rep.name}: ${rep.note}`);
    return res.model;
  }

  async ptq({ c, emit, control }: MethodContext, method: 'rtn' | 'gptq'): Promise<RunRecord> {
    const { t0, fp, base, d, r, q, budget } = await this.begin(method, c, emit, false);
    await this.smooth(r, c, fp, q, budget);
    let e: Evaluated | null = null;
    if (method === 'rtn') e = { model: await rtnGpt(base, q), quant: ptqEvalQuant(q) };
    else {
      await this.calibrateStart(r, c, d, base, q, "the FP model with RTN weights (GPTQ's calibration passes)");
      const model = await this.gptqModel(r, c, fp, base, q, budget, emit, control);
      if (model) e = { model, quant: ptqEvalQuant(q) };
      else r.status = 'stopped';
    }
    return this.end(r, c, d, e, base, t0, emit);
  }

  /** Quantized training with the QAFT settings on the data budget, from the FP model, GPTQ's model, or a fresh init. */
  async quantTrain({ c, emit, control }: MethodContext, method: Method, init: QuantInit): Promise<RunRecord> {
    const { t0, fp, base, d, r, q, budget } = await this.begin(method, c, emit, true);
    let model: Gpt | null;
    if (init !== 'scratch') await this.smooth(r, c, fp, q, budget);
    else if (scratchSmoothNote(c)) r.notes?.push(scratchSmoothNote(c)!);
    if (init === 'gptq') {
      await this.calibrateStart(r, c, d, base, q, "the FP model with RTN weights (GPTQ's calibration passes)");
      model = await this.gptqModel(r, c, fp, base, q, budget, emit, control);
      if (model) r.notes?.push(`Started from GPTQ's weights (calibrated on the same ${budget.windows} sequences it trains on).`);
    } else if (init === 'scratch') {
      model = initGpt(fp.model.config, c.lmQaft.seed + SCRATCH_SEED_OFFSET);
      r.notes?.push(`A fresh ${(gptParamCount(model) / 1e6).toFixed(2)}M-parameter model of the FP model's shape, trained quantized from its random init.`);
    } else model = cloneGpt(base);
    if (!model) {
      r.status = 'stopped';
      return this.end(r, c, d, null, base, t0, emit);
    }
    // k-means: the levels are fitted to the copy once, at the start, and kept through training.
    if (hasKmeans(q)) await refreshGptCodebooks(model, q);
    await this.calibrateStart(r, c, d, model, q, 'the starting model (kept fixed during training)');
    const o = await this.train(r, c, model, budget.ids, d, c.lmQaft, q, emit, control);
    if (o.diverged) disposeGpt(model);
    return this.end(r, c, d, o.diverged ? null : { model, quant: q }, base, t0, emit);
  }

  async qaLora({ c, emit, control }: MethodContext): Promise<RunRecord> {
    const { t0, base, d, r, q, budget } = await this.begin('qalora', c, emit, true);
    const res = await trainQaLora(
      base,
      q,
      budget.ids,
      d.val,
      { ...trainOptions(c.lmQaft, c.logEvery), rank: c.lm.loraRank, alpha: c.lm.loraAlpha },
      (p) => this.point(r, p, emit),
      control,
    );
    this.outcome(r, res);
    r.extra?.push({ label: 'NLL before merging (quantized base + FP adapters)', value: res.unmergedNll });
    r.extra?.push({ label: 'adapter parameters', value: res.adapterParams });
    if (res.diverged) disposeGpt(res.merged);
    return this.end(r, c, d, res.diverged ? null : { model: res.merged, quant: q }, base, t0, emit);
  }

  /**
   * LSQ (weights and per-channel step sizes train) or scale-only (RTN's codes frozen, only the
   * step sizes train) from the FP model, with the QAFT settings on the data budget. The model
   * evaluated and kept holds the quantized weights themselves (activation quantizers only).
   */
  async learnedScales({ c, emit, control }: MethodContext, method: 'lsq' | 'scaleonly'): Promise<RunRecord> {
    const { t0, fp, d, r, q, budget } = await this.begin(method, c, emit, true);
    await this.calibrateStart(r, c, d, fp.model, q, 'the FP model with RTN weights (kept fixed during training)');
    const res = await trainLearnedScales(fp.model, q, method, budget.ids, d.val, trainOptions(c.lmQaft, c.logEvery), (p) => this.point(r, p, emit), control);
    this.outcome(r, res);
    r.extra?.push({ label: 'trained step sizes', value: res.scales });
    r.extra?.push({ label: 'mean step-size change |s/s0 − 1|', value: res.scaleChange });
    r.notes?.push(
      method === 'lsq'
        ? `Every weight and one step size per ${c.quant.granularity === 'row' ? 'output channel' : 'tensor'} of the ${res.matrices} quantized matrices trained together (step sizes start at 2·mean|W|/√Qp).`
        : `RTN's integer codes of the ${res.matrices} quantized matrices stayed frozen; only their step sizes trained (from RTN's), every other weight kept its FP value.`,
    );
    if (res.model?.head && !fp.model.head)
      r.notes?.push('The tied embedding is quantized differently as input and as output head: the head keeps its own copy.');
    return this.end(r, c, d, res.model ? { model: res.model, quant: res.quant } : null, fp.model, t0, emit);
  }

  async dataFree({ c, emit, control }: MethodContext): Promise<RunRecord> {
    const { t0, base, d, r, q } = await this.begin('datafree', c, emit, true);
    const evaluate = (m: Gpt, quant?: GptQuant) => evaluateLm(m, d.val, quant);
    const res = await trainDataFree(
      base,
      q,
      evaluate,
      {
        ...trainOptions(c.lmQaft, c.logEvery),
        sequences: c.lm.dfSequences,
        temperature: c.lm.dfTemperature,
        loss: c.lm.dfLoss,
        onGenerate: (done, total) =>
          emit({ type: 'stage', runId: r.id, done, total, label: `The FP model writes its training text: ${done} of ${total} sequences` }),
      },
      (p) => this.point(r, p, emit),
      control,
    );
    this.outcome(r, res);
    r.examples = 0;
    r.extra?.push({ label: 'generated tokens (the only training data)', value: res.text.length });
    r.notes?.push(
      `Trained only on ${res.sequences} sequences of ${res.seqLength} tokens that the FP model wrote from an empty prompt (temperature ${c.lm.dfTemperature}, ${(res.genMs / 1000).toFixed(1)} s); no corpus text. First one: ${JSON.stringify(d.tok.decode(res.text.subarray(0, Math.min(res.seqLength, 120))))}`,
    );
    if (res.diverged) disposeGpt(res.student);
    return this.end(r, c, d, res.diverged ? null : { model: res.student, quant: q }, base, t0, emit);
  }

  async tiled({ c, emit, control }: MethodContext): Promise<RunRecord> {
    const { t0, base, d, r, q, budget } = await this.begin('tiled', c, emit, true);
    const res = await trainTiled(
      base,
      q,
      budget.ids,
      d.val,
      { ...trainOptions(c.lmQaft, c.logEvery), tileK: c.lm.tileK, tileSteps: c.lm.tileSteps, globalSteps: c.lm.tileGlobal },
      (p) => this.point(r, p, emit),
      control,
    );
    this.outcome(r, res);
    const figures = tileFigures(
      res.tiles.map((t) => ({ ...t, range: t.blocks })),
      'blocks',
    );
    r.extra?.push(...figures.extra);
    r.notes?.push(...figures.notes);
    if (res.diverged) disposeGpt(res.student);
    return this.end(r, c, d, res.diverged ? null : { model: res.student, quant: q }, base, t0, emit);
  }
}

/** Storage of the LM's weights in bits: each quantized matrix's codes + scales, FP32 elsewhere (an untied head counted on its own). */
export function lmStorageBits(c: ExperimentConfig, m: Gpt, quantized: boolean, rotate?: GptQuant['rotate']): number {
  let bits = 0;
  const matrix = (shape: [number, number], component: 'embed' | 'attn' | 'mlp' | 'head' | null, rot?: Rotation) => {
    const q = quantized && component ? lmComponentQuant(c, component) : null;
    // An online-rotated matrix stores its rotated weight (n × out: inputs padded to a power of two).
    return q ? storageBits(asZooSpec(q), quantizedShape(shape, rot)).totalBits : 32 * shape[0] * shape[1];
  };
  const [d, V] = m.wte.shape as [number, number];
  if (m.head) {
    // Untied (a checkpoint's own head, or LSQ's head quantized unlike the embedding): two matrices.
    bits += matrix([d, V], 'embed') + matrix(m.head.shape as [number, number], 'head');
  } else {
    // The tied embedding is stored once, at the precision of the finer of its two uses.
    const tied = quantized ? Math.max(c.lm.embedBits, c.lm.headBits) : 32;
    bits += tied >= 16 ? 32 * d * V : matrix([d, V], c.lm.embedBits >= c.lm.headBits ? 'embed' : 'head');
  }
  bits += 32 * m.wpe.size;
  for (const l of gptLinears(m)) bits += matrix(l.w.shape as [number, number], l.component, rotate?.[l.role]) + 32 * l.b.size;
  return bits;
}
