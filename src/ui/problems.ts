/**
 * Settings that cannot run: quantizer options that do not fit together (configProblems, each
 * naming its URL key), also at each bit-width of a sweep or "PTQ vs QAFT" plan.
 */
import { formatBits, type ExperimentConfig } from '../engine/core/config';
import { type Plan } from '../engine/core/plans';
import { configProblems, planProblem, taskPlanItems } from '../engine/tasks';

export { configProblems };

export interface Problem {
  /** The URL key of the field to blame (scheme, gran, group, clip, lq, sweep_bits). */
  key: string;
  message: string;
}

/** Problems that only appear at the bit-widths a plan runs (blamed on sweep_bits). */
export function planProblems(c: ExperimentConfig, plan: Plan): Problem[] {
  if (plan === 'methods' || configProblems(c).length) return [];
  const why = planProblem(c, plan);
  if (why) return [{ key: 'run', message: why }];
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const item of taskPlanItems(c, plan)) {
    for (const p of configProblems(item.config)) {
      const message = `${item.label ?? `at ${formatBits(item.config.quant.bits)}`}: ${p.message}`;
      if (seen.has(message)) continue;
      seen.add(message);
      out.push({ key: 'sweep_bits', message });
    }
  }
  return out;
}

/**
 * Several messages as one short text: what is wrong for each (the part before '; '), then each
 * distinct piece of advice once (advice that another one extends is dropped).
 */
export function compactMessages(messages: string[]): string {
  const heads: string[] = [];
  const tails: string[] = [];
  for (const m of messages) {
    const i = m.indexOf('; ');
    if (i < 0) heads.push(m);
    else {
      heads.push(`${m.slice(0, i)}.`);
      const t = m.slice(i + 2).replace(/\.$/, '');
      tails.push(t.charAt(0).toUpperCase() + t.slice(1) + '.');
    }
  }
  const advice = [...new Set(tails)].filter((t, _, all) => !all.some((o) => o !== t && o.startsWith(t.slice(0, -1))));
  return [...new Set(heads)].concat(advice).join(' ');
}

/** The problems blamed on one URL key, as one short text. */
export function problemsAt(problems: Problem[], key: string): string | null {
  const m = problems.filter((p) => p.key === key).map((p) => p.message);
  return m.length ? compactMessages(m) : null;
}
