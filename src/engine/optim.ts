/** AdamW with decoupled weight decay, exactly as torch.optim.AdamW (β = 0.9, 0.999; ε = 1e-8). */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

export class AdamW {
  private m: tf.Variable[];
  private v: tf.Variable[];
  private t = 0;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly wd: number;

  constructor(private readonly params: tf.Variable[], o: AdamWOptions) {
    this.b1 = o.beta1 ?? 0.9;
    this.b2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.wd = o.weightDecay;
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** Apply one update with gradients in the same order as the params. Call inside tf.tidy. */
  step(grads: tf.Tensor[], lr: number): void {
    this.t += 1;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    const stepSize = lr / bc1;
    const invSqrtBc2 = 1 / Math.sqrt(bc2);
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const g = grads[i];
      const m = tf.add(tf.mul(this.m[i], this.b1), tf.mul(g, 1 - this.b1));
      const v = tf.add(tf.mul(this.v[i], this.b2), tf.mul(tf.square(g), 1 - this.b2));
      const decayed = this.wd > 0 ? tf.mul(p, 1 - lr * this.wd) : p;
      const denom = tf.add(tf.mul(tf.sqrt(v), invSqrtBc2), this.eps);
      p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      this.m[i].assign(m);
      this.v[i].assign(v);
    }
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}
