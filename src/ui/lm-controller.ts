/**
 * The language-model task's requests to the worker that are not runs: the user's own text
 * (lmText), checkpoint files dropped on the page (lmFiles), fresh text samples from kept
 * models (sample) and a kept model's weights as safetensors (exportWeights, downloaded), and
 * their answers into the LM store.
 */
import type { ExperimentConfig } from '../engine/core/config';
import type { RunRecord } from '../engine/core/runs';
import type { WorkerResponse } from '../engine/protocol';
import type { LabClient } from '../worker/client';
import { downloadBlob, slug } from './download';
import { LM_VIEW_IDS, useLm, type LmViewId } from './lm-store';
import { METHOD_LABEL } from './runs';
import { isWorking, useLab } from './store';

let client: LabClient | null = null;
let counter = 0;

const lab = useLab.getState;
const lm = useLm.getState;
const setLm = useLm.setState;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function attachLmClient(c: LabClient | null): void {
  client = c;
}

function ready(what: string): boolean {
  const s = lab();
  if (!client || s.backendPhase !== 'ready') {
    s.addMessage('warning', `${what}: the engine is not ready yet; try again once the backend has started.`);
    return false;
  }
  return true;
}

/** Hand the worker the user's own text (corpus "own"); it replaces any text held before. */
export function sendOwnText(name: string, text: string): void {
  if (!ready('Your text')) return;
  setLm({ pending: { kind: 'text', label: name }, assetError: null });
  client?.lmText(name, text);
}

/** Read files dropped or picked (text files for corpus "own"). */
export async function sendTextFile(file: File): Promise<void> {
  try {
    sendOwnText(file.name, await file.text());
  } catch (e) {
    setLm({ pending: null, assetError: `${file.name} could not be read: ${errorText(e)}` });
  }
}

/** Hand the worker checkpoint files (config.json, model.safetensors, tokenizer.json). */
export async function sendCheckpointFiles(files: File[]): Promise<void> {
  if (!ready('Checkpoint files')) return;
  const label = files.map((f) => f.name).join(', ');
  setLm({ pending: { kind: 'files', label }, assetError: null });
  try {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
    client?.lmFiles(read);
  } catch (e) {
    setLm({ pending: null, assetError: `The files could not be read: ${errorText(e)}` });
  }
}

/**
 * Files dropped on the page while the language model is open (not on a drop zone): checkpoint
 * files (.json, .safetensors) go to the Model panel's files, a .txt file becomes the own text;
 * the files it does not take come back.
 */
export function openLmFiles(files: File[]): File[] {
  const s = lab();
  const ckpt = files.filter((f) => /\.(json|safetensors)$/i.test(f.name));
  const text = files.filter((f) => /\.txt$/i.test(f.name) || f.type === 'text/plain');
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
  return files.filter((f) => !ckpt.includes(f) && !text.includes(f));
}

/** A link's `view=` that names a tab of the LM views opens it. */
export function showLmView(view: string): void {
  if ((LM_VIEW_IDS as readonly string[]).includes(view)) setLm({ view: view as LmViewId });
}

// ---------------------------------------------------------------- samples

interface SampleJob {
  id: string;
  run: RunRecord;
  prompt: string;
}
let queue: SampleJob[] = [];
let current: SampleJob | null = null;
let probeId: string | null = null;
let total = 0;

const settingsLabel = (c: ExperimentConfig) => `${c.lm.sampleLength} tokens, temperature ${c.lm.sampleTemp}, seed ${c.lm.sampleSeed}`;

/**
 * Ask the worker for new samples from the models of `runs` (those finished in this page
 * session: the others' weights are gone) with `prompt` and the current sampling settings.
 * Returns the runs skipped and why.
 */
export function requestSamples(runs: RunRecord[], prompt: string): string[] {
  const s = lab();
  if (!client || s.backendPhase !== 'ready' || isWorking(s)) return ['The engine is busy or not ready.'];
  const session = new Set(s.sessionRunIds);
  const notes: string[] = [];
  const jobs = runs.filter((r) => {
    if (session.has(r.id)) return true;
    notes.push(`${METHOD_LABEL[r.method]}: "${r.name}" is from an earlier page session; its weights are not in the engine (run it again).`);
    return false;
  });
  if (jobs.length === 0) return notes;
  const settings = settingsLabel(s.config);
  queue = jobs.map((run) => {
    counter += 1;
    return { id: `sample-${counter}`, run, prompt };
  });
  total = queue.length;
  probeId = queue[0].id;
  setLm((st) => {
    const samples = { ...st.samples };
    for (const j of queue) samples[j.run.id] = { prompt, settings, text: null, error: null };
    return { samples };
  });
  useLab.setState({ probe: { id: probeId, kind: 'samples', phase: 'text samples', done: 0, total } });
  next();
  return notes;
}

