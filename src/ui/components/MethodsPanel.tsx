/** The settings of QA-LoRA, data-free QAFT and forward tiled QAT: the same keys on both tasks, each task's settings giving its own texts and data-free fields. */
import type { ReactNode } from 'react';
import { NumberField } from './fields';
import { Panel } from './Panel';

/** What a task's settings put in the panel: its test id, note, the LoRA rank's hint, the data-free fields and what a tile is made of. */
interface MethodsPanelProps {
  testId: string;
  note: string;
  loraHint: string;
  dataFree: ReactNode;
  tileLabel: string;
}

export function MethodsPanel({ testId, note, loraHint, dataFree, tileLabel }: MethodsPanelProps) {
  return (
    <Panel title="QA-LoRA, data-free QAFT, tiled QAT" testId={testId} note={note}>
      <h3 className="sub">QA-LoRA</h3>
      <NumberField label="Rank r" path={['lm', 'loraRank']} testId="input-lora-r" min={1} hint={loraHint} />
      <NumberField label="Alpha" path={['lm', 'loraAlpha']} testId="input-lora-alpha" min={1} hint="The update is x·A·B·alpha/r." />
      <h3 className="sub">Data-free QAFT</h3>
      {dataFree}
      <h3 className="sub">Tiled QAT</h3>
      <NumberField label={tileLabel} path={['lm', 'tileK']} testId="input-tile-k" min={1} />
      <NumberField
        label="Steps per tile"
        path={['lm', 'tileSteps']}
        testId="input-tile-steps"
        min={1}
        hint="Each tile learns to reproduce the FP tile's output (L2)."
      />
      <NumberField
        label="Global steps"
        path={['lm', 'tileGlobal']}
        testId="input-tile-global"
        min={0}
        hint="A short QAFT of the whole model afterwards (0 = none)."
      />
    </Panel>
  );
}
