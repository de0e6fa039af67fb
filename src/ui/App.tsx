/** The page: header (backend, share link), settings on the left, runs and results on the right. */
import { BackendBadge, BackendNote, BackendSelect } from './components/Backend';
import { Embed } from './components/Embed';
import { FetchConsent } from './components/FetchConsent';
import { Help } from './components/Help';
import { Presets } from './components/Presets';
import { TourList, TourPlayer } from './components/Tours';
import { LossChart } from './components/LossChart';
import { Messages, UrlMessages } from './components/Messages';
import { PolyPlots } from './components/PolyPlots';
import { ResultsTable } from './components/ResultsTable';
import { RepeatsTable } from './components/RepeatsTable';
import { RunControls } from './components/RunControls';
import { Settings } from './components/Settings';
import { ShareLink } from './components/ShareLink';
import { Views } from './components/Views';
import { LmSamples } from './components/lm/LmSamples';
import { LmViews } from './components/lm/LmViews';
import { useLab } from './store';
import './views.css';
import './lm.css';

export function App() {
  const lm = useLab((s) => s.config.task === 'lm');
  const embed = useLab((s) => s.embed);
  if (embed) return <Embed view={embed.view} />;
  return (
    <div className="app">
      <header className="header">
        <div className="title">
          <h1>QAFT Lab</h1>
          <p>
            Quantization-aware fine-tuning vs. post-training quantization (round-to-nearest, GPTQ), trained live in your browser
            {lm ? ' on a small transformer language model.' : ' on a polynomial-fitting MLP.'}
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
          {lm ? <LmSamples /> : null}
          {lm ? <LmViews /> : <Views />}
          {lm ? null : <PolyPlots />}
          <ResultsTable />
          <RepeatsTable />
          <Help />
        </main>
      </div>
      <TourPlayer />
    </div>
  );
}
