/**
 * Guided tours: step-by-step stories that set the lab, show results and point at what to look
 * at. A tour is data: its experiments (share-link settings and the plan to run), and its steps
 * (the settings a step applies, which runs and view the page shows, the element to highlight,
 * and a short text whose numbers are read from the results, never typed in).
 *
 * `npm run tours` (scripts/make-tours.ts) runs every experiment with the real engine in Node and
 * writes public/tours/<id>.json (a TourFile); the page plays a tour from that file, so a tour
 * works on any backend without training, and each step offers to run its experiment live.
 * Each tour's claims are checked on the shipped file (test/tours.test.ts) and when it is made.
 */
import { formatLr } from './core/config';
import type { Method } from './core/methods';
import type { Plan } from './core/plans';
import type { RunRecord } from './core/runs';
import { paretoFront } from './core/stats';
import type { LandscapeResult } from './poly/views';
import { PTQ_NARROW } from './presets';

export const TOUR_FORMAT_VERSION = 1;

/** The views a step can open (a subset of the page's view tabs). */
export type TourView = 'sweep' | 'pareto' | 'local-global' | 'landscape';

/** One experiment of a tour: share-link settings (without `run`), the plan and, for 'methods', the methods. */
export interface TourExperiment {
  id: string;
  params: string;
  plan: Plan;
  methods: Method[];
  /** Bit-widths at which the loss landscape (lines FP→RTN/GPTQ/QAFT/GPTQ→QAFT, RTN→QAFT, radial sweeps) is precomputed. */
  landscapeBits?: number[];
  /** Keep the model outputs on the first test examples (the polynomial plots); dropped otherwise to keep the file small. */
  predictions?: boolean;
}

export interface TourStep {
  title: string;
  /** The experiment whose settings the step applies, and that "Run it yourself" runs. */
  exp: string;
  /** The runs the page shows: those of these experiments, only these methods and (FP aside) bit-widths when given. */
  show: { exps: string[]; methods?: Method[]; bits?: number[] };
  /** The view tab to open, at this bit-width. */
  view?: TourView;
  viewBits?: number;
  /** CSS selector of the element to look at (highlighted and scrolled into view). */
  highlight: string;
  /** 2–4 sentences, numbers read from the results. */
  text(r: TourResults): string;
}

export interface TourClaim {
  what: string;
  holds: boolean;
}

export interface Tour {
  id: string;
  title: string;
  summary: string;
  experiments: TourExperiment[];
  steps: TourStep[];
  /** What the story needs the data to show; `npm run tours` refuses to write a file where one fails, and a test checks the shipped file. */
  claims(r: TourResults): TourClaim[];
}

/** The precomputed loss landscape of an experiment at one bit-width (raw probe results; run ids are the file's). */
export interface TourLandscape {
  bits: number;
  result: LandscapeResult;
}

export interface TourExperimentResult {
  id: string;
  params: string;
  plan: Plan;
  methods: Method[];
  runs: RunRecord[];
  landscapes: TourLandscape[];
}

/** public/tours/<id>.json */
export interface TourFile {
  version: number;
  tour: string;
  title: string;
  generatedAt: string;
  /** The git commit it was made at, with "+changes" when the engine (src/engine, src/cli) or the script had uncommitted changes. */
  commit: string;
  backend: string;
  /** Wall time of making the file, seconds. */
  wallSeconds: number;
  experiments: TourExperimentResult[];
}

// ---------------------------------------------------------------- reading results

/** Numbers as the lab's tables print them: 3 significant digits, exponent notation below 1e-2. */
export function sci(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) < 1e-2 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3);
}

/** A ratio a/b as "12×" or "2.4×". */
export function times(a: number, b: number): string {
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
}

/** Percent (a − b)/b, whole percents. */
export function pctBelow(a: number, b: number): string {
  return `${Math.round((100 * (b - a)) / b)} %`;
}

const geoMean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

export interface RunQuery {
  method: Method;
  bits?: number;
  lr?: number;
}

/** Lookups into a tour file for the steps' texts and the claims; a missing run throws, naming it. */
export class TourResults {
  constructor(readonly file: TourFile) {}

