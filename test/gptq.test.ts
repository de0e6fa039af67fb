/**
 * GPTQ (src/engine/gptq): the refvectors.py case (numpy fixture, exact inputs), the loss
 * identity, lazy-batch invariance, dead inputs, act-order, groups, RTN fallback on a failed
 * Cholesky, the Float64 helpers, and the sequential MLP driver on a trained tiny MLP.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDataset } from '../src/engine/poly/data';
import { choleskyLower, erf, erfc, gptqLayer, hessian, HessianAccumulator, hinvUpper, proxyError, type GptqOptions } from '../src/engine/core/gptq';
import { gptqMlp, hostForward } from '../src/engine/poly/gptq';
import { disposeMlp, forward, initMlp, snapshotMlp } from '../src/engine/poly/model';
import { quantizeWeights, type QuantizerSpec } from '../src/engine/core/quantizers';
import { Rng } from '../src/engine/core/rng';
import { disposeDevice, toDevice, train } from '../src/engine/poly/train';
import { useBackend } from './helpers/backend';
import { expectClose } from './helpers/expect';

/** refvectors.py GPTQ case (numpy default_rng(1)): W [out=4, in=8], H = 2XᵀX/64 (input 7 dead). */
const REF_W = [
  [
    0.345584192064786, 0.8216181435011584, 0.33043707618338714, -1.303157231604361, 0.9053558666731177, 0.4463745723640113, -0.5369532353602852,
    0.5811181041963531,
  ],
  [
    0.36457239618607573, 0.294132496655526, 0.02842224131579679, 0.5467129866124469, -0.7364540870016669, -0.16290994799305278, -0.48211931267997826,
    0.5988462126346276,
  ],
  [
    0.03972210748165899, -0.2924567509650886, -0.7819084623568421, -0.2571922406188707, 0.008142180518343508, -0.2756029052993704, 1.2940638143982073,
    1.0067243153057943,
  ],
  [
    -2.7111624789659685, -1.8890132459676727, -0.17477209205516195, -0.42219041157635356, 0.2136429974986111, 0.21732193102256359, 2.1178387550510482,
    -1.1120207626922813,
  ],
];
const REF_H = [
  [13.730758709595193, -0.19635530042600666, -0.4105681480878815, -0.0709489728913513, 2.331310881674812, 0.09734594277686641, 0.3356022871680399, 0.0],
  [-0.19635530042600666, 2.4864185347769814, 0.1372784585037113, 0.005931473971151097, 0.5954304489365945, -0.2639442216950094, -0.08540524453987469, 0.0],
  [-0.4105681480878815, 0.1372784585037113, 0.4627027974615682, -0.01121601365239113, -0.07501170725324591, -0.004983539627093676, 0.1677805007920912, 0.0],
  [
    -0.0709489728913513, 0.005931473971151097, -0.01121601365239113, 0.013807375115053429, -0.03462330454819497, -0.012003739353714621, 0.020603455260518926,
    0.0,
  ],
  [2.331310881674812, 0.5954304489365945, -0.07501170725324591, -0.03462330454819497, 7.836282377043829, -0.9295593788046823, 0.6358994983559085, 0.0],
  [0.09734594277686641, -0.2639442216950094, -0.004983539627093676, -0.012003739353714621, -0.9295593788046823, 1.1581084554045378, -0.21599225868352293, 0.0],
  [0.3356022871680399, -0.08540524453987469, 0.1677805007920912, 0.020603455260518926, 0.6358994983559085, -0.21599225868352293, 1.8438140922891642, 0.0],
  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
];
const REF_Q_GPTQ = [
  [0.31550187118249695, 0.9465056135474909, 0.31550187118249695, -1.2620074847299878, 0.9465056135474909, 0.6310037423649939, -0.6310037423649939, 0.0],
  [0.3815143713246556, 0.3815143713246556, 0.0, 0.5722715569869834, -0.7630287426493112, -0.1907571856623278, -0.3815143713246556, 0.0],
  [0.0, -0.29656746810786416, -0.8897024043235925, -0.29656746810786416, 0.0, -0.29656746810786416, 1.1862698724314567, 0.0],
  [-2.7594292765811526, -2.0695719574358646, 0.0, -0.6898573191452881, 0.0, 0.0, 2.0695719574358646, 0.0],
];
const REF_Q_GROUP4 = [
  [0.30353933930078847, 0.9106180179023654, 0.30353933930078847, -1.2141573572031539, 0.8241766297333731, 0.41208831486668657, -0.41208831486668657, 0.0],
  [0.3905092761517478, 0.3124074209213982, 0.07810185523034956, 0.5467129866124469, -0.7364540870016669, -0.2104154534290477, -0.5260386335726193, 0.0],
  [0.0, -0.3521273870736433, -0.821630569838501, -0.3521273870736433, 0.0, -0.2242381028139397, 1.345428616883638, 0.0],
  [-2.7111624789659685, -1.9365446278328347, 0.0, -0.38730892556656693, 0.30254839357872115, 0.30254839357872115, 2.1178387550510482, 0.0],
];
const REF_Q_SYM4 = [
  [0.3475085950944962, 0.8687714877362406, 0.3475085950944962, -1.3900343803779849, 0.8687714877362406, 0.3475085950944962, -0.5212628926417443, 0.0],
  [0.3927755130675557, 0.2945816348006668, 0.09819387826688893, 0.5891632696013336, -0.7855510261351114, -0.19638775653377785, -0.4909693913344446, 0.0],
  [0.0, -0.3450836838395219, -0.8627092095988048, -0.3450836838395219, 0.0, -0.3450836838395219, 1.2077928934383269, 0.0],
  [-2.8919066442303665, -1.8074416526439792, -0.3614883305287958, -0.7229766610575916, 0.3614883305287958, 0.3614883305287958, 2.1689299831727746, 0.0],
];
const REF_Q_RTN = [
  [
    0.31550187118249695, 0.9465056135474909, 0.31550187118249695, -1.2620074847299878, 0.9465056135474909, 0.31550187118249695, -0.6310037423649939,
    0.6310037423649939,
  ],
  [0.3815143713246556, 0.3815143713246556, 0.0, 0.5722715569869834, -0.7630287426493112, -0.1907571856623278, -0.5722715569869834, 0.5722715569869834],
  [0.0, -0.29656746810786416, -0.8897024043235925, -0.29656746810786416, 0.0, -0.29656746810786416, 1.1862698724314567, 0.8897024043235925],
  [-2.7594292765811526, -2.0695719574358646, 0.0, -0.6898573191452881, 0.0, 0.0, 2.0695719574358646, -1.3797146382905763],
];
const REF = {
  rtnProxy: 0.7466191911456963,
  gptqLoss: 0.3707498090028264,
  gptqProxy: 0.7292578136580767,
  actLoss: 0.3707498090028263,
  actProxy: 0.7292578136580767,
  groupLoss: 0.11941171192516833,
  groupProxy: 0.23455749903513118,
  sym4Loss: 0.29713507573466463,
  sym4Proxy: 0.5845212146133026,
};

