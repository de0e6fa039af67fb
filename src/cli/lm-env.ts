/**
 * The LM task's resource reader in Node.
 *
 * - Site paths ("/lm/corpus.txt", as a share link names them: text_url=/…, hf=/…) are read from
 *   the project's public/ folder and nothing outside it: a path that climbs out with "..", encoded
 *   or not, or a symbolic link that leads out is refused with a message.
 * - http(s) URLs are fetched; a failure is one line naming the reason (e.g. "getaddrinfo ENOTFOUND
 *   x.invalid"). Other schemes (file:, data:, …) are refused.
 * - Files the user names on the command line (--hf-dir, --text) are theirs to choose and are read
 *   as given: readHfDir and readTextFile.
 * - --export-weights writes a run's weights as safetensors where the user says: writeLmWeights.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../engine/core/config';
import type { RunRecord } from '../engine/core/runs';
import type { LmLab } from '../engine/lm/lab';
import { MAX_CHECKPOINT_BYTES, MAX_TEXT_CHARS, type HfFiles, type LmEnv } from '../engine/lm/assets';
import { fetchFailure } from '../engine/lm/hf';

/** The project's public/ folder: the site that share links' paths refer to. */
export const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../public');

const cut = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Whether `p` is `root` or inside it. */
function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The file in `root` (public/) that a site path names, or an Error saying why there is none: the
 * path is read as a browser would request it (query and fragment dropped, %-escapes decoded), and
 * any ".." segment, a NUL, or a symbolic link out of `root` is refused.
 */
export function sitePath(url: string, root: string = PUBLIC_DIR): string {
  if (!url.startsWith('/')) throw new Error(`${cut(url)} is not a site path (one starting with "/")`);
  let path: string;
  try {
    path = decodeURIComponent(url.replace(/[?#][\s\S]*$/, ''));
  } catch {
    throw new Error(`the site path ${cut(url)} has a malformed %-escape`);
  }
  const outside = `the site path ${cut(url)} leads out of the site; site paths are read from the project's public/ folder only (files of your own: --text FILE, --hf-dir DIR)`;
  if (path.includes('\0') || path.split(/[\\/]/).includes('..')) throw new Error(outside);
  const file = resolve(join(root, path));
  if (!inside(root, file)) throw new Error(outside);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new Error(`no file public${path} for the site path ${cut(url)}`);
  }
  if (!inside(realpathSync(root), real)) throw new Error(outside);
  return real;
}

/** A local file's bytes after checking that it is a file within `maxBytes`. */
function readLocal(file: string, label: string, maxBytes?: number): Uint8Array {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error(`${label} is not a file`);
    size = st.size;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code ? `no file ${label} (${err.code})` : err.message);
  }
  if (maxBytes !== undefined && size > maxBytes)
    throw new Error(`${label} is ${size.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')}`);
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${label} could not be read (${err.code ?? err.message})`);
  }
}

const isRemote = (url: string) => /^https?:\/\//i.test(url);

/** Refuse anything that is neither an http(s) URL nor a site path. */
function checkUrl(url: string): void {
  if (!isRemote(url) && !url.startsWith('/')) throw new Error(`${cut(url)} is neither an http(s) URL nor a site path ("/…")`);
}

/** The global fetch, with HTTP errors refused; a failure is one line with the reason (the caller names the URL). */
async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(fetchFailure(e));
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  return res;
}

/**
 * fetch for the checkpoint files of hf=…: site paths from public/ (confined as above: a refusal is
 * a plain Error, which fetchHfModel passes on as it is; a missing file is an HTTP 404), URLs from
 * the network.
 */
const nodeFetch: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (isRemote(url)) return fetch(input, init);
  checkUrl(url);
  let file: string;
  try {
    file = sitePath(url);
  } catch (e) {
    if (/^no file /.test((e as Error).message)) {
      // Say where a link's site path was looked for, and how to name a folder elsewhere.
      const statusText = `Not Found in public/ (a link's paths starting with "/" are read from the project's public/ folder; pass --hf-dir DIR or --text FILE for files elsewhere)`;
      return new Response('not found', { status: 404, statusText });
    }
    throw e;
  }
  const bytes = readLocal(file, url);
  return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.length) } });
};

export const nodeLmEnv: LmEnv = {
  async fetchText(url) {
    checkUrl(url);
    if (isRemote(url)) return (await fetchOk(url)).text();
    return new TextDecoder().decode(readLocal(sitePath(url), url));
  },
  async fetchBytes(url, maxBytes) {
    checkUrl(url);
    if (isRemote(url)) {
      const buf = new Uint8Array(await (await fetchOk(url)).arrayBuffer());
      if (maxBytes !== undefined && buf.length > maxBytes)
        throw new Error(`${url} is ${buf.length.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')}`);
      return buf;
    }
    return readLocal(sitePath(url), url, maxBytes);
  },
  fetch: nodeFetch,
};

