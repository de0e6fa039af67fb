/** Character-level tokenizer: the vocabulary is the sorted set of distinct characters of a text. */

export interface CharTokenizer {
  /** The characters, id order (sorted by code point). */
  chars: string[];
  vocab: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** Characters by code point (so surrogate pairs stay one token). */
const splitChars = (text: string): string[] => Array.from(text);

export function charTokenizer(text: string): CharTokenizer {
  const chars = [...new Set(splitChars(text))].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
  if (chars.length === 0) throw new Error('charTokenizer: the text is empty, so there is no vocabulary');
  const index = new Map(chars.map((c, i) => [c, i]));
  const show = (c: string) => JSON.stringify(c);
  return {
    chars,
    vocab: chars.length,
    encode(s: string): Int32Array {
      const cs = splitChars(s);
      const out = new Int32Array(cs.length);
      for (let i = 0; i < cs.length; i++) {
        const id = index.get(cs[i]);
        if (id === undefined)
          throw new Error(
            `charTokenizer: character ${show(cs[i])} (U+${(cs[i].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) at position ${i} is not in the vocabulary`,
          );
        out[i] = id;
      }
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      let s = '';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (!Number.isInteger(id) || id < 0 || id >= chars.length)
          throw new Error(`charTokenizer: token id ${id} at position ${i} is outside the vocabulary (0–${chars.length - 1})`);
        s += chars[id];
      }
      return s;
    },
  };
}

/** Entropy (nats) of the character frequencies of `ids`: the NLL of the best unigram model. */
export function unigramEntropy(ids: ArrayLike<number>, vocab: number): number {
  const counts = new Float64Array(vocab);
  for (let i = 0; i < ids.length; i++) counts[ids[i]] += 1;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}
