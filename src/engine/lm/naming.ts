/** Run names and the FP model's identity for the language-model task. */
import { formatBits, formatLr, isFullPrecision, type ExperimentConfig } from '../core/config';
import { methodDef, methodLabel, type Method } from '../core/methods';
import { actLabel } from '../core/act';

/** The part of a config that determines the FP model: equal keys → the FP weights can be reused. */
export function lmFpKey(c: ExperimentConfig): string {
  const l = c.lm;
  const model = l.source !== 'tiny' ? [l.hfUrl] : [l.layers, l.heads, l.dModel, l.context, l.norm, l.bitnet, l.pretrained];
  return JSON.stringify(['lm', l.source, ...model, l.corpus, l.corpus === 'url' ? l.corpusUrl : '', l.valFraction, l.source !== 'tiny' ? null : c.lmFp]);
}

/** Optimizer steps of the FP pretraining the config plans: none for a checkpoint (a Hugging Face folder, files, the shipped pretrained GPT). */
export function lmFpSteps(c: ExperimentConfig): number {
  return c.lm.source === 'tiny' && !c.lm.pretrained ? c.lmFp.steps : 0;
}

/** The quantized components of an LM config and their bits: "3b" when they agree, else "attn 3b mlp 4b …". */
export function lmBitsLabel(c: ExperimentConfig): string {
  const l = c.lm;
  const parts = (
    [
      ['embed', l.embedBits],
      ['attn', l.attnBits],
      ['mlp', l.mlpBits],
      ['head', l.headBits],
    ] as const
  ).filter(([, b]) => !isFullPrecision(b));
  if (parts.length === 0) return 'FP32';
  const bits = new Set(parts.map(([, b]) => b));
  return bits.size === 1 ? formatBits(parts[0][1]) : parts.map(([k, b]) => `${k} ${formatBits(b)}`).join(' ');
}

/** The name of a run of the language model, e.g. "QAFT 3b lr 5e-4 n128". */
export function lmRunName(method: Method, c: ExperimentConfig): string {
  return method === 'fp' ? baseName(method, c) : baseName(method, c) + actLabel(c);
}

function baseName(method: Method, c: ExperimentConfig): string {
  const b = lmBitsLabel(c) + (c.quant.scheme === 'auto' ? '' : ` ${c.quant.scheme}`);
  const lr = formatLr(c.lmQaft.lr);
  const n = c.data.budget > 0 ? ` n${c.data.budget}` : '';
  switch (method) {
    case 'fp':
      return c.lm.source === 'hf' ? 'FP checkpoint' : `FP GPT lr ${formatLr(c.lmFp.lr)}`;
    case 'rtn':
      return `RTN ${b}`;
    case 'gptq':
      return `GPTQ ${b}${n}`;
    case 'qaft':
      return `QAFT ${b} lr ${lr}${n}`;
    case 'qalora':
      return `QA-LoRA ${b} r${c.lm.loraRank} lr ${lr}${n}`;
    case 'datafree':
      return `Data-free QAFT ${b} ${c.lm.dfLoss.toUpperCase()} lr ${lr}`;
    case 'tiled':
      return `Tiled QAT ${b} k${c.lm.tileK}${n}`;
    case 'lsq':
      return `LSQ ${b} lr ${lr}${n}`;
    case 'scaleonly':
      return `Scale-only ${b} lr ${lr}${n}`;
    default:
      // A method without a name of its own: its label, bits, learning rate when it trains, budget.
      return `${methodLabel(method)} ${b}${methodDef(method).kind === 'trained' ? ` lr ${lr}` : ''}${n}`;
  }
}
