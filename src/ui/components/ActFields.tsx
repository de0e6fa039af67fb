/**
 * Activation quantization beyond the bits (observer, granularity, format) and AWQ / SmoothQuant:
 * the same fields in the toy's and the language model's Quantizer panels (config group `act`).
 */
import { ACT_FORMATS, ACT_GRANULARITIES, ACT_OBSERVERS, SMOOTHINGS, type ActConfig } from '../../engine/core/config';
import { configProblems, problemsAt } from '../problems';
import { useLab } from '../store';
import { NumberField, SelectField, type Option } from './fields';

const OBSERVER_LABEL: Record<ActConfig['observer'], string> = {
  dynamic: 'dynamic',
  minmax: 'min-max',
  percentile: 'percentile',
  mse: 'MSE clipping',
  ema: 'EMA min-max',
};
const SMOOTH_LABEL: Record<ActConfig['smooth'], string> = { none: 'none', awq: 'AWQ', smoothquant: 'SmoothQuant' };
const opts = <T extends string>(xs: readonly T[], label: (x: T) => string = (x) => x): Option<T>[] => xs.map((value) => ({ value, label: label(value) }));

export function ActFields({ what }: { what: string }) {
  const config = useLab((s) => s.config);
  const problems = configProblems(config);
  const a = config.act;
  const on = config.quant.actBits > 0;
  return (
    <>
      <SelectField
        label="Activation observer"
        path={['act', 'observer']}
        testId="input-aobs"
        options={opts(ACT_OBSERVERS, (o) => OBSERVER_LABEL[o])}
        problem={problemsAt(problems, 'aobs')}
        hint={
          !on
            ? 'Used when activation bits are on.'
            : a.observer === 'dynamic'
              ? `The scale of each ${what} (or of the batch) from its own absmax.`
              : 'Static: one scale per tensor, calibrated on the data budget before the run (and again on the final weights); values beyond it clip.'
        }
      />
      <SelectField
        label="Activation scale"
        path={['act', 'granularity']}
        testId="input-agran"
        options={opts(ACT_GRANULARITIES, (g) => (g === 'token' ? `per ${what}` : 'per tensor'))}
        problem={problemsAt(problems, 'agran')}
      />
      <SelectField label="Activation format" path={['act', 'format']} testId="input-afmt" options={opts(ACT_FORMATS)} problem={problemsAt(problems, 'afmt')} />
      {a.observer === 'percentile' && (
        <NumberField
          label="Percentile of |x|"
          path={['act', 'percentile']}
          testId="input-apct"
          step={0.1}
          hint="Linear interpolation between order statistics."
        />
      )}
      {a.observer === 'ema' && <NumberField label="EMA decay" path={['act', 'emaDecay']} testId="input-aema" step={0.05} hint="m ← d·m + (1 − d)·batch max." />}
      <SelectField
        label="Scale migration"
        path={['act', 'smooth']}
        testId="input-smooth"
        options={opts(SMOOTHINGS, (s) => SMOOTH_LABEL[s])}
        problem={problemsAt(problems, 'smooth')}
        hint={
          a.smooth === 'awq'
            ? 'AWQ: s = mean|x|^α, α searched per layer; weights quantized as diag(s)·W, activations as x/s.'
            : 'Per-input-channel scales s: weights quantized as diag(s)·W, activations as x/s (RTN, GPTQ, QAFT, GPTQ→QAFT).'
        }
      />
      {a.smooth === 'smoothquant' && (
        <NumberField label="SmoothQuant α" path={['act', 'alpha']} testId="input-salpha" step={0.05} hint="s = max|x|^α / max|W|^(1−α)." />
      )}
    </>
  );
}
