/**
 * Repeats: the runs of one method with the same settings but different seeds, as a mean with
 * its 95 % confidence interval (Student's t), and whether two methods differ by more than the
 * seed noise (Welch's t interval of the difference of means excludes 0).
 */
import { seedless, seedsOf } from './plans';
import type { RunRecord } from './runs';

/** Two-sided 97.5 % quantiles of Student's t for 1…30 degrees of freedom; 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
export const t975 = (df: number): number => (df < 1 ? NaN : df <= 30 ? T975[Math.floor(df) - 1] : 1.96);

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  /** Half-width of the 95 % confidence interval of the mean (NaN for n < 2). */
  ci95: number;
}

export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  return { n, mean, sd, ci95: n > 1 ? (t975(n - 1) * sd) / Math.sqrt(n) : NaN };
}

/** Runs that repeat each other: the same method, name (bits, learning rate, …) and task. */
export interface RepeatGroup extends Summary {
  method: RunRecord['method'];
  name: string;
  bits: number;
  metric: RunRecord['metric'];
  runIds: string[];
  losses: number[];
}

/** Runs of one experiment over other seeds share this key: task, method, name and the config with the moved seeds set to 0. */
export const repeatKey = (r: RunRecord): string => JSON.stringify([r.config.task, r.method, r.name, seedless(r.config)]);

/**
 * The latest run per distinct seeds, in their original order: a re-run with the seeds of an
 * earlier run replaces it (it repeats the same seeds, it is not another sample of the noise).
 */
export function latestPerSeeds<T extends Pick<RunRecord, 'config' | 'createdAt'>>(runs: readonly T[]): T[] {
  const bySeeds = new Map<string, T>();
  for (const r of runs) {
    const k = seedsOf(r.config);
    const had = bySeeds.get(k);
    if (!had || r.createdAt >= had.createdAt) bySeeds.set(k, r);
  }
  const keep = new Set(bySeeds.values());
  return runs.filter((r) => keep.has(r));
}

/**
 * Group the finished runs (finite loss) that repeat each other (same `key`: by default
 * `repeatKey`; the page passes one that compares only the settings a method depends on), keeping
 * the latest run per seeds, in order of first appearance.
 */
export function groupRepeats(runs: readonly RunRecord[], key: (r: RunRecord) => string = repeatKey): RepeatGroup[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (r.status !== 'done' || r.loss === null || !Number.isFinite(r.loss)) continue;
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((all) => {
    const rs = latestPerSeeds(all);
    const losses = rs.map((r) => r.loss as number);
    return { method: rs[0].method, name: rs[0].name, bits: rs[0].bits, metric: rs[0].metric, runIds: rs.map((r) => r.id), losses, ...summarize(losses) };
  });
}

/** One step of a band over repeated curves: how many curves logged it, their mean, extremes and the mean's 95 % half-width (NaN for n < 2). */
export interface BandPoint extends Summary {
  step: number;
  min: number;
  max: number;
}

/**
 * The band of repeated loss curves, aligned by step: at every step that some curve logged, the
 * finite values of the curves that logged it (a curve that stopped early or logged other steps
 * counts only where it has a point). Steps ascending.
 */
export function curveBand(curves: readonly (readonly { step: number; value: number }[])[]): BandPoint[] {
  const at = new Map<number, number[]>();
  for (const curve of curves) {
    for (const p of curve) {
      if (!Number.isFinite(p.value)) continue;
      const xs = at.get(p.step);
      if (xs) xs.push(p.value);
      else at.set(p.step, [p.value]);
    }
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([step, xs]) => ({ step, min: Math.min(...xs), max: Math.max(...xs), ...summarize(xs) }));
}

export interface Difference {
  /** mean(a) − mean(b). */
  diff: number;
  /** Half-width of the 95 % interval of the difference (Welch–Satterthwaite degrees of freedom). */
  ci95: number;
  /** The interval excludes 0: the difference is larger than the seed noise. */
  significant: boolean;
}

/** Welch's 95 % interval for the difference of two groups' means (each needs n ≥ 2). */
export function compareGroups(a: Pick<Summary, 'n' | 'mean' | 'sd'>, b: Pick<Summary, 'n' | 'mean' | 'sd'>): Difference {
  const va = a.sd ** 2 / a.n;
  const vb = b.sd ** 2 / b.n;
  const se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const diff = a.mean - b.mean;
  const ci95 = se === 0 ? 0 : t975(df) * se;
  return { diff, ci95, significant: Number.isFinite(ci95) && Math.abs(diff) > ci95 };
}

/** Points not dominated by another (lower or equal x and y, one strictly lower), by ascending x. */
export function paretoFront<T extends { x: number; y: number }>(pts: T[]): T[] {
  const sorted = [...pts].sort((a, b) => a.x - b.x || a.y - b.y);
  const out: T[] = [];
  let best = Infinity;
  for (const p of sorted) {
    if (p.y < best) {
      out.push(p);
      best = p.y;
    }
  }
  return out;
}
