import type { MethodDef } from './define';
export const rtn: MethodDef<'rtn'> = {
  id: 'rtn',
  label: 'RTN',
  summary: 'Round every FP weight to the nearest level of the quantizer, no data and no training.',
  tasks: ['poly', 'lm'],
  kind: 'ptq',
  needsFp: true,
  schedule: false,
  reads: [],
  comparison: ['poly', 'lm'],
  colour: '#d62728',
  run: (lab, ctx) => lab.ptq(ctx, 'rtn'),
};
