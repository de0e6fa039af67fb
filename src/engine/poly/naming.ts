/** Run names and the FP model's identity for the polynomial task. */
import { formatBits, formatLr, totalSteps, type ExperimentConfig } from '../core/config';
import { methodDef, methodLabel, type Method } from '../core/methods';
import { actLabel } from '../core/act';

/** The part of a config that determines the FP model: equal keys → the FP weights can be reused. */
export function polyFpKey(c: ExperimentConfig): string {
  const { budget: _budget, ...data } = c.data;
  return JSON.stringify([data, c.model, c.fp]);
}

/** Optimizer steps of the FP pretraining the config plans (on all training examples). */
export function polyFpSteps(c: ExperimentConfig): number {
  return totalSteps(c.fp, c.data.trainSize);
}

/** "8→4→2b" for a bit schedule (the run ends at its last bits), '' without one. */
function sched(c: ExperimentConfig, method: Method): string {
  const s = c.quant.bitSchedule;
  return methodDef(method).schedule && s.length ? `${s.map((e) => e.bits).join('→')}b` : '';
}
const delay = (c: ExperimentConfig) => (c.quant.delay > 0 ? ` delay ${c.quant.delay}` : '');

/** The name of a run of the polynomial task, e.g. "QAFT 2b lr 1e-3" or "GPTQ 3b asym mixed". */
export function polyRunName(method: Method, c: ExperimentConfig): string {
  return method === 'fp' ? baseName(method, c) : baseName(method, c) + actLabel(c);
}

function baseName(method: Method, c: ExperimentConfig): string {
  const b = formatBits(c.quant.bits);
  const scheme = (c.quant.scheme === 'auto' ? '' : ` ${c.quant.scheme}`) + (c.quant.overrides.length ? ' mixed' : '');
  switch (method) {
    case 'fp':
      return `FP lr ${formatLr(c.fp.lr)}`;
    case 'rtn':
      return `RTN ${b}${scheme}`;
    case 'gptq':
      return `GPTQ ${b}${scheme}`;
    case 'qaft':
      return `QAFT ${sched(c, method) || b}${scheme} lr ${formatLr(c.qaft.lr)}${delay(c)}`;
    case 'scratch':
      return `Scratch ${sched(c, method) || b}${scheme} lr ${formatLr(c.qaft.lr)}${delay(c)}`;
    case 'lsq':
      return `LSQ ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    case 'scaleonly':
      return `Scale-only ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    case 'qalora':
      return `QA-LoRA ${b}${scheme} r${c.lm.loraRank} lr ${formatLr(c.qaft.lr)}`;
    case 'datafree':
      return `Data-free QAFT ${b}${scheme} lr ${formatLr(c.qaft.lr)}`;
    case 'tiled':
      return `Tiled QAT ${b}${scheme} k${c.lm.tileK} lr ${formatLr(c.qaft.lr)}`;
    default:
      return `${methodLabel(method)} ${b}${scheme}${methodDef(method).kind === 'trained' ? ` lr ${formatLr(c.qaft.lr)}` : ''}`;
  }
}
