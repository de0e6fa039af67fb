/** The experiment: the polynomial-fitting MLP toy or language modelling with a small transformer. */
import { TASKS, type Task } from '../../../engine/core/config';
import { useLab } from '../../store';

const LABEL: Record<Task, string> = { poly: 'Polynomial toy', lm: 'Language model' };
const TITLE: Record<Task, string> = {
  poly: 'An MLP learns to fit polynomials through 7 points (MSE): fast, every view of the lab',
  lm: 'A small decoder-only transformer learns to write text (validation NLL, perplexity, text samples)',
};

export function TaskSwitch() {
  const task = useLab((s) => s.config.task);
  const setField = useLab((s) => s.setField);
  return (
    <div className="task-switch" role="radiogroup" aria-label="Experiment" data-testid="task-switch">
      {TASKS.map((t) => (
        <button
          key={t}
          type="button"
          role="radio"
          aria-checked={task === t}
          className={task === t ? 'active' : ''}
          data-testid={`task-${t}`}
          title={TITLE[t]}
          onClick={() => setField(['task'], t)}
        >
          {LABEL[t]}
        </button>
      ))}
    </div>
  );
}
