import { GPTQ_KEYS, TRAIN_KEYS, type MethodDef } from './define';

/** QAFT that starts from GPTQ's weights instead of the FP weights' rounding: PTQ's best guess, then training. */
export const gptqQaft: MethodDef<'gptq-qaft'> = {
  id: 'gptq-qaft',
  label: 'GPTQ→QAFT',
  summary: 'QAFT starting from GPTQ’s quantized weights (calibrated on the same data budget) instead of the FP weights.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: [...new Set([...TRAIN_KEYS, ...GPTQ_KEYS])],
  comparison: [],
  colour: '#0b7a75',
  run: (lab, ctx) => lab.quantTrain(ctx, 'gptq-qaft', 'gptq'),
};
