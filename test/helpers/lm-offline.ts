/** An LM environment with no network, and a small repetitive text for the LmLab tests. */
import type { LmEnv } from '../../src/engine/lm/assets';

export const OFFLINE_TEXT = Array.from(
  { length: 60 },
  (_, i) => `day ${i % 7}: the cat sat on the mat. the dog ran to ${i % 3 ? 'the park' : 'the sea'}.\n`,
).join('');

export const OFFLINE_ENV: LmEnv = {
  fetchText: async (url) => {
    throw new Error(`no network in this test (${url})`);
  },
  fetchBytes: async (url) => {
    throw new Error(`no network in this test (${url})`);
  },
};
