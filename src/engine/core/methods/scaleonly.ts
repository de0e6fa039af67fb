import { step } from '../task';
import { TRAIN_KEYS, type MethodDef } from './define';

export const scaleonly: MethodDef<'scaleonly'> = {
  id: 'scaleonly',
  label: 'Scale-only',
  summary: 'RTN’s integer codes stay frozen; only the scales train (PEQA-style).',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: TRAIN_KEYS,
  comparison: [],
  colour: '#8c564b',
  run: (lab, ctx) => step(lab.learnedScales, lab, 'learned step sizes').call(lab, ctx, 'scaleonly'),
};
