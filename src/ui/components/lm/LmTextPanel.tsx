/** The text the LM learns and is evaluated on: the lab's corpus, the user's own text (pasted or dropped), or a text URL. */
import { CORPORA } from '../../../engine/core/config';
import { sendOwnText, sendTextFile } from '../../lm-controller';
import { openFiles } from '../../file-drop';
import { useLm } from '../../lm-store';
import { configProblems, problemsAt } from '../../problems';
import { useLab } from '../../store';
import { NumberField, SelectField, TextField, type Option } from '../fields';
import { Panel } from '../Panel';
import { DropZone } from './DropZone';

const CORPUS_LABEL: Record<(typeof CORPORA)[number], string> = { builtin: 'the lab corpus', own: 'my own text', url: 'a text URL' };
const corpusOptions: Option<string>[] = CORPORA.map((c) => ({ value: c, label: CORPUS_LABEL[c] }));

function OwnText() {
  const draft = useLm((s) => s.draft);
  const setDraft = useLm((s) => s.setDraft);
  const held = useLm((s) => s.assets.text);
  const pending = useLm((s) => s.pending);
  const error = useLm((s) => s.assetError);
  const busy = useLab((s) => s.batch !== null);
  return (
    <div className="own-text">
      <textarea
        data-testid="input-lm-own-text"
        rows={5}
        spellCheck={false}
        placeholder="Paste any text here (a book, your notes, code)…"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
      />
      <div className="panel-buttons">
        <button type="button" data-testid="lm-use-text" disabled={busy} onClick={() => sendOwnText('pasted text', draft)}>
          Use this text
        </button>
        <span className="muted small">{draft.length.toLocaleString()} characters</span>
      </div>
      <DropZone accept=".txt,text/plain" onFiles={(f) => void openFiles(f, (rest) => void sendTextFile(rest[0]))} testId="lm-text-drop" disabled={busy}>
        …or drop a <code>.txt</code> file here.
      </DropZone>
      <div className="held" data-testid="lm-text-held">
        {pending?.kind === 'text' ? <p className="muted">Handing “{pending.label}” to the engine…</p> : null}
        {error && pending === null ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <p className={held ? '' : 'muted'}>
          {held ? (
            <>
              The engine holds <strong>{held.name}</strong> ({held.chars.toLocaleString()} characters)
              {held.chars === 0 ? ': it is empty, so runs on it will fail' : ''}.
            </>
          ) : (
            'The engine holds no text of yours yet.'
          )}
        </p>
      </div>
      <p className="field-hint">Your text stays in this page’s engine: it is not part of the share link.</p>
    </div>
  );
}

export function LmTextPanel() {
  const config = useLab((s) => s.config);
  const corpus = config.lm.corpus;
  const problems = configProblems(config);
  const hfTok = config.lm.source !== 'tiny';
  return (
    <Panel
      title="Text"
      testId="lm-text-panel"
      note={hfTok ? 'Tokenized with the checkpoint’s tokenizer.' : 'Character-level tokens: the vocabulary is the text’s characters.'}
    >
      <SelectField label="Learn from" path={['lm', 'corpus']} testId="input-lm-text" options={corpusOptions} />
      {corpus === 'builtin' ? <p className="field-hint">Text written for this project, free to redistribute, shipped with the lab.</p> : null}
      {corpus === 'own' ? <OwnText /> : null}
      {corpus === 'url' ? (
        <TextField
          label="Text URL"
          path={['lm', 'corpusUrl']}
          testId="input-lm-text-url"
          mono
          stacked
          placeholder="https://…/book.txt"
          problem={config.lm.corpusUrl.trim() ? problemsAt(problems, 'text') : null}
          hint="A plain-text file, fetched by your browser (the server must allow cross-origin requests)."
        />
      ) : null}
      <NumberField
        label="Validation fraction"
        path={['lm', 'valFraction']}
        testId="input-lm-val"
        step={0.01}
        min={0.02}
        hint="The end of the text is held out for validation NLL (0.02–0.5)."
      />
    </Panel>
  );
}
