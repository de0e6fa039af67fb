/** The share link: always the current settings (the URL hash is kept up to date). */
import { useRef, useState } from 'react';
import { useLab } from '../store';

export async function copyText(text: string): Promise<boolean> {
  try {
    if (!navigator.clipboard) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function ShareLink() {
  const url = useLab((s) => s.shareUrl);
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const field = useRef<HTMLInputElement>(null);
  const timer = useRef<number | undefined>(undefined);
  const copy = async () => {
    const ok = await copyText(location.href);
    window.clearTimeout(timer.current);
    if (ok) {
      setState('copied');
      timer.current = window.setTimeout(() => setState('idle'), 2000);
    } else {
      setState('manual');
      field.current?.focus();
      field.current?.select();
    }
  };
  return (
    <div className="share">
      <label className="share-label" htmlFor="share-url">
        Share link
      </label>
      <input
        id="share-url"
        ref={field}
        data-testid="share-url"
        className="share-url"
        type="text"
        readOnly
        value={url}
        onFocus={(e) => e.currentTarget.select()}
      />
      <button type="button" data-testid="copy-link" onClick={copy}>
        {state === 'copied' ? 'Copied' : 'Copy link'}
      </button>
      {state === 'manual' ? <span className="muted">Clipboard unavailable: the link is selected, press Ctrl+C.</span> : null}
    </div>
  );
}