const asym3: QuantizerSpec = { scheme: 'asym', bits: 3, granularity: 'row', clip: 'none' };
const sym4: QuantizerSpec = { scheme: 'sym-narrow', bits: 4, granularity: 'row', clip: 'none' };

/** [out][in] (torch layout) → engine layout [in, out], Float64. */
function engine(W: number[][]): Float64Array {
  const [out, inn] = [W.length, W[0].length];
  const w = new Float64Array(out * inn);
  for (let r = 0; r < out; r++) for (let i = 0; i < inn; i++) w[i * out + r] = W[r][i];
  return w;
}
const REF_H64 = Float64Array.from(REF_H.flat());
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function gaussian(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-12))) * Math.cos(2 * Math.PI * rng.next());
  return out;
}

/** A random layer: W [in, out] (float32 values) and H from n correlated inputs with unequal scales. */
function randomLayer(seed: number, inDim: number, outDim: number, n = 128) {
  const rng = new Rng(seed);
  const w = Float32Array.from(gaussian(rng, inDim * outDim));
  const Z = gaussian(rng, n * inDim);
  const A = gaussian(rng, inDim * inDim);
  const scale = Float64Array.from({ length: inDim }, () => 0.2 + 2 * rng.next());
  const X = new Float64Array(n * inDim);
  for (let t = 0; t < n; t++)
    for (let j = 0; j < inDim; j++) {
      let s = Z[t * inDim + j] * 2;
      for (let k = 0; k < inDim; k++) s += (Z[t * inDim + k] * A[k * inDim + j]) / Math.sqrt(inDim);
      X[t * inDim + j] = s * scale[j];
    }
  return { w, H: hessian(X, n, inDim), X };
}

beforeAll(async () => {
  expect(await useBackend('cpu')).toBe('cpu');
});

