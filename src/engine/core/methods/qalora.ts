import { step } from '../task';
import { TRAIN_KEYS, type MethodDef } from './define';

export const qalora: MethodDef<'qalora'> = {
  id: 'qalora',
  label: 'QA-LoRA',
  summary: 'Rank-r adapters trained on the frozen quantized model, then merged and re-quantized.',
  tasks: ['poly', 'lm'],
  kind: 'trained',
  needsFp: true,
  schedule: false,
  reads: [...TRAIN_KEYS, 'lora_r', 'lora_alpha'],
  comparison: [],
  colour: '#17becf',
  run: (lab, ctx) => step(lab.qaLora, lab, 'QA-LoRA').call(lab, ctx),
};
