/** The page: header (backend, share link), settings on the left, runs and results on the right. */
import { BackendBadge, BackendNote, BackendSelect } from './components/Backend';
import { Embed } from './components/Embed';
import { FetchConsent } from './components/FetchConsent';
import { Help } from './components/Help';
import { Presets } from './components/Presets';
import { TourList, TourPlayer } from './components/Tours';
import { LossChart } from './components/LossChart';
import { Messages, UrlMessages } from './components/Messages';
import { ResultsTable } from './components/ResultsTable';
import { RepeatsTable } from './components/RepeatsTable';
import { RunControls } from './components/RunControls';
import { Settings } from './components/Settings';
import { ShareLink } from './components/ShareLink';
import { TASK_PARTS } from './components/task-parts';
import { useLab } from './store';
import { UI_TASKS } from './tasks';
import './views.css';
import './lm.css';

export function App() {
  const task = useLab((s) => s.config.task);
  const embed = useLab((s) => s.embed);
  const Main = TASK_PARTS[task].Main;
  if (embed) return <Embed view={embed.view} />;
  return (
    <div className="app">
      <header className="header">
        <div className="title">
          <h1>QAFT Lab</h1>
          <p>
            Quantization-aware fine-tuning vs. post-training quantization (round-to-nearest, GPTQ), trained live in your browser
            {UI_TASKS[task].headline}
          </p>
        </div>
        <div className="header-side">
          <div className="backend">
            <BackendBadge />
            <BackendSelect />
            <a
              href="./speed.html"
              target="_blank"
              rel="noopener"
              data-testid="speed-link"
              title="Measure this browser's backends: GFLOP/s, samples/s, tokens/s"
            >
              Speed page
            </a>
          </div>
          <ShareLink />
        </div>
      </header>
      <BackendNote />
      <FetchConsent />
      <UrlMessages />
      <div className="layout">
        <aside className="sidebar">
          <Settings />
        </aside>
        <main className="main">
          <RunControls />
          <Messages />
          <TourList />
          <Presets />
          <LossChart />
          <Main />
          <ResultsTable />
          <RepeatsTable />
          <Help />
        </main>
      </div>
      <TourPlayer />
    </div>
  );
}