describe('refvectors.py GPTQ case (3-bit asym per row, input 7 dead)', () => {
  const w = engine(REF_W);

  it('reproduces the numpy reference: Q, reported loss, proxy errors', () => {
    const r = gptqLayer(w, [8, 4], REF_H64, asym3, { blocksize: 3 });
    expect(r.fallback).toBe(false);
    expectClose(r.q, Array.from(engine(REF_Q_GPTQ)), 1e-6, 'Q');
    expect(rel(r.loss as number, REF.gptqLoss)).toBeLessThan(1e-12);
    expect(rel(proxyError(w, r.q, [8, 4], REF_H64), REF.gptqProxy)).toBeLessThan(1e-6);
    const rtn = quantizeWeights(Float32Array.from(w), [8, 4], asym3).values;
    expectClose(rtn, Array.from(engine(REF_Q_RTN)), 1e-6, 'RTN');
    expect(rel(proxyError(w, rtn, [8, 4], REF_H64), REF.rtnProxy)).toBeLessThan(1e-6);
    expect(proxyError(w, r.q, [8, 4], REF_H64)).toBeLessThan(proxyError(w, rtn, [8, 4], REF_H64));
  });

  it('reported loss = ½·tr(ΔW·H_d·ΔWᵀ) (H damped, dead diagonal 1, W₀ dead-zeroed)', () => {
    const r = gptqLayer(w, [8, 4], REF_H64, asym3, { blocksize: 3 });
    expect(rel(r.loss as number, r.proxyDamped as number)).toBeLessThan(1e-6);
    // Independently: H_d from the definition and ΔW = Q − W₀.
    const Hd = Float64Array.from(REF_H64);
    Hd[7 * 8 + 7] = 1;
    let mean = 0;
    for (let c = 0; c < 8; c++) mean += Hd[c * 9] / 8;
    for (let c = 0; c < 8; c++) Hd[c * 9] += 0.01 * mean;
    const w0 = Float64Array.from(w);
    for (let r2 = 0; r2 < 4; r2++) w0[7 * 4 + r2] = 0;
    expect(rel(proxyError(w0, r.q, [8, 4], Hd) / 2, r.loss as number)).toBeLessThan(1e-6);
    expect(r.deadInputs).toBe(1);
  });

  it('block sizes 3 and 128 give identical results; the dead input column is zero', () => {
    const a = gptqLayer(w, [8, 4], REF_H64, asym3, { blocksize: 3 });
    const b = gptqLayer(w, [8, 4], REF_H64, asym3, { blocksize: 128 });
    expect(Array.from(a.q)).toEqual(Array.from(b.q));
    expect(rel(a.loss as number, b.loss as number)).toBeLessThan(1e-12);
    expect(Array.from(a.q.subarray(7 * 4, 8 * 4))).toEqual([0, 0, 0, 0]);
  });

  it('act-order, groups (gptq.py parity, incl. its in-block quirk) and sym-full 4-bit', () => {
    const act = gptqLayer(w, [8, 4], REF_H64, asym3, { blocksize: 3, actOrder: true });
    expect(rel(act.loss as number, REF.actLoss)).toBeLessThan(1e-12);
    expect(Array.from(act.perm ?? [])).toEqual([0, 4, 1, 6, 5, 7, 2, 3]); // by descending diag H (dead diag set to 1)
    expect(rel(proxyError(w, act.q, [8, 4], REF_H64), REF.actProxy)).toBeLessThan(1e-6);
    const g = gptqLayer(w, [8, 4], REF_H64, { ...asym3, granularity: 'group', groupSize: 4 }, { blocksize: 8 });
    expectClose(g.q, Array.from(engine(REF_Q_GROUP4)), 1e-6, 'group Q');
    expect(rel(g.loss as number, REF.groupLoss)).toBeLessThan(1e-12);
    expect(rel(proxyError(w, g.q, [8, 4], REF_H64), REF.groupProxy)).toBeLessThan(1e-6);
    const s = gptqLayer(w, [8, 4], REF_H64, { scheme: 'sym-full', bits: 4, granularity: 'row', clip: 'none' }, {});
    expectClose(s.q, Array.from(engine(REF_Q_SYM4)), 1e-6, 'sym4 Q');
    expect(rel(s.loss as number, REF.sym4Loss)).toBeLessThan(1e-12);
    expect(rel(proxyError(w, s.q, [8, 4], REF_H64), REF.sym4Proxy)).toBeLessThan(1e-6);
  });
});

