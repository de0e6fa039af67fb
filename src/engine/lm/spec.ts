/**
 * What the LM task's settings resolve to, without tfjs (the page's main thread uses it for
 * labels and validation): the quantizer of each component and the settings that cannot work
 * together, each with the URL key to blame.
 */
import type { RunMetric } from '../core/runs';
import { cloneConfig, isFullPrecision, type Bits, type ExperimentConfig } from '../core/config';
import { learnedScaleProblemsOf, resolveWeightQuant, specProblemKey, type ConfigProblem, type WeightQuant } from '../core/layerquant';
import { checkSpec, specProblems } from '../core/quantizers/spec';
import { quote } from '../core/text';
import { actProblems } from '../core/act';

export const LM_COMPONENTS = ['embed', 'attn', 'mlp', 'head'] as const;
export type LmComponent = (typeof LM_COMPONENTS)[number];

/** The config field of each component's bits. */
export const LM_BITS_KEY: Record<LmComponent, 'embedBits' | 'attnBits' | 'mlpBits' | 'headBits'> = {
  embed: 'embedBits',
  attn: 'attnBits',
  mlp: 'mlpBits',
  head: 'headBits',
};
export const LM_BITS_URL_KEY: Record<LmComponent, string> = { embed: 'bits_embed', attn: 'bits_attn', mlp: 'bits_mlp', head: 'bits_head' };

/** The language model's metric: mean negative log-likelihood per token of the validation text. */
export const LM_METRIC: RunMetric = { name: 'val NLL', unit: 'nats/token' };

/** Every URL in the LM settings with its URL key, active or not, and whether running the config fetches it (the model folder with lm_src=hf, the text with text=url). */
export function lmUrls(c: ExperimentConfig): { key: string; url: string; active: boolean }[] {
  return [
    { key: 'hf', url: c.lm.hfUrl, active: c.lm.source === 'hf' },
    { key: 'text_url', url: c.lm.corpusUrl, active: c.lm.corpus === 'url' },
  ];
}

/** The weight quantizer of one component (null = full precision). */
export function lmComponentQuant(c: ExperimentConfig, component: LmComponent): WeightQuant | null {
  return resolveWeightQuant(c.quant, c.lm[LM_BITS_KEY[component]], c.quant.scheme);
}

/** The LM's rule for a plan's weight bits: every quantized component gets `bits` (attention and MLP when none is). */
export function lmWithBits(c: ExperimentConfig, bits: Bits): ExperimentConfig {
  const out = cloneConfig(c);
  const quantized = LM_COMPONENTS.filter((k) => !isFullPrecision(c.lm[LM_BITS_KEY[k]]));
  for (const k of quantized.length ? quantized : (['attn', 'mlp'] as const)) out.lm[LM_BITS_KEY[k]] = bits;
  return out;
}

/** Whether any component is quantized. */
export function lmQuantized(c: ExperimentConfig): boolean {
  return LM_COMPONENTS.some((k) => !isFullPrecision(c.lm[LM_BITS_KEY[k]]));
}

/** Input sizes of the weights of each component of the lab's GPT (weights are stored [in, out]). */
export function lmInputDims(c: ExperimentConfig): Record<LmComponent, number[]> {
  const d = c.lm.dModel;
  return { embed: [d], attn: [d], mlp: [d, 4 * d], head: [d] };
}

/** An absolute http(s) URL, or a path on this site ("/…"). */
function isHttpUrl(s: string): boolean {
  const t = s.trim();
  if (t === '') return false;
  try {
    return ['http:', 'https:'].includes(new URL(t, 'http://site.invalid/').protocol) && (/^https?:\/\//i.test(t) || t.startsWith('/'));
  } catch {
    return false;
  }
}

/** Settings of the LM task that cannot work together. */
export function lmProblems(c: ExperimentConfig): ConfigProblem[] {
  const out: ConfigProblem[] = actProblems(c);
  const l = c.lm;
  if (l.source === 'tiny' && l.dModel % l.heads !== 0)
    out.push({ key: 'lm_heads', also: ['lm_d'], message: `d_model ${l.dModel} is not divisible by ${l.heads} heads.` });
  if (l.source === 'hf' && !isHttpUrl(l.hfUrl))
    out.push({
      key: 'lm_src',
      also: ['hf'],
      message:
        'lm_src=hf needs hf to be the URL of a folder with config.json, model.safetensors and tokenizer.json (http(s)://… or /…); or drop the files on the page.',
    });
  if (l.corpus === 'url' && !isHttpUrl(l.corpusUrl))
    out.push({
      key: 'text',
      also: ['text_url'],
      message: `text=url needs text_url to be an http(s) URL or a path starting with /, not ${quote(l.corpusUrl)}.`,
    });
  const seen = new Set<string>();
  const dims = lmInputDims(c);
  for (const k of LM_COMPONENTS) {
    const q = lmComponentQuant(c, k);
    if (!q || q.kind !== 'zoo') continue;
    const problems = specProblems(q.spec);
    for (const { field, message } of problems) {
      if (!seen.has(message))
        out.push({ key: specProblemKey(field, LM_BITS_URL_KEY[k]), also: ['scheme', 'gran', 'group', 'clip'], message: `${k}: ${message}.` });
      seen.add(message);
    }
    // An invalid spec is reported once above, not again per input size; a checkpoint's sizes are known only once it is loaded.
    if (problems.length || l.source !== 'tiny') continue;
    for (const n of dims[k]) {
      try {
        checkSpec(q.spec, n);
      } catch (e) {
        const msg = `${k} (${n} inputs): ${(e as Error).message}`;
        if (!seen.has(msg)) out.push({ key: c.quant.granularity === 'group' ? 'group' : 'gran', also: ['gran', 'group'], message: msg });
        seen.add(msg);
      }
    }
  }
  return out;
}

/**
 * Why LSQ and scale-only fine-tuning cannot run on these settings (empty = they can): every
 * quantized component (embed, attn, mlp, head) needs symmetric integer weights of 2–8 bits with
 * one scale per output channel or per tensor, as on the polynomial task.
 */
export function lmLearnedScaleProblems(c: ExperimentConfig, method: 'lsq' | 'scaleonly'): string[] {
  const targets = LM_COMPONENTS.map((k) => ({ name: k, weight: lmComponentQuant(c, k), bitsKey: LM_BITS_URL_KEY[k] }));
  return learnedScaleProblemsOf(method, c.quant, targets);
}
