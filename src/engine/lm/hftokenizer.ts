/**
 * A Hugging Face tokenizer.json (byte-level BPE of GPT-2 and GPT-NeoX, and the other models the
 * library reads) as the LM task's tokenizer, through @huggingface/tokenizers (pure JS, no
 * dependencies: runs in a Web Worker and in Node). Text is encoded without special tokens and
 * decoded without the "clean up spaces" pass, so byte-level BPE round-trips any text exactly.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export interface HfTokenizer {
  /** Ids run 0 … vocab − 1 (the model's vocabulary and added tokens). */
  vocab: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** The end-of-text token's id (e.g. "<|endoftext|>"), or null when the tokenizer has none. */
  eosId: number | null;
  /** The tokenizer model's type in tokenizer.json (e.g. "BPE"). */
  kind: string;
}

/** Names of end-of-text tokens, most specific first. */
const EOS_NAMES = ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>'];

/** A tokenizer from the text of a tokenizer.json; `name` is the file's name in error messages. */
export function parseHfTokenizer(json: string, name = 'tokenizer.json'): HfTokenizer {
  let spec: unknown;
  try {
    spec = JSON.parse(json);
  } catch (e) {
    throw new Error(`${name} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error(`${name} is not a JSON object`);
  const s = spec as Record<string, unknown>;
  const model = s.model as Record<string, unknown> | undefined;
  if (typeof model !== 'object' || model === null) throw new Error(`${name} has no "model" section, so it is not a Hugging Face tokenizer.json`);
  if (typeof model.vocab !== 'object' || model.vocab === null) throw new Error(`${name}: the model has no vocabulary ("model.vocab")`);
  const kind = typeof model.type === 'string' ? model.type : 'BPE';
  if (kind === 'BPE' && !Array.isArray(model.merges)) throw new Error(`${name}: the BPE model has no merges list ("model.merges")`);
  // The library requires these keys; null means "none" in tokenizer.json.
  const full = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...s };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(full, { clean_up_tokenization_spaces: false });
  } catch (e) {
    throw new Error(`${name} could not be read as a tokenizer: ${(e as Error).message}`);
  }
  const all = tok.get_vocab(true);
  let vocab = 0;
  for (const id of all.values()) vocab = Math.max(vocab, id + 1);
  if (vocab === 0) throw new Error(`${name}: the vocabulary is empty`);
  const eosName = EOS_NAMES.find((n) => all.has(n));
  const eosId = eosName === undefined ? null : (all.get(eosName) ?? null);

  return {
    vocab,
    eosId,
    kind,
    encode(text: string): Int32Array {
      const { ids, tokens } = tok.encode(text, { add_special_tokens: false });
      const out = new Int32Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (typeof id !== 'number' || !Number.isInteger(id))
          throw new Error(`${name}: the piece ${JSON.stringify(tokens[i])} at token ${i} has no id in the vocabulary (and there is no unknown token)`);
        out[i] = id;
      }
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      if (ids.length === 0) return '';
      const list = Array.from(ids);
      for (let i = 0; i < list.length; i++) {
        const id = list[i];
        if (!Number.isInteger(id) || id < 0 || id >= vocab || tok.id_to_token(id) === undefined) {
          throw new Error(`${name}: token id ${id} at position ${i} is not in the vocabulary (0–${vocab - 1})`);
        }
      }
      return tok.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
  };
}