describe('GPTQ on random layers', () => {
  const specs: [string, QuantizerSpec, GptqOptions][] = [
    ['3-bit asym per row', asym3, {}],
    ['4-bit sym per row', sym4, {}],
    ['4-bit sym-full per row, mse clip', { ...sym4, scheme: 'sym-full', clip: 'mse' }, {}],
    ['3-bit asym per row, act-order', asym3, { actOrder: true }],
    ['3-bit asym group 8', { ...asym3, granularity: 'group', groupSize: 8 }, {}],
    ['3-bit asym group 8, act-order, static groups', { ...asym3, granularity: 'group', groupSize: 8 }, { actOrder: true, staticGroups: true }],
    ['ternary per row', { scheme: 'ternary', bits: 1.58, granularity: 'row', clip: 'none' }, {}],
    ['nf4 group 8', { scheme: 'nf4', bits: 4, granularity: 'group', groupSize: 8, clip: 'none' }, {}],
    ['kmeans 2-bit per row', { scheme: 'kmeans', bits: 2, granularity: 'row', clip: 'none' }, {}],
    ['2-bit asym per tensor', { ...asym3, bits: 2, granularity: 'tensor' }, {}],
  ];
  for (const [name, spec, opts] of specs)
    it(`${name}: proxy error ≤ RTN, loss identity, blocksize invariance`, () => {
      for (const seed of [1, 2, 3]) {
        const { w, H } = randomLayer(seed, 32, 12);
        const rtn = quantizeWeights(w, [32, 12], spec).values;
        const a = gptqLayer(w, [32, 12], H, spec, { ...opts, blocksize: 5, groupParams: 'current' });
        const b = gptqLayer(w, [32, 12], H, spec, { ...opts, blocksize: 128, groupParams: 'current' });
        expect(a.fallback).toBe(false);
        expect(rel(a.loss as number, a.proxyDamped as number)).toBeLessThan(1e-6);
        expect(Array.from(a.q)).toEqual(Array.from(b.q));
        expect(proxyError(w, a.q, [32, 12], H)).toBeLessThan(proxyError(w, rtn, [32, 12], H));
      }
    });

  it('dead inputs get zero weights; H is left unmodified', () => {
    const { w, H } = randomLayer(4, 16, 6);
    for (const dead of [0, 9])
      for (let k = 0; k < 16; k++) {
        H[dead * 16 + k] = 0;
        H[k * 16 + dead] = 0;
      }
    const copy = Float64Array.from(H);
    const r = gptqLayer(w, [16, 6], H, asym3, { actOrder: true });
    expect(r.deadInputs).toBe(2);
    expect(Array.from(r.q.subarray(0, 6))).toEqual(Array(6).fill(0));
    expect(Array.from(r.q.subarray(9 * 6, 10 * 6))).toEqual(Array(6).fill(0));
    expect(Array.from(H)).toEqual(Array.from(copy));
  });

  it('a non-positive-definite or non-finite H falls back to RTN with a note', () => {
    const { w } = randomLayer(5, 4, 3);
    const H = Float64Array.from([1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]); // eigenvalue −1
    const r = gptqLayer(w, [4, 3], H, asym3);
    expect(r.fallback).toBe(true);
    expect(r.note).toMatch(/Cholesky failed.*not positive definite.*RTN/);
    expect(r.loss).toBeNull();
    expect(Array.from(r.q)).toEqual(Array.from(quantizeWeights(w, [4, 3], asym3).values));
    const Hn = Float64Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? 1 : 0));
    Hn[6] = NaN;
    Hn[9] = NaN; // symmetric: the factorization reads the lower triangle
    const n = gptqLayer(w, [4, 3], Hn, asym3);
    expect(n.fallback).toBe(true);
    expect(n.note).toMatch(/non-finite/);
  });

  it("rejects 'block' granularity and non-dividing groups with readable errors", () => {
    const { w, H } = randomLayer(6, 14, 4);
    expect(() => gptqLayer(w, [14, 4], H, { ...asym3, granularity: 'block', groupSize: 32 })).toThrow(/per-output-channel/);
    expect(() => gptqLayer(w, [14, 4], H, { ...asym3, granularity: 'group', groupSize: 32 })).toThrow(/does not divide the input dimension 14/);
  });
});

