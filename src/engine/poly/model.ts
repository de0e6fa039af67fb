/**
 * The MLP: 14 → width × depth → 200, GELU between layers, MSE loss. Weights are stored
 * [in, out] so the forward pass is a plain x·W; the backward pass transposes explicitly
 * (the wasm backend's transposed matMul is ~20× slower than transpose + matMul).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng';
import { customOp, gelu, linear } from '../core/ops';
import { fakeQuantLayer, fakeQuantLayerInput } from '../core/fakequant';
import { type LayerQuant } from '../core/layerquant';

export { type LayerQuant } from '../core/layerquant';

/** A variable made from a tensor built inside a tidy, so the temporary is disposed. */
function makeVar(build: () => tf.Tensor, trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(build(), trainable));
}

export interface Mlp {
  dims: number[];
  weights: tf.Variable[];
  biases: tf.Variable[];
}

/** PyTorch's nn.Linear default init: weights and biases U(−1/√in, 1/√in), from a seeded stream. */
export function initMlp(dims: number[], seed: number): Mlp {
  const rng = new Rng(seed);
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let i = 0; i < dims.length - 1; i++) {
    const [fanIn, fanOut] = [dims[i], dims[i + 1]];
    const bound = 1 / Math.sqrt(fanIn);
    const w = Float32Array.from({ length: fanIn * fanOut }, () => rng.uniform(-bound, bound));
    const b = Float32Array.from({ length: fanOut }, () => rng.uniform(-bound, bound));
    weights.push(makeVar(() => tf.tensor2d(w, [fanIn, fanOut])));
    biases.push(makeVar(() => tf.tensor1d(b)));
  }
  return { dims, weights, biases };
}

export function disposeMlp(m: Mlp): void {
  for (const v of [...m.weights, ...m.biases]) v.dispose();
}

/** Host copies of all parameters (awaits GPU readback). */
export interface MlpSnapshot {
  dims: number[];
  weights: Float32Array[];
  biases: Float32Array[];
}

export async function snapshotMlp(m: Mlp): Promise<MlpSnapshot> {
  const weights = await Promise.all(m.weights.map((w) => w.data() as Promise<Float32Array>));
  const biases = await Promise.all(m.biases.map((b) => b.data() as Promise<Float32Array>));
  return { dims: [...m.dims], weights, biases };
}

export function mlpFromSnapshot(s: MlpSnapshot, trainable = true): Mlp {
  const weights = s.weights.map((w, i) => makeVar(() => tf.tensor2d(w, [s.dims[i], s.dims[i + 1]]), trainable));
  const biases = s.biases.map((b) => makeVar(() => tf.tensor1d(b), trainable));
  return { dims: [...s.dims], weights, biases };
}

/**
 * Forward pass. With `quant`, weights (and optionally activations) are fake-quantized with a
 * straight-through gradient, so the backward pass is full precision. `weightOf` replaces each
 * layer's weight by a tensor computed from it (LSQ, scale-only: quantized with learned scales;
 * QA-LoRA: the frozen quantized base plus its adapter).
 */
export function forward(m: Mlp, x: tf.Tensor, quant?: LayerQuant[], weightOf?: (i: number, w: tf.Variable) => tf.Tensor): tf.Tensor {
  return forwardLayers(m, x, 0, m.weights.length, quant, weightOf);
}

/**
 * Linear layers [from, to) of the model applied to `x`, the activation entering layer `from`
 * (the inputs when from = 0). Returns what layer `to` receives: the GELU of layer to − 1's
 * output, or the model's output when `to` is the last layer. `forward` is layers [0, n).
 */
export function forwardLayers(
  m: Mlp,
  x: tf.Tensor,
  from: number,
  to: number,
  quant?: LayerQuant[],
  weightOf?: (i: number, w: tf.Variable) => tf.Tensor,
): tf.Tensor {
  let h = x;
  const n = m.weights.length;
  for (let i = from; i < to; i++) {
    const q = quant?.[i];
    const raw = weightOf ? weightOf(i, m.weights[i]) : m.weights[i];
    const w = q ? fakeQuantLayer(raw, q) : raw;
    const inp = q ? fakeQuantLayerInput(h, q) : h;
    h = linear(inp, w, m.biases[i]);
    if (i < n - 1) h = gelu(h);
  }
  return h;
}

/** Mean squared error with a hand-written gradient 2·(pred − target)/N (no constant tensor uploads). */
const mseOp = customOp((pred: tf.Tensor, target: tf.Tensor, save: tf.GradSaveFunc) => {
  const diff = tf.sub(pred, target);
  save([diff]);
  return {
    value: tf.mean(tf.square(diff)),
    gradFunc: (dy: tf.Tensor, [d]: tf.Tensor[]) => {
      const g = tf.mul(d, tf.mul(dy, 2 / d.size));
      return [g, tf.neg(g)];
    },
  };
});

export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return mseOp(pred, target) as tf.Scalar;
}
