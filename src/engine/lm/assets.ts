/**
 * Where the LM task's text, tokenizer and FP model come from: the shipped corpus and
 * checkpoint, the user's own text, a text URL, or a Hugging Face checkpoint (URL or files).
 * The environment (Web Worker or Node) supplies the fetching; this module decides what to load.
 */
import type { ExperimentConfig } from '../core/config';
import { charTokenizer } from './tokenizer';

/** What every tokenizer of the LM task offers. */
export interface LmTokenizer {
  vocab: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** Characters for the char tokenizer (saved in checkpoints). */
  chars?: string[];
}

/** How the engine reads resources: in the browser `fetch`, in Node the file system for site paths. */
export interface LmEnv {
  fetchText(url: string): Promise<string>;
  fetchBytes(url: string, maxBytes?: number): Promise<Uint8Array>;
  /** fetch for a Hugging Face checkpoint's files (default: the global fetch); Node's reads site paths from public/. */
  fetch?: typeof fetch;
}

/** Site paths of the shipped assets (public/lm/). */
export const BUILTIN_CORPUS = '/lm/corpus.txt';
export const BUILTIN_CHECKPOINT = '/lm/tiny-gpt.safetensors';
/** Largest checkpoint file the lab loads (distilgpt2/gpt2 fp32 ≈ 330/550 MB fit). */
export const MAX_CHECKPOINT_BYTES = 1.5 * 2 ** 30;
/** Largest text the lab tokenizes. */
export const MAX_TEXT_CHARS = 32 * 2 ** 20;

/** Checkpoint files dropped on the page (source 'files'). */
export interface HfFiles {
  config: string;
  weights: Uint8Array;
  tokenizer: string;
  name: string;
}

/** Sort dropped files into config.json, *.safetensors and tokenizer.json, or say what is missing. */
export function sortCheckpointFiles(files: { name: string; bytes: Uint8Array }[]): HfFiles {
  const find = (test: (n: string) => boolean) => files.find((f) => test(f.name.toLowerCase()));
  const config = find((n) => n.endsWith('config.json') && !n.includes('tokenizer') && !n.includes('generation'));
  const weights = find((n) => n.endsWith('.safetensors'));
  const tokenizer = find((n) => n.endsWith('tokenizer.json'));
  const missing = [!config && 'config.json', !weights && 'model.safetensors', !tokenizer && 'tokenizer.json'].filter(Boolean);
  if (missing.length) throw new Error(`The dropped files lack ${missing.join(', ')} (got ${files.map((f) => f.name).join(', ') || 'nothing'}).`);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { config: text(config!.bytes), weights: weights!.bytes, tokenizer: text(tokenizer!.bytes), name: weights!.name.replace(/\.safetensors$/i, '') };
}

/** A short, stable hash of a text (FNV-1a 32-bit over UTF-16 units), to key caches on the user's own text. */
export function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${h.toString(16).padStart(8, '0')}:${s.length}`;
}

/** Read the corpus of a config: shipped, own (given), or fetched from its URL. */
export async function loadCorpus(c: ExperimentConfig, env: LmEnv, own: { name: string; text: string } | null): Promise<{ text: string; label: string }> {
  const l = c.lm;
  let text: string;
  let label: string;
  if (l.corpus === 'own') {
    if (!own) throw new Error('"Use my own text" is selected but no text was given: paste text or drop a .txt file on the text panel.');
    text = own.text;
    label = own.name;
  } else if (l.corpus === 'url') {
    try {
      text = await env.fetchText(l.corpusUrl);
    } catch (e) {
      throw new Error(`The text at ${l.corpusUrl} could not be fetched: ${(e as Error).message}`);
    }
    label = l.corpusUrl;
  } else {
    text = await env.fetchText(BUILTIN_CORPUS);
    label = 'the lab corpus';
  }
  if (text.length > MAX_TEXT_CHARS)
    throw new Error(
      `The text (${label}) has ${text.length.toLocaleString('en-US')} characters; the lab takes at most ${MAX_TEXT_CHARS.toLocaleString('en-US')}.`,
    );
  const min = 4 * (l.context + 1) * 2;
  if (text.length < min)
    throw new Error(
      `The text (${label}) has only ${text.length} characters; it needs at least ${min} for training and validation windows of ${l.context} tokens.`,
    );
  return { text, label };
}

/** The char tokenizer of a text, or of a checkpoint's saved characters. */
export function charTokenizerOf(textOrChars: string | string[]): LmTokenizer {
  return charTokenizer(Array.isArray(textOrChars) ? textOrChars.join('') : textOrChars);
}

/**
 * Encode a prompt with the tokenizer. Characters the char tokenizer does not know are dropped
 * (named in the note) rather than failing the run.
 */
export function encodePrompt(tok: LmTokenizer, prompt: string): { ids: Int32Array; note: string | null } {
  if (!tok.chars) return { ids: tok.encode(prompt), note: null };
  const known = new Set(tok.chars);
  const chars = Array.from(prompt);
  const dropped = [...new Set(chars.filter((ch) => !known.has(ch)))];
  const ids = tok.encode(chars.filter((ch) => known.has(ch)).join(''));
  return {
    ids,
    note: dropped.length ? `The prompt's characters ${dropped.map((d) => JSON.stringify(d)).join(', ')} are not in the vocabulary and were left out.` : null,
  };
}