describe('Float64 helpers', () => {
  it('H⁻¹ = UᵀU; the Hessian accumulates in batches like gptq.py add_batch', () => {
    const { H, X } = randomLayer(7, 10, 2, 64);
    const U = hinvUpper(H, 10) as Float64Array;
    for (let i = 0; i < 10; i++) for (let j = 0; j < i; j++) expect(U[i * 10 + j]).toBe(0);
    // (UᵀU)·H = I
    let maxErr = 0;
    for (let i = 0; i < 10; i++)
      for (let j = 0; j < 10; j++) {
        let s = 0;
        for (let k = 0; k < 10; k++) {
          let hinv = 0;
          for (let m = 0; m < 10; m++) hinv += U[m * 10 + i] * U[m * 10 + k];
          s += hinv * H[k * 10 + j];
        }
        maxErr = Math.max(maxErr, Math.abs(s - (i === j ? 1 : 0)));
      }
    expect(maxErr).toBeLessThan(1e-10);
    const acc = new HessianAccumulator(10);
    acc.add(X.subarray(0, 24 * 10), 24);
    acc.add(X.subarray(24 * 10), 40);
    expectClose(acc.H, Array.from(H), 1e-12, 'batched H');
    expect(choleskyLower(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
  });

  it('erf / erfc to double precision (Python math.erf / math.erfc)', () => {
    const ref: [number, number, number][] = [
      [0.1, 0.1124629160182849, 0.8875370839817152],
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [1, 0.8427007929497149, 0.15729920705028513],
      [1.5, 0.9661051464753108, 0.033894853524689274],
      [2, 0.9953222650189527, 0.004677734981047265],
      [2.5, 0.999593047982555, 0.0004069520174449589],
      [3, 0.9999779095030014, 2.2090496998585438e-5],
      [4, 0.9999999845827421, 1.541725790028002e-8],
      [5, 0.9999999999984626, 1.5374597944280351e-12],
      [6, 1.0, 2.1519736712498916e-17],
    ];
    for (const [x, e, c] of ref) {
      expect(rel(erf(x), e)).toBeLessThan(1e-15);
      expect(erf(-x)).toBe(-erf(x));
      expect(rel(erfc(x), c)).toBeLessThan(1e-13);
      expect(rel(erfc(-x), 2 - c)).toBeLessThan(1e-15);
    }
  });
});

describe('gptqMlp on a trained tiny MLP', () => {
  it('per-layer local errors below RTN at int3 and int2; deterministic; host forward = tf forward', async () => {
    const dims = [14, 32, 32, 200];
    const m = initMlp(dims, 0);
    const trainData = toDevice(makeDataset(512, 4, 1));
    const testData = toDevice(makeDataset(64, 4, 2));
    await train(m, trainData, testData, { lr: 3e-3, batch: 64, steps: 80, schedule: 'linear', weightDecay: 0, seed: 0, logEvery: 80 }, () => {});
    disposeDevice(trainData);
    disposeDevice(testData);
    const snap = await snapshotMlp(m);
    const calib = makeDataset(256, 4, 3).x;

    // The host forward (Float64, exact GELU) matches the tfjs forward pass.
    const yTf = tf.tidy(() => forward(m, tf.tensor2d(calib.subarray(0, 16 * 14), [16, 14])));
    const tfOut = await yTf.data();
    yTf.dispose();
    disposeMlp(m);
    expectClose(hostForward(snap, calib.subarray(0, 16 * 14), 16), Array.from(tfOut), 1e-4, 'forward');

    for (const [scheme, bits] of [
      ['asym', 3],
      ['asym', 2],
      ['sym-narrow', 3],
      ['sym-narrow', 2],
    ] as const) {
      const spec: QuantizerSpec = { scheme, bits, granularity: 'row', clip: 'none' };
      const progress: number[] = [];
      const r = await gptqMlp(snap, calib, [spec, spec, spec], {}, (p) => progress.push(p.done));
      expect(progress).toEqual([1, 2, 3]);
      for (const l of r.layers) {
        expect(l.fallback).toBe(false);
        expect(l.localErrorGptq).toBeGreaterThan(0);
        expect(l.localErrorGptq, `layer ${l.layer} int${bits} ${scheme}`).toBeLessThan(l.localErrorRtn);
      }
      expect(r.snapshot.biases.map((b) => Array.from(b))).toEqual(snap.biases.map((b) => Array.from(b)));
      // Layer 0 sees the FP inputs: its weights equal a direct gptqLayer call.
      const direct = gptqLayer(snap.weights[0], [14, 32], hessian(calib, 256, 14), spec);
      expect(Array.from(r.snapshot.weights[0])).toEqual(Array.from(direct.q));
      const again = await gptqMlp(snap, calib, [spec, spec, spec]);
      expect(again.snapshot.weights.map((w) => Array.from(w))).toEqual(r.snapshot.weights.map((w) => Array.from(w)));
    }
    // A null spec keeps the layer in full precision.
    const part = await gptqMlp(snap, calib, [null, asym3, null]);
    expect(Array.from(part.snapshot.weights[0])).toEqual(Array.from(snap.weights[0]));
    expect(part.layers[0].localErrorGptq).toBe(0);
    expect(part.layers[1].localErrorGptq).toBeLessThan(part.layers[1].localErrorRtn);
  });
});
