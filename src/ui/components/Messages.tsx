/** Problems in the opened link, and the running log of errors, notices and divergences. */
import { useLab } from '../store';

export function UrlMessages() {
  const msgs = useLab((s) => s.urlMessages);
  const setUrlMessages = useLab((s) => s.setUrlMessages);
  if (msgs.length === 0) return null;
  return (
    <div className="msgbox url-messages" data-testid="url-messages" role="alert">
      <div className="msgbox-head">
        <strong>Some settings in the link could not be used</strong>
        <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => setUrlMessages([])}>
          ×
        </button>
      </div>
      <ul>
        {msgs.map((m) => (
          <li key={m}>
            <div className="url-msg">{m}</div>
          </li>
        ))}
      </ul>
      <p className="muted">Everything else in the link was applied; the page works normally.</p>
    </div>
  );
}

export function Messages() {
  const msgs = useLab((s) => s.messages);
  const dismiss = useLab((s) => s.dismissMessage);
  const clear = useLab((s) => s.clearMessages);
  return (
    <div className={`messages${msgs.length ? '' : ' empty'}`} data-testid="messages" aria-live="polite">
      {msgs.length > 1 ? (
        <button type="button" className="link-btn clear-msgs" onClick={clear}>
          Clear all
        </button>
      ) : null}
      {msgs.map((m) => (
        <div key={m.id} className={`msg msg-${m.kind}`} data-testid="message">
          <span className="msg-kind">{m.kind === 'error' ? 'Error' : m.kind === 'warning' ? 'Note' : 'Info'}</span>
          <span className="msg-text">{m.text}</span>
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(m.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
