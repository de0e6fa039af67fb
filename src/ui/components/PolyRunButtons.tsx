/** The polynomial task's run buttons: the comparison, one per method, PTQ vs QAFT and the sweep. */
import { methodsOf } from '../../engine/core/methods';
import { startComparison, startPtqVsQaft, startSweep } from '../controller';
import { useLab } from '../store';
import { MethodButtons, type RunButtonsProps } from './MethodButtons';

const METHODS = methodsOf('poly');

export function PolyRunButtons({ canRun, canPlan, methodWhy }: RunButtonsProps) {
  const sweep = useLab((s) => s.config.sweep);
  const nSweep = sweep.bits.length;
  return (
    <>
      <button type="button" className="primary" data-testid="run-comparison" disabled={!canRun} onClick={startComparison} title="FP → RTN → QAFT → scratch">
        Run comparison
      </button>
      <MethodButtons methods={METHODS} canRun={canRun} methodWhy={methodWhy} />
      <span className="sep" />
      <button
        type="button"
        className="plan"
        data-testid="run-ptq"
        disabled={!canPlan}
        onClick={startPtqVsQaft}
        title={`RTN, GPTQ and QAFT at ${sweep.bits.join(', ')} bits on the same data budget (${3 * nSweep} runs, plus FP if needed)`}
      >
        PTQ vs QAFT
      </button>
      <button
        type="button"
        className="plan"
        data-testid="run-sweep"
        disabled={!canPlan}
        onClick={startSweep}
        title={`QAFT at every bit-width × learning rate of the sweep, and RTN per bit-width (${nSweep * (sweep.lrs.length + 1)} runs)`}
      >
        Run sweep
      </button>
    </>
  );
}
