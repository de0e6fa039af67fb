/**
 * Page state of the language-model task that is not part of the config (and so not of the
 * share link): the text and checkpoint files the worker holds, the text being pasted, samples
 * drawn afresh from kept models, the run whose weights are being exported, and the LM views' tab.
 */
import { create } from 'zustand';

export interface LmAssets {
  text: { name: string; chars: number } | null;
  files: { name: string; bytes: number }[];
}

/** A sample drawn on request from a kept model (the prompt included in `text`). */
export interface FreshSample {
  prompt: string;
  /** Sampling settings it was drawn with (length, temperature, seed), for display. */
  settings: string;
  text: string | null;
  error: string | null;
}

export const LM_VIEW_IDS = ['layers', 'pareto'] as const;
export type LmViewId = (typeof LM_VIEW_IDS)[number];

export interface LmState {
  assets: LmAssets;
  /** What was sent to the worker and is not answered yet. */
  pending: { kind: 'text' | 'files'; label: string } | null;
  /** The worker's answer to the last lmText / lmFiles when it was an error. */
  assetError: string | null;
  /** The textarea of "my own text" (not sent until "Use this text"). */
  draft: string;
  /** Fresh samples by run id. */
  samples: Record<string, FreshSample>;
  /** The run whose weights the worker is exporting (a download follows). */
  exporting: string | null;
  view: LmViewId;
  setDraft(t: string): void;
  setView(v: LmViewId): void;
}

export const useLm = create<LmState>()((set) => ({
  assets: { text: null, files: [] },
  pending: null,
  assetError: null,
  draft: '',
  samples: {},
  exporting: null,
  view: 'layers',
  setDraft: (t) => set({ draft: t }),
  setView: (v) => set({ view: v }),
}));
