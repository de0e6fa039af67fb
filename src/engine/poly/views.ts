/**
 * The probes behind the PTQ-vs-QAFT views, run in the worker on the weights the Lab keeps:
 * loss landscape (lines between runs' weights, radial sweeps from FP), weight histograms and
 * per-layer sensitivity. Runs from an earlier page session keep only their results, not weights.
 */
import type { Bits, ExperimentConfig } from '../core/config';
import type { Lab } from './lab';
import { weightHistograms, type LayerHistogram } from './histogram';
import { layerQuant } from './layerspec';
import { rotationOf } from '../core/rotation';
import { lineProbe, radialProbe, type LinePoint, type RadialCurve } from './landscape';
import type { MlpSnapshot } from './model';
import { layerSensitivity, type SensitivityResult } from './sensitivity';

export interface LandscapeRequest {
  /** Straight lines between runs' weights: [from run id, to run id]; 'fp' = the cached FP model. */
  lines: [string, string][];
  /** Interpolation coefficients along each line (0 = from, 1 = to). */
  ts: number[];
  /** Random directions from the FP weights (0 = none) and the L2 distances probed along each. */
  directions: number;
  distances: number[];
  seed: number;
}

export interface LandscapeResult {
  lines: { from: string; to: string; points: LinePoint[] }[];
  radial: RadialCurve[];
  /** Run ids whose weights are not in memory (skipped). */
  missing: string[];
}

type Progress = (done: number, total: number) => void;

/** Interpolation coefficients of the landscape lines: −0.25 … 1.25 in steps of 0.05. */
export const LINE_TS: number[] = Array.from({ length: 31 }, (_, k) => Math.round((-0.25 + 0.05 * k) * 1000) / 1000);
export const RADIAL_DIRECTIONS = 4;
export const RADIAL_STEPS = 16;
/** Radial sweeps reach this multiple of the largest FP → quantized distance. */
export const RADIAL_REACH = 1.5;

/** L2 distance from the start of each line to its end (t = 1), from its probed points. */
export function lineLength(points: LinePoint[]): number {
  const end = points.find((q) => q.t === 1) ?? points[points.length - 1];
  return end && end.t !== 0 ? end.distance / Math.abs(end.t) : 0;
}

/**
 * The distances of the radial sweeps: RADIAL_STEPS from 0 to RADIAL_REACH × the longest line from
 * FP (empty when no line leaves FP). The page and `npm run tours` probe the same distances.
 */
export function radialDistances(lines: { from: string; points: LinePoint[] }[]): number[] {
  const reach = Math.max(0, ...lines.filter((l) => l.from === 'fp').map((l) => lineLength(l.points))) * RADIAL_REACH;
  if (!(reach > 0)) return [];
  return Array.from({ length: RADIAL_STEPS }, (_, k) => (reach * k) / (RADIAL_STEPS - 1));
}

function weights(lab: Lab, c: ExperimentConfig, id: string): MlpSnapshot | undefined {
  return id === 'fp' ? lab.fpFor(c)?.snapshot : lab.weightsOf(id);
}

export const NO_FP = 'No FP model for these settings in this session: run FP (or the comparison) first.';

export async function landscape(lab: Lab, c: ExperimentConfig, req: LandscapeRequest, onProgress?: Progress): Promise<LandscapeResult> {
  const fp = lab.fpFor(c);
  if (!fp) throw new Error(NO_FP);
  const test = lab.testData(c);
  const missing = new Set<string>();
  const pairs = req.lines.filter(([a, b]) => {
    for (const id of [a, b]) if (!weights(lab, c, id)) missing.add(id);
    return weights(lab, c, a) && weights(lab, c, b);
  });
  const total = pairs.length * req.ts.length + req.directions * req.distances.length;
  let base = 0;
  const lines: LandscapeResult['lines'] = [];
  for (const [from, to] of pairs) {
    const a = weights(lab, c, from) as MlpSnapshot;
    const b = weights(lab, c, to) as MlpSnapshot;
    if (a.dims.join() !== b.dims.join()) {
      missing.add(to);
      continue;
    }
    lines.push({ from, to, points: await lineProbe(a, b, req.ts, test, (d) => onProgress?.(base + d, total)) });
    base += req.ts.length;
  }
  const radial = req.directions > 0 ? await radialProbe(fp.snapshot, req.directions, req.distances, req.seed, test, (d) => onProgress?.(base + d, total)) : [];
  return { lines, radial, missing: [...missing] };
}

export function histograms(lab: Lab, c: ExperimentConfig, runId: string, bins?: number): LayerHistogram[] {
  const fp = lab.fpFor(c);
  if (!fp) throw new Error(NO_FP);
  const q = lab.weightsOf(runId);
  if (!q) throw new Error('The weights of that run are not in memory (runs from an earlier session keep only their results): run it again.');
  if (q.dims.join() !== fp.snapshot.dims.join()) throw new Error('That run has a different model shape than the current settings.');
  // The run's config (the page sends it): its rotated layers are shown in their rotated basis.
  const rotations = layerQuant(c).map((l) => l.rotation ?? null);
  return weightHistograms(fp.snapshot, q, bins, rotations, (i) => rotationOf(fp.snapshot.dims[i], c.quant.rotSeed));
}

export async function sensitivity(lab: Lab, c: ExperimentConfig, bits: Bits[], onProgress?: Progress): Promise<SensitivityResult> {
  const fp = lab.fpFor(c);
  if (!fp) throw new Error(NO_FP);
  return layerSensitivity(fp.snapshot, c, bits, lab.testData(c), onProgress);
}
