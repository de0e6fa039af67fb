/**
 * How fast a run trains and when it will end, measured the same way in the page and the CLI:
 * optimizer steps per second over the latest read-back window (its evaluation included), times
 * what one step processes (samples for the MLP, tokens for the language model).
 */

/** What one optimizer step of a run processes. */
export interface Throughput {
  unit: 'samples' | 'tokens';
  perStep: number;
}

/**
 * Optimizer steps per second: `steps` steps in `elapsedMs` (null without a step or elapsed time).
 * The page's and the CLI's live readout, the benchmark and the speed page all measure this way.
 */
export function stepsPerSecond(steps: number, elapsedMs: number): number | null {
  return steps > 0 && elapsedMs > 0 ? (steps * 1000) / elapsedMs : null;
}

/** Samples/s or tokens/s at `stepsPerSec`: steps/s × what one step processes. */
export function unitsPerSecond(stepsPerSec: number, t: Throughput): number {
  return stepsPerSec * t.perStep;
}

/** A duration for a progress line: "850 ms", "42 s", "3 min 5 s", "1 h 4 min". */
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const fmtRate = (x: number) => (x >= 1e4 ? `${(x / 1000).toFixed(1)}k` : x >= 100 ? x.toFixed(0) : x.toPrecision(3));

/**
 * "3120 samples/s (12.2 steps/s), 8 s elapsed, 40 s left" for a run at `step` of `total` that has
 * run `elapsedMs`, at `stepsPerSec` (null before the first window: elapsed only).
 */
export function progressText(step: number, total: number, stepsPerSec: number | null, elapsedMs: number, throughput?: Throughput): string {
  const parts: string[] = [];
  if (stepsPerSec !== null && stepsPerSec > 0) {
    parts.push(
      throughput
        ? `${fmtRate(unitsPerSecond(stepsPerSec, throughput))} ${throughput.unit}/s (${fmtRate(stepsPerSec)} steps/s)`
        : `${fmtRate(stepsPerSec)} steps/s`,
    );
  }
  parts.push(`${fmtDuration(elapsedMs)} elapsed`);
  if (stepsPerSec !== null && stepsPerSec > 0 && step < total) parts.push(`${fmtDuration(((total - step) / stepsPerSec) * 1000)} left`);
  return parts.join(', ');
}