/**
 * A Hugging Face checkpoint folder on this machine (--hf-dir): its config.json, tokenizer.json and
 * model.safetensors (or its only *.safetensors file), as source 'files' takes them.
 */
export function readHfDir(dir: string): HfFiles {
  const label = `--hf-dir ${dir}`;
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${label}: ${dir} is not a folder`);
    names = readdirSync(dir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code ? `${label}: the folder could not be read (${err.code})` : err.message);
  }
  const weights = names.includes('model.safetensors') ? ['model.safetensors'] : names.filter((n) => n.toLowerCase().endsWith('.safetensors'));
  const missing = [
    !names.includes('config.json') && 'config.json',
    weights.length === 0 && 'model.safetensors',
    !names.includes('tokenizer.json') && 'tokenizer.json',
  ].filter(Boolean);
  if (missing.length) throw new Error(`${label}: the folder has no ${missing.join(', ')} (it must hold config.json, model.safetensors and tokenizer.json)`);
  if (weights.length > 1)
    throw new Error(
      `${label}: the folder has ${weights.length} .safetensors files (${weights.slice(0, 3).join(', ')}${weights.length > 3 ? ', …' : ''}) and no model.safetensors; sharded checkpoints are not supported`,
    );
  const text = (name: string) => new TextDecoder().decode(readLocal(join(dir, name), join(dir, name), 64 * 2 ** 20));
  return {
    config: text('config.json'),
    tokenizer: text('tokenizer.json'),
    weights: readLocal(join(dir, weights[0]), join(dir, weights[0]), MAX_CHECKPOINT_BYTES),
    name: basename(resolve(dir)),
  };
}

/** A text file on this machine (--text) as the user's own text (UTF-8). */
export function readTextFile(file: string): { name: string; text: string } {
  const bytes = readLocal(file, `--text ${file}`, 4 * MAX_TEXT_CHARS);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`--text ${file}: the file is not UTF-8 text`);
  }
  return { name: basename(file), text };
}

/**
 * The LM task's local files from the command line: --hf-dir DIR (the model source becomes
 * 'files') and --text FILE (the text becomes 'own'), which a link cannot carry. A link that asks
 * for files or its own text without the flag is an Error for the user (the flags on another task:
 * cli/tasks.ts). `notes` says which settings the flags changed.
 */
export function localLmAssets(
  config: ExperimentConfig,
  o: { hfDir?: string; text?: string },
): { files: HfFiles | null; own: { name: string; text: string } | null; notes: string[] } {
  const notes: string[] = [];
  const l = config.lm;
  if (o.hfDir !== undefined && l.source !== 'files') {
    notes.push(`--hf-dir: the model source is the folder's checkpoint (lm_src=files, not ${l.source})`);
    l.source = 'files';
  }
  if (o.text !== undefined && l.corpus !== 'own') {
    notes.push(`--text: the text is the file's (text=own, not ${l.corpus})`);
    l.corpus = 'own';
  }
  if (l.source === 'files' && o.hfDir === undefined)
    throw new Error('lm_src=files needs --hf-dir DIR: a folder with config.json, model.safetensors and tokenizer.json');
  if (l.corpus === 'own' && o.text === undefined) throw new Error('text=own needs --text FILE: a UTF-8 text file');
  return { files: o.hfDir === undefined ? null : readHfDir(o.hfDir), own: o.text === undefined ? null : readTextFile(o.text), notes };
}

/** --export-weights: write the last quantized run's weights (else the FP model's) as safetensors (see lab.ts's header). */
export async function writeLmWeights(
  lmLab: LmLab,
  runs: RunRecord[],
  target: string,
): Promise<{ run: string; layout: string; files: string[]; quantized: string[] }> {
  const done = runs.filter((r) => r.status === 'done');
  const run = done.filter((r) => r.method !== 'fp').at(-1) ?? done.at(-1);
  if (!run) throw new Error('--export-weights: no run finished, so there are no weights to write');
  const out = await lmLab.exportWeights(run.id);
  const single = target.toLowerCase().endsWith('.safetensors');
  const base = single ? target.slice(0, -'.safetensors'.length) : '';
  if (!single) mkdirSync(target, { recursive: true });
  const files = out.files.map((f) => {
    const file = single ? (f.name === 'model.safetensors' ? target : `${base}.${f.name}`) : join(target, f.name);
    writeFileSync(file, f.bytes);
    return file;
  });
  process.stderr.write(
    `lab: wrote the weights of [${run.name}] (${out.layout} layout, ${out.quantized.length} quantized matrices with codes): ${files.join(', ')}\n`,
  );
  for (const n of out.notes) process.stderr.write(`lab: ${n}\n`);
  return { run: run.name, layout: out.layout, files, quantized: out.quantized };
}
