import { step } from '../task';
import { TRAIN_KEYS, type MethodDef } from './define';

export const datafree: MethodDef<'datafree'> = {
  id: 'datafree',
  label: 'Data-free QAFT',
  summary: 'The quantized student learns the FP model’s outputs on inputs the FP side makes itself; no training data.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: [...TRAIN_KEYS, 'df_n', 'df_temp', 'df_loss'],
  comparison: [],
  colour: '#e377c2',
  run: (lab, ctx) => step(lab.dataFree, lab, 'data-free distillation').call(lab, ctx),
};
