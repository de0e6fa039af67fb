/**
 * Files dropped on the page or picked: a runs export (JSON with "format": "qaft-lab-runs") is
 * imported, whatever the drop target; other files go where the target sends them (the language
 * model's checkpoint and text drop zones), or, dropped anywhere else, to the language model's
 * checkpoint (.json, .safetensors) or text (.txt) when that task is open. Anything else gets a
 * message saying what the file is not. Dropping a file on the page never navigates away from it.
 */
import { RUNS_FORMAT } from '../engine/runfile';
import { importRunsText } from './controller';
import { sendCheckpointFiles, sendTextFile } from './lm-controller';
import { useLab } from './store';

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

/** Import the runs exports among `files`; the other files go to `other` (by default: by type, see above). */
export async function openFiles(files: File[], other?: (files: File[]) => void): Promise<void> {
  const rest: File[] = [];
  for (const f of files) {
    const head = looksJson(f) ? await f.slice(0, 4096).text() : '';
    if (RUNS_TAG.test(head) || (looksJson(f) && !other && useLab.getState().config.task !== 'lm')) await importRunsFile(f);
    else rest.push(f);
  }
  if (rest.length === 0) return;
  if (other) other(rest);
  else byType(rest);
}

function byType(files: File[]): void {
  const s = useLab.getState();
  const ckpt = files.filter((f) => /\.(json|safetensors)$/i.test(f.name));
  const text = files.filter((f) => /\.txt$/i.test(f.name) || f.type === 'text/plain');
  const unknown = files.filter((f) => !ckpt.includes(f) && !text.includes(f));
  if (s.config.task === 'lm') {
    if (ckpt.length) {
      if (s.config.lm.source !== 'files') s.setField(['lm', 'source'], 'files');
      void sendCheckpointFiles(ckpt);
      s.addMessage('info', `${ckpt.map((f) => f.name).join(', ')} went to the language model's checkpoint files (Model panel).`);
    }
    if (text.length) {
      if (s.config.lm.corpus !== 'own') s.setField(['lm', 'corpus'], 'own');
      void sendTextFile(text[0]);
      s.addMessage('info', `${text[0].name} became the language model's own text (Text panel).`);
    }
  } else unknown.push(...ckpt, ...text);
  if (unknown.length)
    s.addMessage(
      'error',
      `${unknown.map((f) => f.name).join(', ')}: not a QAFT Lab runs export (.json)${s.config.task === 'lm' ? ', checkpoint file or .txt text' : ''}; nothing was changed.`,
    );
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
