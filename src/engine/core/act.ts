/**
 * Activation quantization beyond issue 2's dynamic absmax, and AWQ / SmoothQuant: what the
 * config's `act` group resolves to per layer, the settings that cannot work together, the
 * methods that apply them, and labels. No tfjs here (the page's main thread uses it).
 *
 * A Hadamard rotation (rotation.ts) runs with dynamic activation quantizers only, without smoothing
 * (actProblems refuses the rest).
 *
 * Conventions (README "Activation quantization, AWQ and SmoothQuant"):
 * - int: symmetric, s = (2^(B−1)−1)/max(amax, 1e-5), q = clamp(round(x·s), −2^(B−1), 2^(B−1)−1)/s,
 *   the lab's absmax quantizer; dynamic per token it is exactly quant.ts quantizeActivation.
 * - FP8: scale = max(amax/max_normal, 1e-8), q = E4M3/E5M2(x/scale)·scale (round to nearest even, saturating).
 * - Static (an observer): one amax per tensor, calibrated on the data budget; values beyond it
 *   clip (int) or saturate (FP8). STE: the gradient passes where the value was not clipped
 *   (round(x·s) within the integer range; |x/scale| ≤ max_normal), as torch.fake_quantize.
 *   Dynamic quantizers clip nothing, so their STE is the identity (as before).
 */
import type { ActConfig, ExperimentConfig } from './config';
import type { ActSpec, ConfigProblem } from './layerquant';
import type { Method } from './methods';

/** The ActSpec of these settings, or undefined for issue 2's quantizer (dynamic int per example / token). */
export function actSpecOf(a: ActConfig): ActSpec | undefined {
  if (a.observer === 'dynamic' && a.granularity === 'token' && a.format === 'int') return undefined;
  return { format: a.format, granularity: a.granularity, observer: a.observer };
}

export const isStatic = (a: Pick<ActConfig, 'observer'>): boolean => a.observer !== 'dynamic';

/** Methods that calibrate static activation scales (before training, and again on the final weights). */
export const STATIC_ACT_METHODS: readonly Method[] = ['rtn', 'gptq', 'qaft', 'gptq-qaft', 'scratch', 'lsq', 'scaleonly'];
/** Methods that quantize the AWQ / SmoothQuant-scaled weights (the scales come from the FP model). */
export const SMOOTH_METHODS: readonly Method[] = ['rtn', 'gptq', 'qaft', 'gptq-qaft'];

const SMOOTH_NAME = { none: '', awq: 'AWQ', smoothquant: 'SmoothQuant' } as const;

/** Settings of `act` that cannot work together (both tasks). */
export function actProblems(c: ExperimentConfig): ConfigProblem[] {
  const a = c.act;
  const out: ConfigProblem[] = [];
  const bits = c.quant.actBits;
  if (a.format !== 'int' && bits !== 0 && bits !== 8)
    out.push({ key: 'afmt', also: ['abits'], message: `FP8 activations (${a.format}) have 8 bits: set abits=8 (or 0 for off), not ${bits}.` });
  if (isStatic(a) && a.granularity === 'token')
    out.push({
      key: 'agran',
      also: ['aobs'],
      message: `a static observer (aobs=${a.observer}) calibrates one scale per tensor: set agran=tensor (per token scales are dynamic only).`,
    });
  if (a.smooth === 'smoothquant' && bits === 0)
    out.push({
      key: 'smooth',
      also: ['abits'],
      message: 'SmoothQuant migrates activation outliers into the weights: it needs quantized activations (abits 2–8).',
    });
  if (a.smooth !== 'none' && c.quant.scheme === 'kmeans')
    out.push({ key: 'smooth', also: ['scheme'], message: `${SMOOTH_NAME[a.smooth]} scales uniform and float grids, not k-means codebooks.` });
  // A rotation with smoothing or a static observer is not defined here (in which basis the scales
  // and the calibrated amax would live): refused rather than guessed.
  if (c.quant.rotate !== 'none' && a.smooth !== 'none')
    out.push({
      key: 'rot',
      also: ['smooth'],
      message: `a Hadamard rotation (rot=${c.quant.rotate}) with ${SMOOTH_NAME[a.smooth]} (smooth=${a.smooth}) is not supported: turn one of them off (rot=none or smooth=none).`,
    });
  if (c.quant.rotate !== 'none' && bits > 0 && isStatic(a))
    out.push({
      key: 'rot',
      also: ['aobs'],
      message: `a Hadamard rotation (rot=${c.quant.rotate}) with a static activation observer (aobs=${a.observer}) is not supported: its scale is calibrated in the unrotated basis; use aobs=dynamic or rot=none.`,
    });
  return out;
}

/** Why `method` cannot apply these act settings (empty = it can). */
export function actMethodProblems(c: ExperimentConfig, method: Method): string[] {
  const out: string[] = [];
  if (c.quant.actBits > 0 && isStatic(c.act) && method !== 'fp' && !STATIC_ACT_METHODS.includes(method))
    out.push(
      `Static activation observers (aobs=${c.act.observer}) are calibrated for ${STATIC_ACT_METHODS.join(', ')}; ${method} quantizes activations dynamically only (aobs=dynamic).`,
    );
  if (c.act.smooth !== 'none' && method !== 'fp' && method !== 'scratch' && !SMOOTH_METHODS.includes(method))
    out.push(`${SMOOTH_NAME[c.act.smooth]} (smooth=${c.act.smooth}) applies to ${SMOOTH_METHODS.join(', ')}, not ${method}.`);
  return out;
}

/** The note of a scratch run under AWQ / SmoothQuant: it has no FP weights to take scales from. */
export function scratchSmoothNote(c: ExperimentConfig): string | null {
  return c.act.smooth === 'none'
    ? null
    : `${SMOOTH_NAME[c.act.smooth]} takes its scales from the FP model; scratch starts from a random init and quantizes without them.`;
}

/** A short label of the non-default act settings for run names: " A8 static mse tensor +AWQ"; '' by default. */
export function actLabel(c: ExperimentConfig): string {
  const a = c.act;
  const parts: string[] = [];
  if (c.quant.actBits > 0) {
    const spec = actSpecOf(a);
    if (spec) {
      parts.push(`A${a.format === 'int' ? c.quant.actBits : a.format}`);
      parts.push(a.observer === 'dynamic' ? `dyn ${a.granularity}` : a.observer === 'percentile' ? `p${a.percentile}` : a.observer);
    }
  }
  if (a.smooth === 'awq') parts.push('+AWQ');
  if (a.smooth === 'smoothquant') parts.push(`+SQ α${a.alpha}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}
