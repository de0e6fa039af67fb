/** The views that explain PTQ vs QAFT, one tab each. */
import type { ReactElement } from 'react';
import { useLab, VIEW_IDS, type ViewId } from '../store';
import { LandscapeView } from './LandscapeView';
import { LocalGlobalView } from './LocalGlobalView';
import { ParetoView } from './ParetoView';
import { SensitivityView } from './SensitivityView';
import { SweepTable } from './SweepTable';
import { WeightsView } from './WeightsView';
import { TabBar } from './TabBar';

/** Each tab: its label, what it shows, and its content. */
export const VIEW_TABS: Record<ViewId, { label: string; title: string; render: () => ReactElement }> = {
  sweep: { label: 'Sweep', title: 'QAFT test MSE per bit-width × learning rate', render: () => <SweepTable /> },
  pareto: { label: 'Error vs size', title: 'Test MSE against weight storage, with the Pareto front', render: () => <ParetoView /> },
  'local-global': { label: 'Local vs global', title: 'Per-layer local error and the test loss of RTN, GPTQ and QAFT', render: () => <LocalGlobalView /> },
  landscape: { label: 'Loss landscape', title: 'The loss between and around the FP and quantized weights', render: () => <LandscapeView /> },
  weights: { label: 'Weights', title: 'Weight histograms with the quantization levels', render: () => <WeightsView /> },
  sensitivity: { label: 'Sensitivity', title: 'Loss increase per layer and bit-width; bits per layer under a budget', render: () => <SensitivityView /> },
};

export function Views() {
  const view = useLab((s) => s.view);
  const setView = useLab((s) => s.setView);
  const probe = useLab((s) => s.probe);
  return (
    <section className="card views" data-testid="views">
      <div className="card-head">
        <h2>PTQ vs QAFT</h2>
        <TabBar
          ids={VIEW_IDS}
          tabs={VIEW_TABS}
          current={view}
          onPick={setView}
          testIdPrefix="tab-"
          suffix={(id) => (probe && probe.kind === (id === 'weights' ? 'histograms' : id) ? ' …' : '')}
        />
      </div>
      <div role="tabpanel">{VIEW_TABS[view].render()}</div>
    </section>
  );
}
