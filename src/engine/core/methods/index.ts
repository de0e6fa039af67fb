/**
 * The method registry: every method of the lab, in the order runs are made and listed. The labs
 * (runMethods), the CLI's --methods, the page's buttons, legends and tables all derive from it;
 * no other list of methods exists. Adding a method is its own file here plus one entry below.
 */
import type { Task } from '../config';
import type { RunRecord } from '../runs';
import type { MethodContext, TaskLab } from '../task';
import { needsFpOn, type MethodDef } from './define';
import { datafree } from './datafree';
import { fp } from './fp';
import { gptq } from './gptq';
import { gptqQaft } from './gptq-qaft';
import { lsq } from './lsq';
import { qalora } from './qalora';
import { qaft } from './qaft';
import { rtn } from './rtn';
import { scaleonly } from './scaleonly';
import { scratch } from './scratch';
import { tiled } from './tiled';

export { needsFpOn, type MethodDef } from './define';

export const METHOD_REGISTRY = [fp, rtn, gptq, qaft, gptqQaft, scratch, lsq, scaleonly, qalora, datafree, tiled] as const;

export type Method = (typeof METHOD_REGISTRY)[number]['id'];
export const METHOD_IDS: readonly Method[] = METHOD_REGISTRY.map((m) => m.id);

const BY_ID = new Map<string, MethodDef<Method>>(METHOD_REGISTRY.map((m) => [m.id, m as MethodDef<Method>]));

export function isMethod(id: unknown): id is Method {
  return typeof id === 'string' && BY_ID.has(id);
}

/** A method's entry (throws for an id that is not one: check with isMethod first). */
export function methodDef(id: Method): MethodDef<Method> {
  const d = BY_ID.get(id);
  if (!d) throw new Error(`"${id}" is not a method of the lab.`);
  return d;
}

/** The methods of a task, in registry order. */
export function methodsOf(task: Task): Method[] {
  return METHOD_REGISTRY.filter((m) => (m.tasks as readonly Task[]).includes(task)).map((m) => m.id);
}

/** The methods of a task's "Run comparison", in registry order. */
export function comparisonOf(task: Task): Method[] {
  return METHOD_REGISTRY.filter((m) => (m.comparison as readonly Task[]).includes(task)).map((m) => m.id);
}

export const methodLabel = (id: Method): string => methodDef(id).label;
export const methodColour = (id: Method): string => methodDef(id).colour;

const TASK_NAME: Record<Task, string> = { poly: 'polynomial', lm: 'language-model' };

/**
 * Run methods of one task in registry order: the FP model first when a method needs it and it is
 * not kept; then each method's run. Every finished run is emitted at once, so a later stop or
 * failure loses nothing already computed. Throws (before running anything) for methods the task
 * does not have or settings they cannot use.
 */
export async function runMethods(lab: TaskLab, ctx: MethodContext, methods: readonly Method[]): Promise<RunRecord[]> {
  const bad = methods.filter((m) => !isMethod(m) || !(methodDef(m).tasks as readonly Task[]).includes(lab.task));
  if (bad.length)
    throw new Error(
      `${bad.join(', ')} ${bad.length > 1 ? 'are not methods' : 'is not a method'} of the ${TASK_NAME[lab.task]} task (its methods: ${methodsOf(lab.task).join(', ')}).`,
    );
  const why = lab.methodProblems(ctx.c, methods);
  if (why.length) throw new Error(why.join(' '));
  const want = METHOD_REGISTRY.filter((m) => methods.includes(m.id));
  const needsFp = want.some((m) => needsFpOn(m, lab.task));
  const out: RunRecord[] = [];
  let fpFailed = false;
  if (methods.includes('fp') || (needsFp && !lab.hasFp(ctx.c))) {
    const r = await lab.fp(ctx);
    out.push(r);
    if (r.status !== 'done') {
      fpFailed = true;
      const skipped = want.filter((m) => needsFpOn(m, lab.task)).map((m) => m.label);
      if (skipped.length)
        ctx.emit({
          type: 'notice',
          message: `${r.name} ${r.status}: ${skipped.join(', ')} need${skipped.length > 1 ? '' : 's'} the trained FP model and ${skipped.length > 1 ? 'were' : 'was'} skipped.`,
        });
    }
  }
  for (const m of want) {
    if (m.id === 'fp' || ctx.control.stopped || (fpFailed && needsFpOn(m, lab.task))) continue;
    out.push(await (m as MethodDef<Method>).run(lab, ctx));
  }
  return out;
}
