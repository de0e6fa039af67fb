/**
 * Files dropped on the page or picked: a runs export (JSON with "format": "qaft-lab-runs") is
 * imported, whatever the drop target; other files go where the target sends them (the language
 * model's checkpoint and text drop zones), or, dropped anywhere else, to the open task when it
 * takes dropped files (ui/tasks.ts `drop`: the language model's checkpoint, .json and
 * .safetensors, or text, .txt). Anything else gets a message saying what the file is not. Dropping a file on the page never navigates away from it.
 */
import { RUNS_FORMAT } from '../engine/runfile';
import { importRunsText } from './controller';
import { useLab } from './store';
import { UI_TASKS } from './tasks';

/** A runs export says so near its start; a cut or mangled one too (and is then refused with the reason). */
const RUNS_TAG = new RegExp(`"format"\\s*:\\s*"${RUNS_FORMAT}"`);
const looksJson = (f: File) => /\.json$/i.test(f.name) || f.type === 'application/json';

/** Import a file as a runs export (a file that is not one gets a message saying why). */
export async function importRunsFile(f: File): Promise<void> {
  let text;
  try {
    text = await f.text();
  } catch (e) {
    useLab.getState().addMessage('error', `${f.name} could not be read (${e instanceof Error ? e.message : String(e)}); nothing was changed.`);
    return;
  }
  importRunsText(text, f.name);
}

/** The open task's handling of files dropped on the page (none: it takes no files). */
const taskDrop = () => UI_TASKS[useLab.getState().config.task].drop;

/** Import the runs exports among `files`; the other files go to `other` (by default: to the open task, see above). */
export async function openFiles(files: File[], other?: (files: File[]) => void): Promise<void> {
  const rest: File[] = [];
  for (const f of files) {
    const head = looksJson(f) ? await f.slice(0, 4096).text() : '';
    // Without a task that takes dropped files, any JSON file is read as a runs export (and refused with the reason).
    if (RUNS_TAG.test(head) || (looksJson(f) && !other && !taskDrop())) await importRunsFile(f);
    else rest.push(f);
  }
  if (rest.length === 0) return;
  if (other) other(rest);
  else toTask(rest);
}

function toTask(files: File[]): void {
  const drop = taskDrop();
  const unknown = drop ? drop.open(files) : files;
  if (unknown.length)
    useLab
      .getState()
      .addMessage('error', `${unknown.map((f) => f.name).join(', ')}: not a QAFT Lab runs export (.json)${drop ? `, ${drop.what}` : ''}; nothing was changed.`);
}

/** Dropping files anywhere on the page (outside a drop zone, which handles its own) opens them. */
export function installPageDrop(): void {
  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  window.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    const handled = e.defaultPrevented;
    // Without this the browser would open the file instead of the page.
    e.preventDefault();
    if (e.dataTransfer && !handled) e.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    const handled = e.defaultPrevented;
    e.preventDefault();
    if (handled) return;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) void openFiles(files);
  });
}
