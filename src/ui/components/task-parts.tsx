/**
 * The components each task adds to the page: its settings panels, run buttons, views under the
 * loss chart, help, and the views an embed (`embed=1&view=…`) can show of it. The shared parts of
 * the page take them from here; what is data (labels, the loss's axis, dropped files) is in
 * ui/tasks.ts.
 */
import type { ComponentType, ReactElement } from 'react';
import type { Task } from '../../engine/core/config';
import type { RunButtonsProps } from './MethodButtons';
import { PolyHelpIntro } from './PolyHelp';
import { PolyPlots } from './PolyPlots';
import { PolyRunButtons } from './PolyRunButtons';
import { PolySettings } from './PolySettings';
import { Views, VIEW_TABS } from './Views';
import { LmHelpEntries, LmHelpIntro } from './lm/LmHelp';
import { LmRunButtons } from './lm/LmRunButtons';
import { LmSamples } from './lm/LmSamples';
import { LmSettings } from './lm/LmSettings';
import { LmViews, LM_VIEW_TABS } from './lm/LmViews';

/** A view tab: its title and content (an embed shows it as a card of its own). */
export interface ViewTab {
  title: string;
  render: () => ReactElement;
}

export interface TaskParts {
  /** The settings panels under the task switch. */
  Settings: ComponentType;
  /** The run buttons before pause, resume and stop. */
  RunButtons: ComponentType<RunButtonsProps>;
  /** What the page shows between the loss chart and the results table. */
  Main: ComponentType;
  /** Help: the paragraph on the task, and entries before the shared ones. */
  HelpIntro: ComponentType;
  HelpEntries: ComponentType | null;
  /** The views of engine/tasks.ts `views` that are the task's own (loss and results are shared): a panel, or a tab shown as a card. */
  embedPanels: Readonly<Record<string, ComponentType>>;
  embedTabs: Readonly<Record<string, ViewTab>>;
}

function PolyMain() {
  return (
    <>
      <Views />
      <PolyPlots />
    </>
  );
}

function LmMain() {
  return (
    <>
      <LmSamples />
      <LmViews />
    </>
  );
}

export const TASK_PARTS: Record<Task, TaskParts> = {
  poly: {
    Settings: PolySettings,
    RunButtons: PolyRunButtons,
    Main: PolyMain,
    HelpIntro: PolyHelpIntro,
    HelpEntries: null,
    embedPanels: { plots: PolyPlots },
    embedTabs: VIEW_TABS,
  },
  lm: {
    Settings: LmSettings,
    RunButtons: LmRunButtons,
    Main: LmMain,
    HelpIntro: LmHelpIntro,
    HelpEntries: LmHelpEntries,
    embedPanels: { samples: LmSamples },
    embedTabs: LM_VIEW_TABS,
  },
};
