/**
 * Quantizer schedules of QAFT and scratch (reference §9): delayed fake-quant (full precision
 * for the first `quant.delay` steps) and gradual bit reduction (`quant.bitSchedule`, e.g.
 * 8 bits from 0, 4 from 30 %, 2 from 60 % of the run). Pure: no tfjs.
 */
import { isFullPrecision, type Bits, type ExperimentConfig } from './config';
import { methodDef, type Method } from './methods';

/** From step `start` on, the weights use `bits` (null = full precision, the delay). */
export interface QuantSegment {
  start: number;
  bits: number | null;
}

/** Whether a config has a schedule (otherwise one constant quantizer, as before). */
export function hasSchedule(c: ExperimentConfig): boolean {
  return c.quant.delay > 0 || c.quant.bitSchedule.length > 0;
}

/**
 * The segments of a run of `total` steps, in order of start, with distinct starts. A bit step
 * at fraction f starts at step floor(f·total); the delay, when longer, postpones it (two
 * entries that land on the same step: the later one wins). A segment may start at `total` and
 * so never train; the evaluated model uses the last segment's bits all the same.
 */
export function quantSegments(c: ExperimentConfig, total: number): QuantSegment[] {
  const sched = c.quant.bitSchedule.length ? c.quant.bitSchedule : [{ bits: c.quant.bits as Bits, at: 0 }];
  const delay = Math.min(c.quant.delay, total);
  const out: QuantSegment[] = delay > 0 ? [{ start: 0, bits: null }] : [];
  for (const e of sched) {
    const start = Math.max(delay, Math.floor(e.at * total));
    const bits = isFullPrecision(e.bits) ? null : e.bits;
    const last = out[out.length - 1];
    if (last && last.start === start) last.bits = bits;
    else out.push({ start, bits });
  }
  return out;
}

/** The index of the segment that step `step` (0-based) trains with. */
export function segmentAt(segments: readonly QuantSegment[], step: number): number {
  let k = 0;
  while (k + 1 < segments.length && segments[k + 1].start <= step) k += 1;
  return k;
}

/** The weight bits a trained run ends at: the last entry of the bit schedule, else quant.bits. */
export function finalBits(c: ExperimentConfig, method: Method): number {
  const s = c.quant.bitSchedule;
  return methodDef(method).schedule && s.length ? s[s.length - 1].bits : c.quant.bits;
}

/** The config whose quantizer is the one the evaluated model of `method` uses (final bits of a schedule). */
export function evaluatedConfig(c: ExperimentConfig, method: Method): ExperimentConfig {
  const bits = finalBits(c, method);
  if (bits === c.quant.bits) return c;
  const out = structuredClone(c);
  out.quant.bits = bits as Bits;
  return out;
}