  experiment(id: string): TourExperimentResult {
    const e = this.file.experiments.find((x) => x.id === id);
    if (!e) throw new Error(`tour "${this.file.tour}": no experiment "${id}" in the file`);
    return e;
  }

  find(exp: string, q: RunQuery): RunRecord | undefined {
    return this.experiment(exp).runs.find((r) => r.method === q.method && (q.bits === undefined || r.bits === q.bits) && (q.lr === undefined || r.lr === q.lr));
  }

  run(exp: string, q: RunQuery): RunRecord {
    const r = this.find(exp, q);
    if (!r) throw new Error(`tour "${this.file.tour}": no ${q.method} run${q.bits === undefined ? '' : ` at ${q.bits} bits`} in experiment "${exp}"`);
    return r;
  }

  /** The final test loss of a run (NaN when it has none). */
  loss(exp: string, q: RunQuery): number {
    return this.run(exp, q).loss ?? NaN;
  }

  /** Geometric mean over layers of a run's local error. */
  localError(exp: string, q: RunQuery): number {
    const e = this.run(exp, q).layerErrors;
    if (!e || e.length === 0) throw new Error(`tour "${this.file.tour}": the ${q.method} run of "${exp}" has no local errors`);
    return geoMean(e);
  }

  /** Storage in bits per weight (codes and scales; biases are counted in the run's storage but not here). */
  storageKib(exp: string, q: RunQuery): number {
    return (this.run(exp, q).storageBits ?? NaN) / 8 / 1024;
  }

  /** Among QAFT runs of a sweep at `bits`, the one with the lowest final loss. */
  bestLr(exp: string, bits: number): { lr: number; loss: number } {
    const qaft = this.experiment(exp).runs.filter((r) => r.method === 'qaft' && r.bits === bits && r.status === 'done' && r.loss !== null);
    if (!qaft.length) throw new Error(`tour "${this.file.tour}": no QAFT run at ${bits} bits in "${exp}"`);
    const best = qaft.reduce((a, b) => ((b.loss as number) < (a.loss as number) ? b : a));
    return { lr: best.lr as number, loss: best.loss as number };
  }

  /** The Pareto front (storage vs final loss) of an experiment's finished runs of these methods, smallest first. */
  front(exp: string, methods: Method[]): RunRecord[] {
    const pts = this.experiment(exp)
      .runs.filter((x) => methods.includes(x.method) && x.status === 'done' && x.loss !== null && x.storageBits !== undefined)
      .map((x) => ({ x: x.storageBits as number, y: x.loss as number, run: x }));
    return paretoFront(pts).map((p) => p.run);
  }

  landscape(exp: string, bits: number): LandscapeResult {
    const l = this.experiment(exp).landscapes.find((x) => x.bits === bits);
    if (!l) throw new Error(`tour "${this.file.tour}": no landscape at ${bits} bits in "${exp}"`);
    return l.result;
  }

  /** The test loss at the end of the line from FP to `method`'s run (t = 1), and the lowest loss on that line. */
  lineFromFp(exp: string, method: Method, bits: number): { end: number; min: number; length: number } {
    const id = this.run(exp, { method, bits }).id;
    const line = this.landscape(exp, bits).lines.find((l) => l.from === 'fp' && l.to === id);
    if (!line) throw new Error(`tour "${this.file.tour}": no landscape line FP → ${method} at ${bits} bits`);
    const end = line.points.find((p) => p.t === 1) ?? line.points[line.points.length - 1];
    return { end: end.loss, min: Math.min(...line.points.map((p) => p.loss)), length: end.distance / end.t };
  }
}

// ---------------------------------------------------------------- the tours

/** CSS selectors of what the steps point at (test ids the page's components set). */
export const LOOK = {
  legend: (method: Method) => `[data-testid="legend-run"][data-method="${method}"]`,
  lossChart: '[data-testid="loss-chart"]',
  resultCell: (method: Method, bits: number, column: number) =>
    `[data-testid="result-row"][data-method="${method}"][data-bits="${bits}"] td:nth-child(${column})`,
  resultsTable: '[data-testid="results-table"]',
  sweepTable: '[data-testid="view-sweep"] .table-wrap',
  verdict: '[data-testid="lg-verdict"]',
  localChart: '[data-testid="lg-local"]',
  landscape: '[data-testid="view-landscape"] .two-charts',
  pareto: '[data-testid="view-pareto"] .recharts-responsive-container',
  paretoFront: '[data-testid="pareto-front"]',
} as const;

