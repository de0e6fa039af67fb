/**
 * The activation fake-quantizer of a layer (tfjs): issue 2's dynamic absmax per example / token
 * (quant.ts, unchanged), dynamic per tensor, or static (an observer's amax); int or FP8; with
 * AWQ / SmoothQuant scales, s·Qa(x/s). Conventions: act.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './ops';
import { fakeQuantActivation, intAbsmax, SCALE_EPS, straightThrough } from './quant';
import { roundToFormatT } from './quantizers/tf';
import { E4M3, E5M2 } from './quantizers/formats';
import { FP8_SCALE_EPS } from './observers';
import type { LayerQuant } from './layerquant';

const fp8Of = (format: string) => (format === 'fp8-e4m3' ? E4M3 : E5M2);

/** FP8 fake-quant with amax (a tensor broadcasting against x): scale = max(amax/max, 1e-8). Value and the unclipped mask. */
function fp8Q(x: tf.Tensor, amax: tf.Tensor, format: string): { value: tf.Tensor; inside: tf.Tensor } {
  const f = fp8Of(format);
  const scale = tf.maximum(tf.div(amax, f.max), FP8_SCALE_EPS);
  const y = tf.div(x, scale);
  return { value: tf.mul(roundToFormatT(y, f), scale), inside: tf.lessEqual(tf.abs(y), f.max) };
}

/** Symmetric int with amax: s = qp/max(amax, 1e-5), clamp(round(x·s), qn, qp)/s (quant.ts intAbsmax's arithmetic). */
function intQ(x: tf.Tensor, amax: tf.Tensor, bits: number): { value: tf.Tensor; inside: tf.Tensor } {
  const qp = 2 ** (bits - 1) - 1;
  const qn = -(2 ** (bits - 1));
  const s = tf.div(qp, tf.maximum(amax, SCALE_EPS));
  const r = tf.round(tf.mul(x, s));
  return { value: tf.div(tf.clipByValue(r, qn, qp), s), inside: tf.logicalAnd(tf.greaterEqual(r, qn), tf.lessEqual(r, qp)) };
}

const dynamicCache = new Map<string, (x: tf.Tensor) => tf.Tensor>();

/** Dynamic quantizers (absmax of each example / token, or of the whole tensor): nothing clips, identity STE. */
function dynamicAct(x: tf.Tensor, bits: number, format: string, granularity: 'token' | 'tensor'): tf.Tensor {
  if (format === 'int' && granularity === 'token') return fakeQuantActivation(x, bits);
  const key = `${bits}:${format}:${granularity}`;
  let f = dynamicCache.get(key);
  if (!f) {
    f = straightThrough((t) =>
      tf.tidy(() => {
        if (format === 'int') return intAbsmax(t, bits, null);
        const amax = granularity === 'tensor' ? tf.max(tf.abs(t)) : tf.max(tf.abs(t), t.rank - 1, true);
        return fp8Q(t, amax, format).value;
      }),
    );
    dynamicCache.set(key, f);
  }
  return f(x);
}

/** Static quantizer with a calibrated amax: the gradient passes where the value was not clipped (torch.fake_quantize). */
function staticAct(x: tf.Tensor, bits: number, format: string, amax: number): tf.Tensor {
  const op = customOp((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const { value, inside } = tf.tidy(() => {
      const a = tf.scalar(amax);
      const r = format === 'int' ? intQ(t, a, bits) : fp8Q(t, a, format);
      return { value: r.value, inside: tf.cast(r.inside, 'float32') };
    });
    save([inside]);
    return { value, gradFunc: (dy: tf.Tensor, [m]: tf.Tensor[]) => tf.mul(dy, m) };
  });
  return op(x);
}

/**
 * The activation entering a layer, fake-quantized as `l` says (unchanged when actBits is 0). With
 * smoothing scales s the quantizer sees x/s: s·Qa(x/s). A static quantizer needs its calibrated actAmax.
 */
export function fakeQuantAct(x: tf.Tensor, l: LayerQuant): tf.Tensor {
  if (!(l.actBits > 0)) return x;
  const spec = l.act;
  const s = l.smooth ? tf.tensor1d(l.smooth) : null;
  const h = s ? tf.div(x, s) : x;
  let q: tf.Tensor;
  if (!spec || spec.observer === 'dynamic') q = dynamicAct(h, l.actBits, spec?.format ?? 'int', spec?.granularity ?? 'token');
  else {
    if (l.actAmax === undefined) throw new Error(`The static activation quantizer (${spec.observer}) has not been calibrated.`);
    q = staticAct(h, l.actBits, spec.format, l.actAmax);
  }
  return s ? tf.mul(q, s) : q;
}
