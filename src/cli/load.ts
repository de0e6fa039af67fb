/** Read an experiment from a share URL, a bare `key=value&…` string, a preset id, or a JSON config file. */
import { existsSync, readFileSync } from 'node:fs';
import { upgradeConfig, type ExperimentConfig } from '../engine/config';
import { presetById } from '../engine/presets';
import type { Plan } from '../engine/runs';
import { parseParams } from '../engine/url';

export interface Loaded {
  config: ExperimentConfig;
  messages: string[];
  /** The plan a link's `run=ptq|sweep` names (a file or a link without one: undefined). */
  plan?: Plan;
}

export function loadExperiment(arg: string): Loaded {
  if (existsSync(arg)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(arg, 'utf8'));
    } catch (e) {
      throw new Error(`${arg} is not valid JSON: ${(e as Error).message}`);
    }
    // A saved run carries its config under "config"; a partial config is completed from the defaults.
    const raw = (json as { config?: unknown })?.config ?? json;
    return { config: upgradeConfig(raw), messages: [] };
  }
  const preset = presetById(arg);
  const p = parseParams(preset ? preset.params : arg);
  return { config: p.config, messages: p.messages, plan: p.run ?? undefined };
}
