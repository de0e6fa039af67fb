/** The settings column: the task switch, then the open task's settings panels. */
import { isBusy, useLab } from '../store';
import { TaskSwitch } from './lm/TaskSwitch';
import { TASK_PARTS } from './task-parts';

export function Settings() {
  const busy = useLab(isBusy);
  const task = useLab((s) => s.config.task);
  const Panels = TASK_PARTS[task].Settings;
  return (
    <fieldset className="settings" disabled={busy} aria-label="Experiment settings">
      <TaskSwitch />
      {busy ? <p className="settings-locked">Settings are locked while an experiment runs.</p> : null}
      <Panels />
    </fieldset>
  );
}
