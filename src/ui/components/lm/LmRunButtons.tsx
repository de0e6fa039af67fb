/** The language model's run buttons: the comparison, one per method, and all of them. */
import { startAllLm, startComparison } from '../../controller';
import { LM_ORDER } from '../../lm-select';
import { METHOD_LABEL } from '../../runs';
import { MethodButtons, type RunButtonsProps } from '../MethodButtons';

export function LmRunButtons({ canRun, methodWhy }: RunButtonsProps) {
  return (
    <>
      <button
        type="button"
        className="primary"
        data-testid="run-comparison"
        disabled={!canRun}
        onClick={startComparison}
        title="FP → RTN → GPTQ → QAFT (FP is reused while its settings are unchanged)"
      >
        Run comparison
      </button>
      <MethodButtons methods={LM_ORDER} canRun={canRun} methodWhy={methodWhy} />
      <span className="sep" />
      <button
        type="button"
        className="plan"
        data-testid="run-all"
        disabled={!canRun}
        onClick={startAllLm}
        title={`${LM_ORDER.map((m) => METHOD_LABEL[m]).join(', ')}, one after another`}
      >
        Run all
      </button>
    </>
  );
}
