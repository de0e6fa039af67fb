/** The settings of the language-model task: model, text, quantizer, data budget and GPTQ, training, methods, sampling. */
import { SCHEDULES } from '../../../engine/core/config';
import { useLab } from '../../store';
import { CheckboxField, LrField, NumberField, SelectField, TextField, type Option } from '../fields';
import { MethodsPanel } from '../MethodsPanel';
import { Panel } from '../Panel';
import { LmModelPanel } from './LmModelPanel';
import { LmQuantPanel } from './LmQuantPanel';
import { LmTextPanel } from './LmTextPanel';

const schedOptions: Option<string>[] = SCHEDULES.map((s) => ({ value: s, label: s === 'linear' ? 'linear decay to 10%' : 'constant' }));

function TrainFields({ which }: { which: 'lmFp' | 'lmQaft' }) {
  const p = which === 'lmFp' ? 'input-lm-fp-' : 'input-lm-';
  return (
    <>
      <LrField label="Learning rate" path={[which, 'lr']} testId={`${p}lr`} hint="Log-scale slider, or type an exact value (e.g. 3e-4)." />
      <NumberField label="Steps" path={[which, 'steps']} testId={`${p}steps`} min={1} />
      <NumberField label="Batch (sequences)" path={[which, 'batch']} testId={`${p}batch`} min={1} />
      <SelectField label="LR schedule" path={[which, 'schedule']} testId={`${p}sched`} options={schedOptions} />
      <NumberField label="Weight decay" path={[which, 'weightDecay']} testId={`${p}wd`} step={0.01} min={0} />
      <NumberField
        label="Seed"
        path={[which, 'seed']}
        testId={`${p}seed`}
        min={0}
        hint={which === 'lmFp' ? 'Init and batch order.' : 'Batch order (and adapter init).'}
      />
    </>
  );
}

function BudgetPanel() {
  const budget = useLab((s) => s.config.data.budget);
  return (
    <Panel title="Data budget and GPTQ" testId="lm-budget-panel" note="After FP pretraining every method gets the same training sequences.">
      <NumberField
        label="Sequences"
        path={['data', 'budget']}
        testId="input-budget"
        min={0}
        hint={
          budget === 0
            ? 'All training windows (0 = all): GPTQ calibrates on them; QAFT, QA-LoRA and tiled QAT train on them. Data-free QAFT uses none.'
            : `The first ${budget} training windows: GPTQ's calibration set and the whole training set of QAFT, QA-LoRA and tiled QAT. Data-free QAFT uses none.`
        }
      />
      <NumberField label="GPTQ damping" path={['gptq', 'damp']} testId="input-damp" step={0.005} min={0} hint="Added to diag(H) as a fraction of its mean." />
      <NumberField label="GPTQ block size" path={['gptq', 'blockSize']} testId="input-gblock" min={1} />
      <CheckboxField label="GPTQ act-order" path={['gptq', 'actOrder']} testId="input-actorder" hint="Quantize the most used inputs first." />
    </Panel>
  );
}

function SamplingPanel() {
  return (
    <Panel title="Text samples" testId="lm-sampling-panel" note="Every run writes a sample from this prompt with the same seed, so the models can be compared.">
      <TextField label="Prompt" path={['lm', 'prompt']} testId="input-prompt" />
      <NumberField label="Length" path={['lm', 'sampleLength']} testId="input-sample-len" min={1} hint="Tokens generated after the prompt." />
      <NumberField
        label="Temperature"
        path={['lm', 'sampleTemp']}
        testId="input-sample-temp"
        step={0.1}
        min={0}
        hint="0 = greedy (always the likeliest token)."
      />
      <NumberField label="Seed" path={['lm', 'sampleSeed']} testId="input-sample-seed" min={0} />
    </Panel>
  );
}

export function LmSettings() {
  const tiny = useLab((s) => s.config.lm.source === 'tiny');
  return (
    <>
      <LmModelPanel />
      <LmTextPanel />
      <LmQuantPanel />
      <BudgetPanel />
      <Panel title="QAFT training" testId="lm-qaft-panel" note="QAFT continues from the FP model with the quantized forward pass, on the data budget.">
        <TrainFields which="lmQaft" />
      </Panel>
      <MethodsPanel task="lm" />
      <Panel
        title="FP pretraining"
        testId="lm-fp-panel"
        note={
          tiny
            ? 'Trains the tiny GPT in full precision when it does not start from the shipped checkpoint; reused while model, text and these settings are unchanged.'
            : 'The checkpoint is the FP model: nothing is pretrained.'
        }
      >
        {tiny ? <TrainFields which="lmFp" /> : null}
        <NumberField
          label="Log every (steps)"
          path={['logEvery']}
          testId="input-log"
          min={1}
          hint="Training loss read back and validation NLL evaluated this often."
        />
      </Panel>
      <SamplingPanel />
    </>
  );
}
