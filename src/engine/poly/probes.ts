/** Per-layer diagnostics on the host (Float64): the local error of quantized weights. */
import { hostLinear } from './gptq';
import type { MlpSnapshot } from './model';

/**
 * Local error of each linear layer: mean over the n examples of ‖x·(Wq − W)‖², where x is the
 * layer's input on the quantized model's own path (the outputs of its already-quantized earlier
 * layers) and W the FP weights. This is what GPTQ minimizes layer by layer; the global test loss
 * is what matters.
 */
export function localErrors(fp: MlpSnapshot, q: MlpSnapshot, x: ArrayLike<number>, n: number): number[] {
  if (fp.dims.join() !== q.dims.join()) throw new Error('localErrors: the two models differ in shape');
  const L = q.weights.length;
  const out: number[] = [];
  let h: Float64Array = Float64Array.from(x);
  for (let l = 0; l < L; l++) {
    const [inDim, outDim] = [q.dims[l], q.dims[l + 1]];
    const dW = new Float64Array(inDim * outDim);
    for (let k = 0; k < dW.length; k++) dW[k] = q.weights[l][k] - fp.weights[l][k];
    const d = hostLinear(h, n, dW, new Float64Array(outDim), inDim, outDim, false);
    let s = 0;
    for (const v of d) s += v * v;
    out.push(s / n);
    h = hostLinear(h, n, q.weights[l], q.biases[l], inDim, outDim, l < L - 1);
  }
  return out;
}
