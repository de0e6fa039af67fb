/** The settings panels: quantizer, QAFT/scratch training, FP pretraining, data, model. */
import {
  BITS,
  GRANULARITIES,
  LAYER_SETS,
  SCHEDULES,
  UNITS,
  formatBits,
  isFullPrecision,
  totalSteps,
  type TrainConfig,
} from '../../engine/config';
import { isBusy, useLab } from '../store';
import { LrField, NumberField, SelectField, type Option } from './fields';

const bitOptions: Option<number>[] = BITS.map((b) => ({
  value: b,
  label: b === 1.58 ? '1.58 (ternary)' : isFullPrecision(b) ? `${b} (no quantization)` : String(b),
}));
const granOptions: Option<string>[] = GRANULARITIES.map((g) => ({
  value: g,
  label: g === 'row' ? 'per output channel' : 'per tensor',
}));
const layerLabel: Record<(typeof LAYER_SETS)[number], string> = {
  all: 'all layers',
  inner: 'hidden layers only',
  nofirst: 'all but the first',
  nolast: 'all but the last',
};
const layerOptions: Option<string>[] = LAYER_SETS.map((l) => ({ value: l, label: layerLabel[l] }));
const abitOptions: Option<number>[] = [0, 2, 3, 4, 5, 6, 7, 8].map((b) => ({ value: b, label: b === 0 ? 'off (full precision)' : `${b} bit` }));
const schedOptions: Option<string>[] = SCHEDULES.map((s) => ({ value: s, label: s === 'linear' ? 'linear decay to 10%' : 'constant' }));
const unitOptions: Option<string>[] = UNITS.map((u) => ({ value: u, label: u }));

function Panel({ title, children, note }: { title: string; children: React.ReactNode; note?: React.ReactNode }) {
  return (
    <section className="panel">
      <h2>{title}</h2>
      {note ? <p className="panel-note">{note}</p> : null}
      <div className="fields">{children}</div>
    </section>
  );
}

function QuantPanel() {
  const bits = useLab((s) => s.config.quant.bits);
  return (
    <Panel title="Quantizer">
      <SelectField label="Weight bits" path={['quant', 'bits']} testId="input-bits" options={bitOptions} />
      <SelectField
        label="Scale granularity"
        path={['quant', 'granularity']}
        testId="input-gran"
        options={granOptions}
        hint={bits === 1.58 ? '1.58-bit always uses one absmean scale per tensor.' : isFullPrecision(bits) ? 'Unused at 16/32 bits.' : 'Symmetric absmax scale.'}
      />
      <SelectField label="Quantized layers" path={['quant', 'layers']} testId="input-layers" options={layerOptions} />
      <SelectField
        label="Activation bits"
        path={['quant', 'actBits']}
        testId="input-abits"
        options={abitOptions}
        hint="Absmax per example on each quantized layer's input."
      />
    </Panel>
  );
}

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
      <NumberField label="Steps" path={[which, 'steps']} testId={`${p}steps`} min={1} hint={unit === 'steps' ? undefined : 'Not used: the length is in epochs.'} />
      <NumberField label="Epochs" path={[which, 'epochs']} testId={`${p}epochs`} min={1} hint={unit === 'epochs' ? undefined : 'Not used: the length is in steps.'} />
      <NumberField label="Batch size" path={[which, 'batch']} testId={`${p}batch`} min={1} />
      <SelectField label="LR schedule" path={[which, 'schedule']} testId={`${p}sched`} options={schedOptions} />
      <NumberField label="Weight decay" path={[which, 'weightDecay']} testId={`${p}wd`} step={0.01} min={0} />
      <NumberField label="Seed" path={[which, 'seed']} testId={`${p}seed`} min={0} hint={which === 'qaft' ? 'Batch order (scratch init also).' : 'Init and batch order.'} />
    </>
  );
}

export function Settings() {
  const busy = useLab(isBusy);
  const bits = useLab((s) => s.config.quant.bits);
  return (
    <fieldset className="settings" disabled={busy} aria-label="Experiment settings">
      {busy ? <p className="settings-locked">Settings are locked while an experiment runs.</p> : null}
      <QuantPanel />
      <Panel title={`QAFT and scratch training (${formatBits(bits)})`} note="QAFT continues from the FP model; scratch trains the quantized model from a random init with the same budget.">
        <TrainFields which="qaft" />
      </Panel>
      <Panel title="FP pretraining" note="Full-precision model that RTN and QAFT start from. Reused while these, data and model settings are unchanged.">
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
        <NumberField label="Log every (steps)" path={['logEvery']} testId="input-log" min={1} hint="Loss read back from the GPU and test loss evaluated this often." />
      </Panel>
    </fieldset>
  );
}
