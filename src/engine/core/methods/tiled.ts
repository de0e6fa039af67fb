import { step } from '../task';
import { TRAIN_KEYS, type MethodDef } from './define';

export const tiled: MethodDef<'tiled'> = {
  id: 'tiled',
  label: 'Tiled QAT',
  summary:
    'k blocks (language model) or layers (MLP) at a time quantized and trained to reproduce the FP model’s output after them, then an optional short global QAFT.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: [...TRAIN_KEYS, 'tile_k', 'tile_steps', 'tile_global'],
  comparison: [],
  colour: '#a6a000',
  run: (lab, ctx) => step(lab.tiled, lab, 'tiled QAT').call(lab, ctx),
};
