import { TRAIN_KEYS, type MethodDef } from './define';

export const qaft: MethodDef<'qaft'> = {
  id: 'qaft',
  label: 'QAFT',
  summary: 'Keep training from the FP weights with the quantized forward pass and a straight-through gradient.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: true,
  reads: [...TRAIN_KEYS, 'qdelay', 'bitsched'],
  comparison: ['poly', 'lm'],
  colour: '#1f5fbf',
  run: (lab, ctx) => lab.quantTrain(ctx, 'qaft', 'fp'),
};