function next(): void {
  current = queue.shift() ?? null;
  if (!current) {
    probeId = null;
    useLab.setState({ probe: null });
    return;
  }
  const c = lab().config;
  // The run's own config (it finds the model), with the current sampling settings.
  const config: ExperimentConfig = structuredClone(current.run.config);
  config.lm.prompt = current.prompt;
  config.lm.sampleLength = c.lm.sampleLength;
  config.lm.sampleTemp = c.lm.sampleTemp;
  config.lm.sampleSeed = c.lm.sampleSeed;
  config.backend = c.backend;
  const p = lab().probe;
  if (p && p.id === probeId) useLab.setState({ probe: { ...p, done: total - queue.length - 1 } });
  client?.sample(current.id, config, current.run.id, current.prompt);
}

function answer(runId: string, text: string | null, error: string | null): void {
  setLm((st) => {
    const prev = st.samples[runId];
    return prev ? { samples: { ...st.samples, [runId]: { ...prev, text, error } } } : {};
  });
  next();
}

// ---------------------------------------------------------------- weights

let weightsJob: { id: string; run: RunRecord } | null = null;

/** Ask the worker for a run's weights as safetensors (lm/export.ts); the answer is downloaded. */
export function requestWeights(run: RunRecord): void {
  if (!ready('Download weights')) return;
  const s = lab();
  if (isWorking(s) || weightsJob) {
    s.addMessage('warning', 'Download weights: wait for the running experiment (or export) to finish first.');
    return;
  }
  if (!s.sessionRunIds.includes(run.id)) {
    s.addMessage('warning', `Download weights: "${run.name}" is from an earlier page session; its weights are not in the engine (run it again).`);
    return;
  }
  counter += 1;
  weightsJob = { id: `weights-${counter}`, run };
  setLm({ exporting: run.id });
  client?.exportWeights(weightsJob.id, run.id);
}

function weightsAnswer(m: Extract<WorkerResponse, { type: 'weights' }>): void {
  const job = weightsJob;
  weightsJob = null;
  setLm({ exporting: null });
  if (!job || job.id !== m.id) return;
  const base = slug(job.run.name);
  for (const f of m.files) {
    const json = f.name.endsWith('.json');
    downloadBlob(
      new Blob([f.bytes], { type: json ? 'application/json' : 'application/octet-stream' }),
      f.name === 'model.safetensors' ? `${base}.safetensors` : `${base}.${f.name}`,
    );
  }
  const layout = { gpt2: 'GPT-2 (Hugging Face)', 'gpt-neox': 'GPT-NeoX (Hugging Face)', lab: "the lab's own checkpoint" }[m.layout] ?? m.layout;
  lab().addMessage(
    'info',
    `Downloaded the weights of "${job.run.name}" as ${base}.safetensors in ${layout} layout, with ${m.files
      .filter((f) => f.name !== 'model.safetensors')
      .map((f) => `${base}.${f.name}`)
      .join(' and ')}.${m.notes.length ? ` ${m.notes.join(' ')}` : ''}`,
  );
}

/** Handle an LM answer (true), or leave the message to the caller (false). */
export function handleLmMessage(m: WorkerResponse): boolean {
  switch (m.type) {
    case 'assets':
      // An error about the same request (posted just before) stays on screen until the next one.
      setLm({ assets: { text: m.text, files: m.files }, pending: null });
      return true;
    case 'sample':
      if (current && m.id === current.id) answer(current.run.id, m.text, null);
      return true;
    case 'weights':
      weightsAnswer(m);
      return true;
    case 'error':
      if (m.id !== undefined && m.id.startsWith('weights-')) {
        const job = weightsJob;
        weightsJob = null;
        setLm({ exporting: null });
        lab().addMessage('error', `Download weights${job ? ` of "${job.run.name}"` : ''}: ${m.message}`);
        return true;
      }
      if (m.id !== undefined && m.id.startsWith('sample-')) {
        if (current && m.id === current.id) answer(current.run.id, null, m.message);
        return true;
      }
      // An error while a text or files were being handed over is their answer; it is also
      // shown in the page's messages (the caller goes on).
      if (m.id === undefined && lm().pending) setLm({ pending: null, assetError: m.message });
      return false;
    default:
      return false;
  }
}

/** The worker restarted: nothing is in flight. */
export function resetLm(): void {
  queue = [];
  current = null;
  probeId = null;
  weightsJob = null;
  setLm({ pending: null, exporting: null });
}
