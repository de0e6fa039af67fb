/** The active backend (badge), the backend choice, and a plain note when WebGPU is missing. */
import { BACKENDS, type BackendPref } from '../../engine/core/config';
import { isWorking, useLab } from '../store';

const LABEL: Record<BackendPref, string> = {
  auto: 'auto (WebGPU first)',
  webgpu: 'WebGPU',
  wasm: 'WebAssembly (CPU)',
  webgl: 'WebGL',
  cpu: 'plain JavaScript (CPU)',
};

export function BackendBadge() {
  const info = useLab((s) => s.backend);
  const phase = useLab((s) => s.backendPhase);
  let text: string;
  let cls = 'badge';
  if (phase === 'starting') {
    text = 'backend: starting…';
    cls += ' badge-wait';
  } else if (phase === 'failed' || !info) {
    text = 'backend: failed to start';
    cls += ' badge-bad';
  } else {
    const adapter = info.name === 'webgpu' && info.adapter ? ` · ${info.adapter}` : '';
    const threads = info.threads !== null && info.threads !== undefined ? ` · ${info.threads} thread${info.threads === 1 ? '' : 's'}` : '';
    text = `${info.name}${adapter}${threads}`;
    cls += info.name === 'webgpu' ? ' badge-gpu' : ' badge-cpu';
  }
  return (
    <span className={cls} data-testid="backend-badge" title="The TensorFlow.js backend the engine worker uses">
      {text}
    </span>
  );
}

export function BackendSelect() {
  const pref = useLab((s) => s.config.backend);
  const phase = useLab((s) => s.backendPhase);
  const busy = useLab(isWorking);
  const setField = useLab((s) => s.setField);
  return (
    <label className="backend-select">
      <span>Backend</span>
      <select
        data-testid="input-backend"
        value={pref}
        disabled={busy || phase === 'starting'}
        onChange={(e) => setField(['backend'], e.target.value as BackendPref)}
        title={busy ? 'Stop the experiment to change the backend' : 'Changing the backend restarts the engine (the cached FP model is dropped)'}
      >
        {BACKENDS.map((b) => (
          <option key={b} value={b}>
            {LABEL[b]}
          </option>
        ))}
      </select>
    </label>
  );
}

export function BackendNote() {
  const info = useLab((s) => s.backend);
  const pref = useLab((s) => s.config.backend);
  if (!info) return null;
  const lines: string[] = [];
  if (!info.webgpuAvailable) {
    lines.push(
      `WebGPU is not available in this browser, so the lab runs on the ${info.name} backend instead (${info.name === 'webgl' ? 'GPU through WebGL' : 'on the CPU'}; slower). Use a recent Chrome or Edge for WebGPU.`,
    );
  } else if (info.name === 'webgpu' && info.adapterIsSoftware) {
    lines.push(`The WebGPU adapter (${info.adapter}) is a CPU emulation, so training is slow: keep models small.`);
  } else if (info.name !== 'webgpu' && pref !== 'auto') {
    lines.push(`Running on ${info.name} as selected; WebGPU is available (choose auto or webgpu to use it).`);
  }
  for (const n of info.notes) if (!(n.startsWith('WebGPU is not available') && !info.webgpuAvailable)) lines.push(n);
  if (lines.length === 0) return null;
  return (
    <div className={`backend-note${info.webgpuAvailable ? '' : ' warn'}`} data-testid="backend-note" role="status">
      {lines.map((l) => (
        <p key={l}>{l}</p>
      ))}
    </div>
  );
}
