/** Settings of the PTQ side (GPTQ, the shared data budget) and of the sweep / PTQ-vs-QAFT plans. */
import { BITS, formatBits, formatLr, layerDims } from '../../engine/core/config';
import { planProblems, problemsAt } from '../problems';
import { useLab } from '../store';
import { CheckboxField, ListField, NumberField } from './fields';
import { Panel } from './Panel';

export function PtqPanel() {
  const trainSize = useLab((s) => s.config.data.trainSize);
  const budget = useLab((s) => s.config.data.budget);
  const used = budget === 0 || budget >= trainSize ? trainSize : budget;
  return (
    <Panel
      title="PTQ (GPTQ) and data budget"
      testId="ptq-panel"
      note="After FP pretraining (which always uses all training examples), every method gets the same data: GPTQ calibrates on it, QAFT and scratch train on it."
    >
      <NumberField
        label="Data budget"
        path={['data', 'budget']}
        testId="input-budget"
        min={0}
        hint={
          <>
            {budget === 0 ? 'All' : 'The first'} {used} training examples{budget === 0 ? ' (0 = all)' : ''}: GPTQ's calibration set and QAFT's / scratch's
            training set.{budget > trainSize ? ` Larger than the ${trainSize} training examples: all are used.` : ''}
          </>
        }
      />
      <NumberField
        label="GPTQ damping"
        path={['gptq', 'damp']}
        testId="input-damp"
        step={0.005}
        min={0}
        hint="Added to diag(H) as a fraction of its mean, so H can be inverted."
      />
      <NumberField
        label="GPTQ block size"
        path={['gptq', 'blockSize']}
        testId="input-gblock"
        min={1}
        hint="Columns quantized together before the error is pushed to later columns."
      />
      <CheckboxField
        label="GPTQ act-order"
        path={['gptq', 'actOrder']}
        testId="input-actorder"
        hint="Quantize the columns with the largest diag(H) (most used inputs) first."
      />
    </Panel>
  );
}

const bitsCheck = (b: number) => ((BITS as readonly number[]).includes(b) ? null : `${b} is not a bit-width (use ${BITS.join(', ')}).`);
const lrCheck = (x: number) => (x > 0 && x <= 10 ? null : `${x} is not a learning rate in (0, 10].`);

export function SweepPanel() {
  const config = useLab((s) => s.config);
  const { bits, lrs } = config.sweep;
  const problems = [...planProblems(config, 'ptq')];
  const n = layerDims(config.model).length - 1;
  const allOverridden = Array.from({ length: n }, (_, i) => config.quant.overrides.some((o) => o.layer === i)).every(Boolean);
  return (
    <Panel
      title="Sweep and PTQ vs QAFT"
      testId="sweep-panel"
      note="Run sweep: RTN and QAFT at every bit-width × learning rate. PTQ vs QAFT: RTN, GPTQ and QAFT at every bit-width, same data budget."
    >
      <ListField
        label="Bit-widths"
        path={['sweep', 'bits']}
        testId="input-sweep-bits"
        show={String}
        check={bitsCheck}
        problem={problemsAt(problems, 'sweep_bits')}
        hint={
          allOverridden
            ? 'Every layer has its own bits (mixed precision): the bit-widths here change nothing. Clear the overrides to sweep them.'
            : `${bits.map(formatBits).join(', ')}: comma-separated.`
        }
      />
      <ListField
        label="QAFT learning rates"
        path={['sweep', 'lrs']}
        testId="input-sweep-lr"
        show={formatLr}
        check={lrCheck}
        hint={`${bits.length} × ${lrs.length} = ${bits.length * lrs.length} QAFT runs in a sweep.`}
      />
    </Panel>
  );
}