/** Results-table columns (1-based, for `td:nth-child`): test MSE and ratio to FP. */
const COL_MSE = 5;
const COL_RATIO = 6;

/** Tour 1: a 64 × 3 MLP (about a minute of FP training on wasm), 1.58-bit ternary weights. */
const WHY_BASE = 'v=1&width=64&depth=3&ntrain=8192&ntest=512&fp_lr=3e-3&fp_steps=3000&steps=600';
const WHY_LR = 1e-2;

const WHY: Tour = {
  id: 'why-qaft',
  title: 'Why fine-tune after quantizing?',
  summary:
    'A polynomial-fitting MLP in full precision, rounded to 1.58-bit ternary weights (RTN), then fine-tuned quantized (QAFT) or trained quantized from scratch; and which learning rate each bit-width wants.',
  experiments: [
    { id: 'compare', params: `${WHY_BASE}&bits=1.58&lr=${formatLr(WHY_LR)}`, plan: 'methods', methods: ['fp', 'rtn', 'qaft', 'scratch'], predictions: true },
    { id: 'sweep', params: `${WHY_BASE}&sweep_bits=1.58,4&sweep_lr=1e-4,1e-3,1e-2`, plan: 'sweep', methods: ['rtn', 'qaft'] },
  ],
  steps: [
    {
      title: 'The full-precision model',
      exp: 'compare',
      show: { exps: ['compare'], methods: ['fp'] },
      highlight: LOOK.legend('fp'),
      text: (r) => {
        const fp = r.run('compare', { method: 'fp' });
        return (
          `The MLP (14 → 64 × 3 → 200) reads 7 random points and outputs their least-squares degree-4 polynomial, sampled at 100 points. ` +
          `Trained ${fp.steps} steps in full precision (FP32), it reaches a test MSE of ${sci(fp.loss as number)}. ` +
          `This curve is the reference: everything that follows starts from these weights or is compared with them.`
        );
      },
    },
    {
      title: 'Round to 1.58 bits: RTN',
      exp: 'compare',
      show: { exps: ['compare'], methods: ['fp', 'rtn'] },
      highlight: LOOK.resultCell('rtn', 1.58, COL_RATIO),
      text: (r) => {
        const fp = r.loss('compare', { method: 'fp' });
        const rtn = r.loss('compare', { method: 'rtn', bits: 1.58 });
        return (
          `Round-to-nearest (RTN) replaces every weight by one of three levels {−γ, 0, +γ}, with γ the layer's mean |W|, and stops there. ` +
          `The test MSE jumps from ${sci(fp)} to ${sci(rtn)}, ${times(rtn, fp)} the FP model's (the dotted line in the loss curves). ` +
          `The weights were trained for full precision; nothing told them they would be rounded.`
        );
      },
    },
    {
      title: 'Keep training the quantized model: QAFT',
      exp: 'compare',
      show: { exps: ['compare'], methods: ['fp', 'rtn', 'qaft'] },
      highlight: LOOK.legend('qaft'),
      text: (r) => {
        const fp = r.loss('compare', { method: 'fp' });
        const rtn = r.loss('compare', { method: 'rtn', bits: 1.58 });
        const q = r.run('compare', { method: 'qaft', bits: 1.58 });
        const qaft = q.loss as number;
        return (
          `QAFT starts from the FP weights and keeps training with the ternary forward pass; the straight-through estimator passes each gradient ` +
          `to the full-precision weight behind it. After ${q.steps} steps (lr ${formatLr(q.lr as number)}) the test MSE is ${sci(qaft)}: ` +
          `it recovers ${Math.round((100 * (rtn - qaft)) / (rtn - fp))} % of the gap between RTN (${sci(rtn)}) and FP (${sci(fp)}).`
        );
      },
    },
    {
      title: 'The same budget from scratch',
      exp: 'compare',
      show: { exps: ['compare'] },
      highlight: LOOK.legend('scratch'),
      text: (r) => {
        const qaft = r.loss('compare', { method: 'qaft', bits: 1.58 });
        const s = r.run('compare', { method: 'scratch', bits: 1.58 });
        return (
          `Scratch trains the same ternary network from a fresh random initialization with the same ${s.steps} steps and learning rate. ` +
          `It ends at ${sci(s.loss as number)}, ${times(s.loss as number, qaft)} QAFT's ${sci(qaft)}. ` +
          `With equal steps, the FP weights are the better start: what the full-precision training learned carries over to the quantized model.`
        );
      },
    },
    {
      title: 'Learning rate vs bits',
      exp: 'sweep',
      show: { exps: ['sweep'] },
      view: 'sweep',
      highlight: LOOK.sweepTable,
      text: (r) => {
        const t = r.bestLr('sweep', 1.58);
        const f = r.bestLr('sweep', 4);
        return (
          `QAFT at each learning rate, at 1.58 and 4 bits (${r.experiment('sweep').runs.find((x) => x.method === 'qaft')?.steps} steps each). ` +
          `The best learning rate (highlighted) is ${formatLr(t.lr)} at 1.58 bits (test MSE ${sci(t.loss)}) and ${formatLr(f.lr)} at 4 bits (${sci(f.loss)}). ` +
          `Coarser levels lie farther apart, so a weight must travel further before its rounded value changes: very low bit-widths prefer higher learning rates.`
        );
      },
    },
  ],
  claims: (r) => {
    const fp = r.loss('compare', { method: 'fp' });
    const rtn = r.loss('compare', { method: 'rtn', bits: 1.58 });
    const qaft = r.loss('compare', { method: 'qaft', bits: 1.58 });
    const scratch = r.loss('compare', { method: 'scratch', bits: 1.58 });
    return [
      { what: 'RTN at 1.58 bits is at least 5× FP', holds: rtn >= 5 * fp },
      { what: 'QAFT at 1.58 bits is at least 3× below RTN', holds: 3 * qaft <= rtn },
      { what: 'QAFT recovers at least half of the RTN−FP gap', holds: rtn - qaft >= 0.5 * (rtn - fp) },
      { what: 'scratch ends above QAFT', holds: scratch > qaft },
      { what: 'the best learning rate at 1.58 bits is above that at 4 bits', holds: r.bestLr('sweep', 1.58).lr > r.bestLr('sweep', 4).lr },
    ];
  },
};

