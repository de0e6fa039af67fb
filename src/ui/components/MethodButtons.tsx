/** One run button per method (the comparison's row of buttons on both tasks). */
import { methodDef, type Method } from '../../engine/core/methods';
import { startMethods } from '../controller';
import { METHOD_LABEL } from '../runs';

/** What the run buttons of a task get: whether anything can run, whether the plans can, and why a method cannot. */
export interface RunButtonsProps {
  canRun: boolean;
  canPlan: boolean;
  methodWhy: (m: Method) => string[];
}

/** A method button's tooltip: the registry's summary, and what it reads besides the quantizer. */
export function methodTitle(m: Method): string {
  const d = methodDef(m);
  return `${d.summary}${d.reads.length ? ` Reads: ${d.reads.join(', ')}.` : ''}`;
}

/** A button for each of `methods`, disabled (with the reason in its tooltip) where the settings do not suit it. */
export function MethodButtons({ methods, canRun, methodWhy }: { methods: readonly Method[] } & Omit<RunButtonsProps, 'canPlan'>) {
  return (
    <>
      {methods.map((m) => (
        <button
          key={m}
          type="button"
          data-testid={`run-${m}`}
          disabled={!canRun || methodWhy(m).length > 0}
          onClick={() => startMethods([m])}
          title={[methodTitle(m), ...methodWhy(m)].join(' — ')}
        >
          {METHOD_LABEL[m]}
        </button>
      ))}
    </>
  );
}
