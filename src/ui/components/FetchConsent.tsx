/**
 * The question a link's settings raise when they would fetch from another origin (a text URL,
 * a Hugging Face folder): nothing is fetched and nothing starts until the user answers.
 */
import { allowFetch, declineFetch } from '../controller';
import { listHosts, type ForeignFetch } from '../origins';
import { useLab } from '../store';

/** What the URL of each URL key is (a key without an entry is named by itself). */
const WHAT: Readonly<Record<string, string>> = { hf: 'a model', text_url: 'its training text' };

/** "a model from huggingface.co and its training text from example.org". */
function describe(fetches: ForeignFetch[]): string {
  return fetches.map((f) => `${WHAT[f.key] ?? f.key} from ${f.host}`).join(' and ');
}

export function FetchConsent() {
  const consent = useLab((s) => s.consent);
  if (!consent) return null;
  const hosts = listHosts([...new Set(consent.fetches.map((f) => f.host))]);
  return (
    <section className="msgbox consent" data-testid="fetch-consent" aria-labelledby="consent-q">
      <p className="consent-q" id="consent-q" role="alert">
        <strong>This link loads {describe(consent.fetches)}.</strong> Allow fetching from <strong data-testid="consent-hosts">{hosts}</strong>?
      </p>
      <p className="muted small">
        Nothing has been fetched yet{consent.starts ? `, and ${consent.starts} starts only once you allow` : ''}. Your browser would fetch:
      </p>
      <ul className="consent-urls">
        {consent.fetches.map((f) => (
          <li key={f.key}>
            <code>{f.key}</code> <span className="mono">{f.url}</span>
          </li>
        ))}
      </ul>
      <div className="consent-actions">
        <button type="button" className="primary" data-testid="consent-allow" onClick={allowFetch}>
          Allow
        </button>
        <button type="button" data-testid="consent-deny" onClick={declineFetch}>
          Don't allow
        </button>
        <span className="muted small">Allowed for this page until it is reloaded. Don't allow keeps the settings; a Run asks again.</span>
      </div>
    </section>
  );
}
