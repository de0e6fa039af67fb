import { step } from '../task';
import { TRAIN_KEYS, type MethodDef } from './define';

export const lsq: MethodDef<'lsq'> = {
  id: 'lsq',
  label: 'LSQ',
  summary: 'Learned step size: the weights and one step size per channel train together, from the FP model.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: TRAIN_KEYS,
  comparison: [],
  colour: '#2ca02c',
  run: (lab, ctx) => step(lab.learnedScales, lab, 'learned step sizes').call(lab, ctx, 'lsq'),
};