const PTQ: Tour = {
  id: 'ptq-vs-qaft',
  title: 'PTQ vs QAFT: GPTQ wins locally, QAFT globally',
  summary: 'A narrow MLP trained to convergence, quantized to int2 with 128 examples by RTN, GPTQ and QAFT: per-layer error, test loss and the loss landscape.',
  experiments: [{ id: 'narrow', params: PTQ_NARROW, plan: 'ptq', methods: ['rtn', 'gptq', 'qaft', 'gptq-qaft'], landscapeBits: [2], predictions: true }],
  steps: [
    {
      title: 'One data budget, three methods',
      exp: 'narrow',
      show: { exps: ['narrow'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      highlight: LOOK.resultCell('gptq', 2, COL_MSE),
      text: (r) => {
        const fp = r.loss('narrow', { method: 'fp' });
        const [rtn, gptq] = [r.loss('narrow', { method: 'rtn', bits: 2 }), r.loss('narrow', { method: 'gptq', bits: 2 })];
        return (
          `A narrow MLP (14 → 32 × 3 → 200) trained 6000 steps to a test MSE of ${sci(fp)}. Post-training quantization (PTQ) to int2 per output row: ` +
          `RTN gives ${sci(rtn)}; GPTQ, which rounds one input column at a time and updates the columns not yet rounded to compensate (calibrated on 128 examples), gives ${sci(gptq)}. ` +
          `QAFT trains on the same 128 examples; the next steps compare where each method is good.`
        );
      },
    },
    {
      title: 'GPTQ wins locally',
      exp: 'narrow',
      show: { exps: ['narrow'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'local-global',
      viewBits: 2,
      highlight: LOOK.localChart,
      text: (r) => {
        const [rtn, gptq, qaft] = (['rtn', 'gptq', 'qaft'] as const).map((m) => r.localError('narrow', { method: m, bits: 2 }));
        return (
          `The local error of a layer is ‖x·(Wq − W)‖², averaged over inputs x on the model's own quantized path: how far each quantized layer's output is from the FP layer's. ` +
          `GPTQ minimizes exactly this, layer by layer: its geometric mean over layers is ${times(rtn, gptq)} below RTN's ` +
          `and ${times(qaft, gptq)} below QAFT's, whose weights drifted from the FP ones while training.`
        );
      },
    },
    {
      title: 'QAFT wins globally',
      exp: 'narrow',
      show: { exps: ['narrow'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'local-global',
      viewBits: 2,
      highlight: LOOK.verdict,
      text: (r) => {
        const [gptq, qaft] = [r.loss('narrow', { method: 'gptq', bits: 2 }), r.loss('narrow', { method: 'qaft', bits: 2 })];
        return (
          `What counts is the test loss of the whole network, and there QAFT ends at ${sci(qaft)} against GPTQ's ${sci(gptq)} (${times(gptq, qaft)} lower). ` +
          `GPTQ fits each layer's output on its own; QAFT optimizes the end-to-end loss directly, ` +
          `so it can accept a larger local error for a lower global one.`
        );
      },
    },
    {
      title: 'The loss landscape',
      exp: 'narrow',
      show: { exps: ['narrow'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'landscape',
      viewBits: 2,
      highlight: LOOK.landscape,
      text: (r) => {
        const [g, q] = [r.lineFromFp('narrow', 'gptq', 2), r.lineFromFp('narrow', 'qaft', 2)];
        const fp = r.loss('narrow', { method: 'fp' });
        return (
          `Left: the test loss on straight lines from the FP weights (t = 0) to each int2 model (t = 1), every point evaluated in full precision. ` +
          `GPTQ's weights lie ${sci(g.length)} from FP (L2 distance) and the loss at them is ${sci(g.end)}, ${times(g.end, fp)} FP's; ` +
          `QAFT's lie ${q.length < g.length ? 'closer' : 'farther'}, ${sci(q.length)} away, at ${sci(q.end)}. ` +
          `Right: the loss along random directions from FP, out to 1.5× the farthest model, for scale.`
        );
      },
    },
    {
      title: 'Starting QAFT from GPTQ',
      exp: 'narrow',
      show: { exps: ['narrow'], methods: ['fp', 'gptq', 'qaft', 'gptq-qaft'] },
      highlight: LOOK.resultCell('gptq-qaft', 2, COL_MSE),
      text: (r) => {
        const [gptq, qaft, gq] = (['gptq', 'qaft', 'gptq-qaft'] as const).map((m) => r.loss('narrow', { method: m, bits: 2 }));
        return (
          `Why not both? GPTQ→QAFT starts QAFT from GPTQ's weights with the same budget. At int2 it ends at ${sci(gq)}, ` +
          `${gq > gptq ? 'above GPTQ’s own' : 'below GPTQ’s'} ${sci(gptq)} and ${times(gq, qaft)} QAFT's ${sci(qaft)}: GPTQ's weights sit on the grid, ` +
          `so a straight-through step changes a code only after the latent weight has travelled half a step.`
        );
      },
    },
  ],
  claims: (r) => {
    const l = (m: Method) => r.loss('narrow', { method: m, bits: 2 });
    const e = (m: Method) => r.localError('narrow', { method: m, bits: 2 });
    return [
      { what: 'GPTQ has the lowest local error at int2 (below RTN and QAFT)', holds: e('gptq') < e('rtn') && e('gptq') < e('qaft') },
      { what: 'QAFT has a lower test MSE than GPTQ at int2', holds: l('qaft') < l('gptq') },
      { what: 'GPTQ is below RTN at int2', holds: l('gptq') < l('rtn') },
      { what: 'the FP→GPTQ line ends higher than the FP→QAFT line', holds: r.lineFromFp('narrow', 'gptq', 2).end > r.lineFromFp('narrow', 'qaft', 2).end },
      { what: 'GPTQ→QAFT ends above QAFT at int2', holds: l('gptq-qaft') > l('qaft') },
    ];
  },
};

/** Share-link parameters with some keys set (replaced where present, added at the end otherwise). */
export function withParams(params: string, set: Record<string, string>): string {
  const parts = params.split('&').filter((p) => !(p.split('=')[0] in set));
  return [...parts, ...Object.entries(set).map(([k, v]) => `${k}=${v}`)].join('&');
}

const FORMAT_BASE = withParams(PTQ_NARROW, { bits: '4', sweep_bits: '4' });

const FORMATS: Tour = {
  id: 'formats-bits',
  title: 'Formats and bits: what a bit buys',
  summary:
    'Error against weight storage on the narrow MLP: int8 down to int2 with RTN, GPTQ and QAFT, and the 4-bit formats MXFP4 and NVFP4, with the Pareto front.',
  experiments: [
    { id: 'ints', params: withParams(PTQ_NARROW, { sweep_bits: '8,4,3,2' }), plan: 'ptq', methods: ['rtn', 'gptq', 'qaft', 'gptq-qaft'] },
    { id: 'mxfp4', params: withParams(FORMAT_BASE, { scheme: 'mxfp4' }), plan: 'ptq', methods: ['rtn', 'gptq', 'qaft', 'gptq-qaft'] },
    { id: 'nvfp4', params: withParams(FORMAT_BASE, { scheme: 'nvfp4' }), plan: 'ptq', methods: ['rtn', 'gptq', 'qaft', 'gptq-qaft'] },
  ],
  steps: [
    {
      title: 'Error against size',
      exp: 'ints',
      show: { exps: ['ints'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'pareto',
      highlight: LOOK.pareto,
      text: (r) => {
        const fp = r.run('ints', { method: 'fp' });
        const kib = (b: number) => r.storageKib('ints', { method: 'rtn', bits: b });
        return (
          `Each point is a model of the narrow MLP: its test MSE against the storage of its weights (codes, a 16-bit scale per output row, FP32 biases). ` +
          `FP32 takes ${sci((fp.storageBits as number) / 8 / 1024)} KiB at test MSE ${sci(fp.loss as number)}; ` +
          `int8 takes ${sci(kib(8))} KiB, int4 ${sci(kib(4))} and int2 ${sci(kib(2))}. RTN, GPTQ and QAFT (128 examples each) at 8, 4, 3 and 2 bits.`
        );
      },
    },
    {
      title: 'What a bit buys',
      exp: 'ints',
      show: { exps: ['ints'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'pareto',
      highlight: LOOK.pareto,
      text: (r) => {
        const best = (b: number) => Math.min(...(['rtn', 'gptq', 'qaft'] as const).map((m) => r.loss('ints', { method: m, bits: b })));
        const kib = (b: number) => r.storageKib('ints', { method: 'rtn', bits: b });
        const fp = r.loss('ints', { method: 'fp' });
        return (
          `The best model at each width: int8 ${sci(best(8))} (FP ${sci(fp)}), int4 ${sci(best(4))}, int3 ${sci(best(3))}, int2 ${sci(best(2))}. ` +
          `Going from 8 to 4 bits saves ${sci(kib(8) - kib(4))} KiB and costs ${times(best(4), best(8))} in error; from 3 to 2 bits saves only ${sci(kib(3) - kib(2))} KiB ` +
          `and costs ${times(best(2), best(3))}. The last bits are the expensive ones.`
        );
      },
    },
    {
      title: 'The Pareto front',
      exp: 'ints',
      show: { exps: ['ints'], methods: ['fp', 'rtn', 'gptq', 'qaft'] },
      view: 'pareto',
      highlight: LOOK.paretoFront,
      text: (r) => {
        const rtn8 = r.loss('ints', { method: 'rtn', bits: 8 });
        const fp = r.loss('ints', { method: 'fp' });
        const kib = (b: number) => r.storageKib('ints', { method: 'rtn', bits: b });
        const kibFp = r.storageKib('ints', { method: 'fp' });
        const front = r.front('ints', ['fp', 'rtn', 'gptq', 'qaft']);
        return (
          `The black line joins the runs that no other run beats on both size and error: here ${front.map((x) => x.name).join(' → ')}. ` +
          `At 8 bits even RTN is within ${Math.round((100 * Math.abs(rtn8 - fp)) / fp)} % of FP, with ${Math.round((100 * kib(8)) / kibFp)} % of its storage.`
        );
      },
    },
    {
      title: 'Formats at 4 bits: MXFP4, NVFP4, int4',
      exp: 'nvfp4',
      show: { exps: ['ints', 'mxfp4', 'nvfp4'], methods: ['fp', 'rtn', 'gptq', 'qaft'], bits: [4] },
      view: 'pareto',
      highlight: LOOK.resultsTable,
      text: (r) => {
        const l = (exp: string, m: Method) => r.loss(exp, { method: m, bits: 4 });
        const kib = (exp: string) => sci(r.storageKib(exp, { method: 'rtn', bits: 4 }));
        const names: Record<string, string> = { mxfp4: 'MXFP4', nvfp4: 'NVFP4', ints: 'int4' };
        const exps = ['mxfp4', 'nvfp4', 'ints'];
        const lowest = (m: Method) => names[exps.reduce((a, b) => (l(b, m) < l(a, m) ? b : a))];
        const g = exps.map((e) => l(e, 'gptq'));
        return (
          `Shipped 4-bit formats put FP4 (E2M1) elements in blocks: MXFP4 with a power-of-two scale per 32 inputs (${kib('mxfp4')} KiB here), ` +
          `NVFP4 with an FP8 scale per 16 and an FP32 scale per tensor (${kib('nvfp4')} KiB); int4 has a 16-bit scale per output row (${kib('ints')} KiB). ` +
          `RTN gives ${sci(l('mxfp4', 'rtn'))}, ${sci(l('nvfp4', 'rtn'))} and ${sci(l('ints', 'rtn'))} (lowest: ${lowest('rtn')}; NVFP4's finer block scale beats MXFP4's), ` +
          `QAFT ${sci(l('mxfp4', 'qaft'))}, ${sci(l('nvfp4', 'qaft'))} and ${sci(l('ints', 'qaft'))}. ` +
          `GPTQ brings all three to within ${Math.round(100 * (Math.max(...g) / Math.min(...g) - 1))} % of each other (${g.map(sci).join(', ')}): the format matters most without calibration.`
        );
      },
    },
  ],
  claims: (r) => {
    const kib = (b: number) => r.storageKib('ints', { method: 'rtn', bits: b });
    const best = (b: number) => Math.min(...(['rtn', 'gptq', 'qaft'] as const).map((m) => r.loss('ints', { method: m, bits: b })));
    return [
      { what: 'storage falls with the bits (8 > 4 > 3 > 2)', holds: kib(8) > kib(4) && kib(4) > kib(3) && kib(3) > kib(2) },
      { what: 'the best error rises as bits fall (8 < 4 < 3 < 2)', holds: best(8) < best(4) && best(4) < best(3) && best(3) < best(2) },
      { what: 'the step from 3 to 2 bits costs more than from 8 to 4', holds: best(2) / best(3) > best(4) / best(8) },
      {
        what: 'NVFP4 takes more storage than MXFP4',
        holds: r.storageKib('nvfp4', { method: 'rtn', bits: 4 }) > r.storageKib('mxfp4', { method: 'rtn', bits: 4 }),
      },
      { what: 'NVFP4 RTN is below MXFP4 RTN', holds: r.loss('nvfp4', { method: 'rtn', bits: 4 }) < r.loss('mxfp4', { method: 'rtn', bits: 4 }) },
      {
        what: 'GPTQ is below RTN for MXFP4 and NVFP4',
        holds: (['mxfp4', 'nvfp4'] as const).every((x) => r.loss(x, { method: 'gptq', bits: 4 }) < r.loss(x, { method: 'rtn', bits: 4 })),
      },
    ];
  },
};

export const TOURS: readonly Tour[] = [WHY, PTQ, FORMATS];

export function tourById(id: string): Tour | undefined {
  return TOURS.find((t) => t.id === id);
}

/** The share-link parameters of a tour step (1-based), added to its settings. */
export function tourStepParams(tour: string, step: number): Record<string, string> {
  return { tour, step: String(step) };
}

/** Whether a value read from a file is a tour file of this version for `id` (shape only; each run is checked where it is used). */
export function isTourFile(v: unknown, id: string): v is TourFile {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return (
    f.version === TOUR_FORMAT_VERSION &&
    f.tour === id &&
    Array.isArray(f.experiments) &&
    f.experiments.every((e: unknown) => typeof e === 'object' && e !== null && Array.isArray((e as TourExperimentResult).runs))
  );
}
