/** AdamW with decoupled weight decay, exactly as torch.optim.AdamW (β = 0.9, 0.999; ε = 1e-8). */
import * as tf from '@tensorflow/tfjs';
import { fusedAdamMomentsInPlace, fusedAdamUpdate, useFused } from './kernels';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

export class AdamW {
  private m: tf.Variable[] = [];
  private v: tf.Variable[] = [];
  /**
   * With the fused WebGPU kernels (chosen when the optimizer is made): m and v of every
   * parameter in one flat variable [2·total] (all m, then all v; parameter i at offsets[i]),
   * updated in place by one program per 7 parameters, then one update program per parameter.
   */
  private mv: tf.Variable | null = null;
  private offsets: number[] = [];
  private t = 0;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly wd: number;

  constructor(
    private readonly params: tf.Variable[],
    o: AdamWOptions,
  ) {
    this.b1 = o.beta1 ?? 0.9;
    this.b2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.wd = o.weightDecay;
    if (useFused()) {
      let total = 0;
      for (const p of params) {
        this.offsets.push(total);
        total += p.size;
      }
      this.mv = tf.tidy(() => tf.variable(tf.zeros([2 * total]), false));
    } else {
      this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** Apply one update with gradients in the same order as the params. Call inside tf.tidy. */
  step(grads: tf.Tensor[], lr: number): void {
    this.t += 1;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    const stepSize = lr / bc1;
    const invSqrtBc2 = 1 / Math.sqrt(bc2);
    const decay = 1 - lr * this.wd;
    tf.tidy(() => {
      if (this.mv) {
        const u = { decay, stepSize, invSqrtBc2, eps: this.eps };
        fusedAdamMomentsInPlace(grads, this.mv, this.offsets, this.b1, this.b2);
        for (let i = 0; i < this.params.length; i++) this.params[i].assign(fusedAdamUpdate(this.params[i], this.mv, this.offsets[i], u));
        return;
      }
      // The scalar operands, made once per step rather than once per use.
      const [b1, c1, b2, c2, k, eps, ss] = [this.b1, 1 - this.b1, this.b2, 1 - this.b2, invSqrtBc2, this.eps, stepSize].map((x) => tf.scalar(x));
      const dec = this.wd > 0 ? tf.scalar(decay) : null;
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i];
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], b1), tf.mul(g, c1));
        const v = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), c2));
        const decayed = dec ? tf.mul(p, dec) : p;
        const denom = tf.add(tf.mul(tf.sqrt(v), k), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), ss)));
        this.m[i].assign(m);
        this.v[i].assign(v);
      }
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v, ...(this.mv ? [this.mv] : [])]) x.dispose();
  }
}
