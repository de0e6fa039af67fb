/** What the shared layers ask each task (src/engine/tasks.ts): the FP steps a config plans and the URLs in its settings. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { fpSteps, settingUrls } from '../src/engine/tasks';

function lm(edit: Partial<ExperimentConfig['lm']>): ExperimentConfig {
  const c = cloneConfig(DEFAULT_CONFIG);
  c.task = 'lm';
  c.lm = { ...c.lm, ...edit };
  c.lmFp = { ...c.lmFp, steps: 123 };
  return c;
}

describe('task descriptors', () => {
  it('fpSteps: the MLP plans its FP steps or epochs over all training examples; the LM its FP steps only for a GPT trained here', () => {
    const c = cloneConfig(DEFAULT_CONFIG);
    c.data.trainSize = 100;
    c.fp = { ...c.fp, unit: 'steps', steps: 77 };
    expect(fpSteps(c)).toBe(77);
    c.fp = { ...c.fp, unit: 'epochs', epochs: 3, batch: 25 };
    expect(fpSteps(c)).toBe(12);
    expect(fpSteps(lm({ source: 'tiny', pretrained: false }))).toBe(123);
    expect(fpSteps(lm({ source: 'tiny', pretrained: true }))).toBe(0);
    expect(fpSteps(lm({ source: 'hf', pretrained: false }))).toBe(0);
    expect(fpSteps(lm({ source: 'files', pretrained: false }))).toBe(0);
  });

  it('settingUrls: the LM names its model folder and text URL, active only where the settings fetch them; the MLP has none', () => {
    const c = lm({ source: 'hf', hfUrl: 'https://a.example/m/', corpus: 'builtin', corpusUrl: 'https://b.example/t.txt' });
    expect(settingUrls(c)).toEqual([
      { key: 'hf', url: 'https://a.example/m/', active: true },
      { key: 'text_url', url: 'https://b.example/t.txt', active: false },
    ]);
    expect(settingUrls({ ...c, task: 'poly' })).toEqual([]);
    // Asked for another task than the config's: that task's URLs in these settings (a link may set them before task=lm).
    expect(settingUrls({ ...c, task: 'poly' }, 'lm').map((u) => u.key)).toEqual(['hf', 'text_url']);
  });
});
