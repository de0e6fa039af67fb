/** The language-model task's views: per-layer local error and error against size. */
import type { ReactElement } from 'react';
import { LM_VIEW_IDS, useLm, type LmViewId } from '../../lm-store';
import { ParetoView } from '../ParetoView';
import { LmLayerView } from './LmLayerView';
import { TabBar } from '../TabBar';

/** Each tab: its label, what it shows, and its content. */
export const LM_VIEW_TABS: Record<LmViewId, { label: string; title: string; render: () => ReactElement }> = {
  layers: { label: 'Per-layer error', title: 'Local error of each block linear, per method, beside the validation NLL', render: () => <LmLayerView /> },
  pareto: { label: 'Error vs size', title: 'Validation NLL against weight storage, with the Pareto front', render: () => <ParetoView /> },
};

export function LmViews() {
  const view = useLm((s) => s.view);
  const setView = useLm((s) => s.setView);
  return (
    <section className="card views" data-testid="lm-views">
      <div className="card-head">
        <h2>PTQ vs QAFT</h2>
        <TabBar ids={LM_VIEW_IDS} tabs={LM_VIEW_TABS} current={view} onPick={setView} testIdPrefix="lm-tab-" />
      </div>
      <div role="tabpanel">{LM_VIEW_TABS[view].render()}</div>
      <p className="muted small">The sweep, loss landscape, weight histograms and sensitivity views apply to the polynomial toy.</p>
    </section>
  );
}
