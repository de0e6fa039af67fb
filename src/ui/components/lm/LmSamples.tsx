/**
 * Text written by the latest FP, RTN, GPTQ, QAFT, QA-LoRA, data-free and tiled runs of the
 * current settings, side by side, from the same prompt and seed; "Generate" asks the worker
 * for new samples from the kept models with the prompt typed here.
 */
import { useState } from 'react';
import type { RunRecord } from '../../../engine/core/runs';
import { requestSamples, requestWeights } from '../../lm-controller';
import { fmtNll } from '../../lm-runs';
import { latestLmRuns, LM_ORDER, otherLmRuns } from '../../lm-select';
import { useLm, type FreshSample } from '../../lm-store';
import { METHOD_COLOUR, METHOD_LABEL } from '../../runs';
import { isWorking, useLab } from '../../store';
import { Empty, Notes } from '../ViewParts';

/** The sample text with its prompt highlighted (when the text starts with it). */
export function SampleText({ prompt, text }: { prompt: string; text: string }) {
  // The engine puts a note about the prompt (e.g. characters the model does not know) on a first line in brackets.
  const note = /^\[[^\]\n]*\]\n/.exec(text)?.[0] ?? '';
  const body = text.slice(note.length);
  const has = prompt.length > 0 && body.startsWith(prompt);
  return (
    <>
      {note ? <p className="muted small sample-note">{note.trim().slice(1, -1)}</p> : null}
      <pre className="sample-text" data-testid="lm-sample-text">
        {has ? <mark className="prompt">{prompt}</mark> : null}
        {has ? body.slice(prompt.length) : body}
      </pre>
    </>
  );
}

/** Download the run's weights as safetensors (the codes and scales of its quantized matrices with them). */
function WeightsButton({ run }: { run: RunRecord }) {
  const session = useLab((s) => s.sessionRunIds.includes(run.id));
  const busy = useLab(isWorking);
  const ready = useLab((s) => s.backendPhase === 'ready');
  const exporting = useLm((s) => s.exporting);
  const fp = run.method === 'fp';
  return (
    <button
      type="button"
      className="link-btn small"
      data-testid="lm-download-weights"
      disabled={!ready || busy || exporting !== null || !session}
      title={
        session
          ? fp
            ? 'The FP model as a safetensors checkpoint (with its config.json)'
            : 'The dequantized weights in the checkpoint’s own layout, with the integer codes and scales of every quantized matrix, and config.json'
          : 'This run is from an earlier page session: its weights are no longer in the engine (run it again)'
      }
      onClick={() => requestWeights(run)}
    >
      {exporting === run.id ? 'Exporting…' : fp ? 'Download weights (safetensors)' : 'Download quantized weights (safetensors)'}
    </button>
  );
}

function SampleCard({ run, fresh }: { run: RunRecord; fresh: FreshSample | undefined }) {
  const c = run.config.lm;
  let body;
  let caption: string;
  if (fresh) {
    caption = `new sample: prompt “${fresh.prompt}”, ${fresh.settings}`;
    body = fresh.error ? (
      <p className="field-error" role="alert">
        {fresh.error}
      </p>
    ) : fresh.text === null ? (
      <p className="muted">Generating…</p>
    ) : (
      <SampleText prompt={fresh.prompt} text={fresh.text} />
    );
  } else {
    caption = `written when the run ended: prompt “${c.prompt}”, ${c.sampleLength} tokens, temperature ${c.sampleTemp}, seed ${c.sampleSeed}`;
    body = run.sample ? (
      <SampleText prompt={c.prompt} text={run.sample} />
    ) : (
      <p className="muted">This run has no sample (it ended early, or was saved by an older version of the lab).</p>
    );
  }
  return (
    <article className="sample-card" data-testid="lm-sample" data-method={run.method} style={{ borderTopColor: METHOD_COLOUR[run.method] }}>
      <header>
        <strong style={{ color: METHOD_COLOUR[run.method] }}>{METHOD_LABEL[run.method]}</strong>
        <span className="muted small" title={run.name}>
          {run.name} · NLL {fmtNll(run.loss)}
        </span>
      </header>
      {body}
      <footer className="muted small">
        {caption}
        <div>
          <WeightsButton run={run} />
        </div>
      </footer>
    </article>
  );
}

export function LmSamples() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const working = useLab(isWorking);
  const ready = useLab((s) => s.backendPhase === 'ready');
  const session = useLab((s) => s.sessionRunIds);
  const setField = useLab((s) => s.setField);
  const samples = useLm((s) => s.samples);
  const [notes, setNotes] = useState<string[]>([]);
  const shown = latestLmRuns(runs, config);
  const missing = LM_ORDER.filter((m) => !shown.some((x) => x.method === m));
  const kept = shown.filter((x) => session.includes(x.run.id));
  const others = otherLmRuns(runs, config).length;
  const prompt = config.lm.prompt;
  const generate = () =>
    setNotes(
      requestSamples(
        shown.map((x) => x.run),
        prompt,
      ),
    );
  return (
    <section className="card" data-testid="lm-samples">
      <div className="card-head">
        <h2>Text samples</h2>
        <form
          className="resample"
          onSubmit={(e) => {
            e.preventDefault();
            generate();
          }}
        >
          <label>
            <span>Prompt</span>
            <input
              data-testid="lm-new-prompt"
              type="text"
              spellCheck={false}
              value={prompt}
              maxLength={500}
              onChange={(e) => setField(['lm', 'prompt'], e.target.value)}
            />
          </label>
          <button
            type="submit"
            data-testid="lm-resample"
            disabled={!ready || working || kept.length === 0}
            title={
              kept.length
                ? 'Ask the engine for new samples from the models below, with this prompt and the sampling settings'
                : 'No model of this page session to sample from: run the methods first'
            }
          >
            Generate new samples
          </button>
        </form>
      </div>
      {shown.length === 0 ? (
        <Empty>
          No runs for these settings yet. Press Run comparison: each model writes a sample from the prompt when its run ends.
          {others ? ` (${others} run${others > 1 ? 's' : ''} of this FP model used other settings: click a method in the results table to load them.)` : ''}
        </Empty>
      ) : (
        <>
          <div className="sample-grid">
            {shown.map(({ run }) => (
              <SampleCard key={run.id} run={run} fresh={samples[run.id]} />
            ))}
          </div>
          <Notes notes={notes} testId="lm-sample-notes" />
          <p className="muted small">
            Same prompt (highlighted), seed and temperature for every model, so the differences come from the weights.{' '}
            {missing.length ? `Not run yet with these settings: ${missing.map((m) => METHOD_LABEL[m]).join(', ')}.` : ''}
          </p>
        </>
      )}
    </section>
  );
}
