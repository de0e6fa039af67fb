import type { MethodDef } from './define';
export const fp: MethodDef<'fp'> = {
  id: 'fp',
  label: 'FP',
  summary: 'The full-precision model: trained here, or loaded from a checkpoint.',
  tasks: ['poly', 'lm'],
  kind: 'fp',
  needsFp: false,
  schedule: false,
  reads: ['fp_lr', 'fp_batch', 'fp_unit', 'fp_steps', 'fp_epochs', 'fp_sched', 'fp_wd', 'fp_seed'],
  comparison: ['poly', 'lm'],
  colour: '#111827',
  run: (lab, ctx) => lab.fp(ctx),
};
