/**
 * Read an experiment from a share URL, a bare `key=value&…` string, a preset id, or a JSON config
 * file. Problems with single settings become messages naming the key (or the file's path to it);
 * an argument that cannot be read at all (a missing or unreadable file, a file that holds no
 * settings) is an Error with a message for the user. Nothing else is thrown.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ExperimentConfig } from '../engine/core/config';
import { configFromJson } from '../engine/configfile';
import { PRESETS, presetById } from '../engine/presets';
import type { Plan } from '../engine/core/plans';
import { quote } from '../engine/settings';
import { parseParams } from '../engine/url';

export interface Loaded {
  config: ExperimentConfig;
  messages: string[];
  /** The plan a link's `run=ptq|sweep` names (a file or a link without one: undefined). */
  plan?: Plan;
}

/** Largest config file read (a saved run with long curves is well under this). */
const MAX_FILE_BYTES = 64 * 2 ** 20;

/** A link is a URL with a scheme, a `#…`/`?…` part, or `key=value` pairs; anything else names a file or a preset. */
function isLink(arg: string): boolean {
  return arg.includes('=') || /^[a-z][a-z\d+.-]*:\/\//i.test(arg.trim()) || /^[#?]/.test(arg.trim());
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error(`${file} is not a file`);
    if (st.size > MAX_FILE_BYTES) throw new Error(`${file} is ${st.size} bytes, over the limit of ${MAX_FILE_BYTES} for a config file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code ? `${file} could not be read (${err.code})` : err.message);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function fileExists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

export function loadExperiment(arg: string): Loaded {
  const preset = presetById(arg);
  if (preset) {
    const p = parseParams(preset.params);
    return { config: p.config, messages: p.messages, plan: p.run ?? undefined };
  }
  if (fileExists(arg) || !isLink(arg)) {
    if (!fileExists(arg)) throw new Error(`No file ${quote(arg)}, and it is no preset id (${PRESETS.map((p) => p.id).join(', ')}) or link (key=value&…).`);
    const read = configFromJson(readJsonFile(arg), arg);
    return { config: read.config, messages: read.messages };
  }
  const p = parseParams(arg);
  return { config: p.config, messages: p.messages, plan: p.run ?? undefined };
}
