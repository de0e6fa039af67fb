/** The polynomial task's settings panels: quantizer, mixed precision, PTQ, sweep, QAFT/scratch training, FP pretraining, data, model. */
import { UNITS, formatBits, totalSteps, type TrainConfig } from '../../engine/core/config';
import { useLab } from '../store';
import { LrField, NumberField, OptimizerFields, SelectField, type Option } from './fields';
import { MethodsPanel } from './MethodsPanel';
import { Overrides } from './Overrides';
import { Panel } from './Panel';
import { PtqPanel, SweepPanel } from './PlanPanels';
import { QuantPanel } from './QuantPanel';
import { SchedulePanel } from './SchedulePanel';

const unitOptions: Option<string>[] = UNITS.map((u) => ({ value: u, label: u }));

function StepsHint({ which }: { which: 'fp' | 'qaft' }) {
  const t: TrainConfig = useLab((s) => s.config[which]);
  const n = useLab((s) => s.config.data.trainSize);
  const steps = totalSteps(t, n);
  if (t.unit === 'steps') return <>Runs {steps} optimizer steps.</>;
  return (
    <>
      {t.epochs} epochs × {Math.max(1, Math.floor(n / Math.min(t.batch, n)))} batches = {steps} steps.
    </>
  );
}

function TrainFields({ which }: { which: 'fp' | 'qaft' }) {
  const p = which === 'fp' ? 'input-fp-' : 'input-';
  const unit = useLab((s) => s.config[which].unit);
  return (
    <>
      <LrField label="Learning rate" path={[which, 'lr']} testId={`${p}lr`} hint="Log-scale slider, or type an exact value (e.g. 3e-4)." />
      <SelectField label="Length in" path={[which, 'unit']} testId={`${p}unit`} options={unitOptions} hint={<StepsHint which={which} />} />
      <NumberField
        label="Steps"
        path={[which, 'steps']}
        testId={`${p}steps`}
        min={1}
        hint={unit === 'steps' ? undefined : 'Not used: the length is in epochs.'}
      />
      <NumberField
        label="Epochs"
        path={[which, 'epochs']}
        testId={`${p}epochs`}
        min={1}
        hint={unit === 'epochs' ? undefined : 'Not used: the length is in steps.'}
      />
      <NumberField label="Batch size" path={[which, 'batch']} testId={`${p}batch`} min={1} />
      <OptimizerFields which={which} prefix={p} seedHint={which === 'qaft' ? 'Batch order (scratch init also).' : 'Init and batch order.'} />
    </>
  );
}

export function PolySettings() {
  const bits = useLab((s) => s.config.quant.bits);
  return (
    <>
      <QuantPanel />
      <Overrides />
      <SchedulePanel />
      <PtqPanel />
      <SweepPanel />
      <Panel
        title={`QAFT and scratch training (${formatBits(bits)})`}
        note="QAFT continues from the FP model; scratch trains the quantized model from a random init on the data budget."
      >
        <TrainFields which="qaft" />
      </Panel>
      <MethodsPanel
        testId="methods-panel"
        note="They train with the QAFT settings above (learning rate, batch, schedule), QA-LoRA and tiled QAT on the data budget; data-free QAFT uses no training data."
        loraHint="Adapters A (in×r) and B (r×out) on every quantized layer."
        dataFree={
          <NumberField
            label="Inputs"
            path={['lm', 'dfSequences']}
            testId="input-df-n"
            min={1}
            hint="Made by the polynomial data generator (a seed of its own) and labelled by the FP model; the loss is the MSE to its outputs."
          />
        }
        tileLabel="Layers per tile k"
      />
      <Panel
        title="FP pretraining"
        note="Full-precision model that RTN, GPTQ and QAFT start from, trained on all training examples. Reused while these, data and model settings are unchanged."
      >
        <TrainFields which="fp" />
      </Panel>
      <Panel title="Data">
        <NumberField label="Polynomial degree" path={['data', 'degree']} testId="input-degree" min={1} hint="1–6; least-squares fit through 7 random points." />
        <NumberField label="Train examples" path={['data', 'trainSize']} testId="input-ntrain" min={16} />
        <NumberField label="Test examples" path={['data', 'testSize']} testId="input-ntest" min={8} />
        <NumberField label="Train data seed" path={['data', 'trainSeed']} testId="input-dseed" min={0} />
        <NumberField label="Test data seed" path={['data', 'testSeed']} testId="input-tseed" min={0} />
      </Panel>
      <Panel title="Model and logging">
        <NumberField label="Width" path={['model', 'width']} testId="input-width" min={4} hint="MLP: 14 → width × depth → 200, GELU." />
        <NumberField label="Depth (hidden layers)" path={['model', 'depth']} testId="input-depth" min={1} />
        <NumberField
          label="Log every (steps)"
          path={['logEvery']}
          testId="input-log"
          min={1}
          hint="Loss read back from the GPU and test loss evaluated this often."
        />
      </Panel>
    </>
  );
}
