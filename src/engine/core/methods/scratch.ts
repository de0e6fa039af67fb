import { TRAIN_KEYS, type MethodDef } from './define';

export const scratch: MethodDef<'scratch'> = {
  id: 'scratch',
  label: 'Scratch',
  summary: 'Train the same quantized network from a fresh random initialization, with the same budget as QAFT.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  // On the language model it uses the FP model's tokenizer, text and shape.
  needsFp: ['lm'],
  schedule: true,
  reads: [...TRAIN_KEYS, 'qdelay', 'bitsched'],
  comparison: ['poly'],
  colour: '#9467bd',
  run: (lab, ctx) => lab.quantTrain(ctx, 'scratch', 'scratch'),
};
