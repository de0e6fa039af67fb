import { GPTQ_KEYS, type MethodDef } from './define';

export const gptq: MethodDef<'gptq'> = {
  id: 'gptq',
  label: 'GPTQ',
  summary: 'Quantize layer by layer, pushing each column’s rounding error onto the columns not yet quantized (second-order, on the data budget).',
  tasks: ['poly', 'lm'],
  kind: 'ptq',
  needsFp: true,
  schedule: false,
  reads: GPTQ_KEYS,
  comparison: ['lm'],
  colour: '#ff7f0e',
  run: (lab, ctx) => lab.ptq(ctx, 'gptq'),
};
