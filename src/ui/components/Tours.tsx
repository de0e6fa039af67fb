/**
 * Guided tours: the list (a card beside "Experiments to try") and the player, a panel fixed at the
 * bottom right with the step's text, Back / Next, "step k of n", a link to the step and "Run it
 * yourself"; the element the step points at gets a highlight ring and is scrolled into view.
 */
import { useEffect, useMemo, useState } from 'react';
import { tourById, TOURS, TourResults } from '../../engine/tours';
import { closeTour, goToStep, openTour, runItYourself, showShipped, useTourPlayer } from '../tours';
import { isWorking, useLab } from '../store';
import '../tours.css';

export function TourList() {
  return (
    <details className="card presets tours" data-testid="tours">
      <summary>Guided tours</summary>
      <p className="muted small">
        Step-by-step stories that set the lab, show results and point at what to look at. They play results the lab ships (made by the real engine with{' '}
        <code>npm run tours</code>), so no training is needed; every step can be run live. Your own runs are set aside while a tour is open and come back when
        you close it.
      </p>
      <ul>
        {TOURS.map((t) => (
          <li key={t.id}>
            <button type="button" className="link-button" data-testid={`tour-open-${t.id}`} onClick={() => openTour(t.id)}>
              {t.title}
            </button>
            <span className="preset-shows">
              {' '}
              — {t.summary} ({t.steps.length} steps)
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}

const HIGHLIGHT = 'tour-highlight';

/** Ring the element a step points at once it is on the page (charts draw a moment later), and scroll it into view. */
function useHighlight(selector: string | null, key: string): boolean {
  const [found, setFound] = useState(false);
  useEffect(() => {
    setFound(false);
    if (!selector) return;
    let el: Element | null = null;
    let tries = 0;
    const timer = window.setInterval(() => {
      tries += 1;
      const next = document.querySelector(selector);
      if (next && next !== el) {
        el?.classList.remove(HIGHLIGHT);
        el = next;
        el.classList.add(HIGHLIGHT);
        el.scrollIntoView({ block: 'center', behavior: 'auto' });
        setFound(true);
      }
      if (tries > 100) window.clearInterval(timer);
    }, 100);
    return () => {
      window.clearInterval(timer);
      el?.classList.remove(HIGHLIGHT);
    };
  }, [selector, key]);
  return found;
}

export function TourPlayer() {
  const at = useLab((s) => s.tour);
  const shareUrl = useLab((s) => s.shareUrl);
  const working = useLab(isWorking);
  const ready = useLab((s) => s.backendPhase === 'ready');
  const backend = useLab((s) => s.backend?.name ?? null);
  const { file, loading, own } = useTourPlayer();
  const tour = at ? tourById(at.id) : undefined;
  const step = tour && at ? tour.steps[at.step - 1] : undefined;
  const text = useMemo(() => {
    if (!file || !step || file.tour !== tour?.id) return null;
    try {
      return step.text(new TourResults(file));
    } catch (e) {
      return `This step's results are missing from the tour file (${e instanceof Error ? e.message : String(e)}).`;
    }
  }, [file, step, tour]);
  const found = useHighlight(text !== null && step ? step.highlight : null, `${at?.id}-${at?.step}-${own}`);
  if (!at || !tour || !step) return null;
  const n = tour.steps.length;
  const k = at.step;
  return (
    <aside className="tour-player" data-testid="tour-player" aria-label={`Guided tour: ${tour.title}`} data-step={k} data-highlight-found={found}>
      <div className="tour-head">
        <strong>{tour.title}</strong>
        <button type="button" className="tour-close" data-testid="tour-close" onClick={closeTour} title="Close the tour: your runs and settings come back">
          Close
        </button>
      </div>
      <div className="tour-progress" data-testid="tour-progress">
        <span>
          Step {k} of {n}
        </span>
        <span className="tour-dots" aria-hidden="true">
          {tour.steps.map((s, i) => (
            <button
              key={s.title}
              type="button"
              className={`tour-dot${i + 1 === k ? ' on' : ''}`}
              title={`${i + 1}. ${s.title}`}
              onClick={() => goToStep(i + 1)}
              tabIndex={-1}
            />
          ))}
        </span>
      </div>
      <h3 data-testid="tour-title">{step.title}</h3>
      {loading ? (
        <p className="muted" data-testid="tour-loading">
          Loading the tour's results…
        </p>
      ) : (
        <p data-testid="tour-text">{text}</p>
      )}
      {own ? (
        <p className="muted small" data-testid="tour-own">
          Showing your own runs{backend ? ` (${backend})` : ''}; the text quotes the shipped results.{' '}
          <button type="button" className="link-button" onClick={showShipped} data-testid="tour-shipped">
            Show the shipped results
          </button>
        </p>
      ) : null}
      <div className="tour-nav">
        <button type="button" data-testid="tour-back" disabled={k <= 1} onClick={() => goToStep(k - 1)}>
          Back
        </button>
        {k < n ? (
          <button type="button" className="primary" data-testid="tour-next" onClick={() => goToStep(k + 1)}>
            Next
          </button>
        ) : (
          <button type="button" className="primary" data-testid="tour-finish" onClick={closeTour}>
            Finish
          </button>
        )}
        <button
          type="button"
          data-testid="tour-run"
          disabled={working || !ready || !file}
          onClick={runItYourself}
          title="Apply this step's settings and run its experiment here, live"
        >
          Run it yourself
        </button>
        <a href={shareUrl} data-testid="tour-link" title="A link that opens this step">
          Link to this step
        </a>
      </div>
      {file ? (
        <p className="muted small tour-source">
          Results made by <code>npm run tours</code> on {file.backend} (engine {file.commit}, {file.generatedAt.slice(0, 10)}).
        </p>
      ) : null}
    </aside>
  );
}
