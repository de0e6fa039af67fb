/** The experiment: the polynomial-fitting MLP toy or language modelling with a small transformer. */
import { TASKS } from '../../../engine/core/config';
import { useLab } from '../../store';
import { UI_TASKS } from '../../tasks';

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
          title={UI_TASKS[t].title}
          onClick={() => setField(['task'], t)}
        >
          {UI_TASKS[t].label}
        </button>
      ))}
    </div>
  );
}
