/** The language model: the lab's tiny GPT (its shape), a Hugging Face checkpoint URL, or dropped checkpoint files. */
import { LM_NORMS, LM_SOURCES } from '../../../engine/core/config';
import { sendCheckpointFiles } from '../../lm-controller';
import { openFiles } from '../../file-drop';
import { useLm } from '../../lm-store';
import { configProblems, problemsAt } from '../../problems';
import { useLab } from '../../store';
import { CheckboxField, NumberField, SelectField, TextField, type Option } from '../fields';
import { Panel } from '../Panel';
import { DropZone, fmtBytes } from './DropZone';

const SOURCE_LABEL: Record<(typeof LM_SOURCES)[number], string> = {
  tiny: 'Tiny GPT',
  hf: 'Hugging Face URL',
  files: 'Files (dropped here)',
};
const sourceOptions: Option<string>[] = LM_SOURCES.map((s) => ({ value: s, label: SOURCE_LABEL[s] }));
const normOptions: Option<string>[] = LM_NORMS.map((n) => ({ value: n, label: n === 'rms' ? 'RMSNorm' : 'LayerNorm' }));
export const HF_EXAMPLE = 'https://huggingface.co/EleutherAI/pythia-14m/resolve/main/';

/** What the worker holds of dropped checkpoint files, and the answer to the last drop. */
function HeldFiles() {
  const files = useLm((s) => s.assets.files);
  const pending = useLm((s) => s.pending);
  const error = useLm((s) => s.assetError);
  return (
    <div className="held" data-testid="lm-files-held">
      {pending?.kind === 'files' ? <p className="muted">Reading {pending.label} in the engine…</p> : null}
      {error && pending === null ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {files.length ? (
        <ul>
          {files.map((f) => (
            <li key={f.name}>
              {f.name} <span className="muted">({fmtBytes(f.bytes)})</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">The engine holds no checkpoint files yet.</p>
      )}
    </div>
  );
}

export function LmModelPanel() {
  const config = useLab((s) => s.config);
  const setField = useLab((s) => s.setField);
  const busy = useLab((s) => s.batch !== null);
  const l = config.lm;
  const problems = configProblems(config);
  return (
    <Panel title="Model" testId="lm-model-panel" note="A decoder-only transformer: GELU MLP, learned positions, tied embeddings.">
      <SelectField
        label="Source"
        path={['lm', 'source']}
        testId="input-lm-src"
        options={sourceOptions}
        problem={l.source === 'files' ? problemsAt(problems, 'lm_src') : null}
      />
      {l.source === 'tiny' ? (
        <>
          <NumberField label="Layers" path={['lm', 'layers']} testId="input-lm-layers" min={1} />
          <NumberField label="Heads" path={['lm', 'heads']} testId="input-lm-heads" min={1} problem={problemsAt(problems, 'lm_heads')} />
          <NumberField label="d_model" path={['lm', 'dModel']} testId="input-lm-d" min={8} hint="Width of the residual stream; the MLP is 4× wider." />
          <NumberField label="Context" path={['lm', 'context']} testId="input-lm-ctx" min={8} hint="Tokens (characters) per sequence." />
          <SelectField label="Norm" path={['lm', 'norm']} testId="input-lm-norm" options={normOptions} />
          <CheckboxField
            label="BitNet layout"
            path={['lm', 'bitnet']}
            testId="input-lm-bitnet"
            hint="A parameter-free RMSNorm on the input of every quantized linear (BitNet b1.58)."
          />
          <CheckboxField
            label="Start from the pretrained checkpoint"
            path={['lm', 'pretrained']}
            testId="input-lm-pre"
            hint="The FP model shipped with the lab, when model, text and FP settings match it (the demo starts at once); otherwise FP is pretrained here."
          />
        </>
      ) : null}
      {l.source === 'hf' ? (
        <>
          <TextField
            label="Checkpoint URL"
            path={['lm', 'hfUrl']}
            testId="input-lm-hf"
            mono
            stacked
            placeholder={HF_EXAMPLE}
            problem={l.hfUrl.trim() ? problemsAt(problems, 'lm_src') : null}
            hint={
              <>
                The folder with config.json, model.safetensors and tokenizer.json (GPT-2 or GPT-NeoX/Pythia family), fetched by your browser: the server must
                allow cross-origin requests. Example:{' '}
                <button type="button" className="link-btn mono" data-testid="lm-hf-example" onClick={() => setField(['lm', 'hfUrl'], HF_EXAMPLE)}>
                  {HF_EXAMPLE}
                </button>
              </>
            }
          />
        </>
      ) : null}
      {l.source === 'files' ? (
        <>
          <DropZone
            accept=".json,.safetensors"
            multiple
            onFiles={(f) => void openFiles(f, (rest) => void sendCheckpointFiles(rest))}
            testId="lm-files-drop"
            disabled={busy}
          >
            Drop <code>config.json</code>, <code>model.safetensors</code> and <code>tokenizer.json</code> here (GPT-2 or GPT-NeoX family).
          </DropZone>
          <HeldFiles />
          <p className="field-hint">Files stay in this page’s engine: they are not part of the share link. Whoever opens the link drops the same files.</p>
        </>
      ) : null}
    </Panel>
  );
}
