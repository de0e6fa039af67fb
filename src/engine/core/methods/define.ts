/** What the registry knows of a method (one file per method in this folder, listed in index.ts). */
import type { Task } from '../config';
import type { RunRecord } from '../runs';
import type { MethodContext, TaskLab } from '../task';

export interface MethodDef<Id extends string = string> {
  id: Id;
  /** Its name in buttons, legends and tables. */
  label: string;
  /** One sentence: what it does. */
  summary: string;
  /** The tasks it runs on (each implements the steps its `run` uses). */
  tasks: readonly Task[];
  /** 'fp': the full-precision model; 'ptq': quantizes the FP weights, no training; 'trained': trains quantized weights. */
  kind: 'fp' | 'ptq' | 'trained';
  /**
   * It starts from the trained FP model (or uses its tokenizer and text), which is trained or
   * loaded first when not kept: on every task (true), or on the tasks listed.
   */
  needsFp: boolean | readonly Task[];
  /** It follows the quantizer schedule (delayed fake-quant, gradual bits); its model ends at the schedule's last bits. */
  schedule: boolean;
  /** URL keys it reads besides the quantizer, the model and the data (the page's tooltips, the README). */
  reads: readonly string[];
  /** The tasks whose "Run comparison" includes it. */
  comparison: readonly Task[];
  /** Its colour in the views that compare methods. */
  colour: string;
  run(lab: TaskLab, ctx: MethodContext): Promise<RunRecord>;
}

/** The URL keys of the QAFT training settings (every trained method reads them). */
export const TRAIN_KEYS = ['lr', 'batch', 'unit', 'steps', 'epochs', 'sched', 'wd', 'seed', 'budget'] as const;
/** GPTQ's keys. */
export const GPTQ_KEYS = ['damp', 'gblock', 'actorder', 'budget'] as const;

/** Whether a method needs the FP model on a task. */
export function needsFpOn(m: Pick<MethodDef, 'needsFp'>, task: Task): boolean {
  return m.needsFp === true || (Array.isArray(m.needsFp) && m.needsFp.includes(task));
}
