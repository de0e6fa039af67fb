/**
 * Embed mode (`embed=1&view=…`): one view of the page, full width, with a compact run button, the
 * status line and a link to the whole lab with the same settings; sized for an iframe in slides
 * or a post. Problems in the link and errors show as on the whole page.
 */
import { configToParams } from '../../engine/url';
import { taskViews } from '../../engine/tasks';
import type { Plan } from '../../engine/core/plans';
import type { Task } from '../../engine/core/config';
import { startComparison, startPtqVsQaft, startFormats, startSweep } from '../controller';
import { configProblems, planProblems } from '../problems';
import { isWorking, useLab } from '../store';
import { BackendBadge } from './Backend';
import { FetchConsent } from './FetchConsent';
import { LossChart } from './LossChart';
import { Messages, UrlMessages } from './Messages';
import { ResultsTable } from './ResultsTable';
import { Status, Transport } from './RunControls';
import { TASK_PARTS, type ViewTab } from './task-parts';
import '../embed.css';

const START: Record<Plan, { label: string; start: () => void }> = {
  methods: { label: 'Run comparison', start: startComparison },
  sweep: { label: 'Run sweep', start: startSweep },
  ptq: { label: 'Run PTQ vs QAFT', start: startPtqVsQaft },
  formats: { label: 'Run format comparison', start: startFormats },
};

/** A tab of the PTQ-vs-QAFT views as a card of its own. */
function TabCard({ tab }: { tab: ViewTab }) {
  return (
    <section className="card views">
      <div className="card-head">
        <h2>{tab.title}</h2>
      </div>
      {tab.render()}
    </section>
  );
}

function ViewOf({ id, task }: { id: string; task: Task }) {
  if (id === 'loss') return <LossChart />;
  if (id === 'results') return <ResultsTable />;
  const { embedPanels, embedTabs } = TASK_PARTS[task];
  const Own = Object.hasOwn(embedPanels, id) ? embedPanels[id] : null;
  if (Own) return <Own />;
  return Object.hasOwn(embedTabs, id) ? <TabCard tab={embedTabs[id]} /> : null;
}

export function Embed({ view }: { view: string }) {
  const config = useLab((s) => s.config);
  const ready = useLab((s) => s.backendPhase === 'ready');
  const working = useLab(isWorking);
  const views = taskViews(config.task);
  const { id, plan } = views.find((v) => v.id === view) ?? views[0];
  const problems = [...configProblems(config), ...planProblems(config, plan)];
  const full = `${location.origin}${location.pathname}#${configToParams(config)}`;
  return (
    <div className="embed" data-testid="embed" data-view={id}>
      <div className="embed-bar">
        <button
          type="button"
          className="primary"
          data-testid="embed-run"
          disabled={!ready || working || problems.length > 0}
          onClick={START[plan].start}
          title={problems.map((p) => `${p.key}: ${p.message}`).join(' ')}
        >
          {START[plan].label}
        </button>
        <Transport />
        <BackendBadge />
        <a className="embed-open" data-testid="embed-open" href={full} target="_blank" rel="noopener noreferrer">
          Open in QAFT Lab ↗
        </a>
      </div>
      <Status idle={`Idle. Press ${START[plan].label} to train in your browser.`} />
      <FetchConsent />
      <UrlMessages />
      <Messages />
      <ViewOf id={id} task={config.task} />
    </div>
  );
}
