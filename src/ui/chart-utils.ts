/** Shared helpers of the charts: log axes with readable ticks, number formats. */

/** Nice log-axis bounds and ticks: steps of 1–1.5–2–3–5–7 per decade, coarser for wide ranges. */
export function logAxis(lo: number, hi: number): { domain: [number, number]; ticks: number[] } {
  const decades = Math.log10(hi / lo);
  const mant = decades <= 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades <= 3.5 ? [1, 2, 5] : [1];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const all: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mant) all.push(Number((m * 10 ** e).toPrecision(3)));
  const below = all.filter((t) => t <= lo * 1.0001);
  const above = all.filter((t) => t >= hi * 0.9999);
  const d0 = below.length ? below[below.length - 1] : all[0];
  const d1 = above.length ? above[0] : all[all.length - 1];
  return { domain: [d0, d1 > d0 ? d1 : d0 * 10], ticks: all.filter((t) => t >= d0 && t <= d1) };
}

export function fmtTick(v: number): string {
  if (v >= 0.01 && v < 1000) return String(Number(v.toPrecision(4)));
  // Lossless for round ticks (1.5e-4 stays 1.5e-4).
  const [m, e] = Number(v.toPrecision(4)).toExponential().split('e');
  return `${m}e${Number(e)}`;
}

/** 1, 2 or 5 times a power of ten, near `x`. */
function niceStep(x: number): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * 10 ** e;
}

/**
 * Log-axis bounds and ticks for a list of values (non-positive and non-finite ones ignored),
 * with a little room above and below. Ranges narrower than a factor 3 get evenly spaced
 * round ticks, so that close values stay apart and readable.
 */
export function logAxisOf(values: number[], fallback: [number, number] = [1e-3, 1]): { domain: [number, number]; ticks: number[] } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return logAxis(fallback[0], fallback[1]);
  let lo = Math.min(...pos);
  let hi = Math.max(...pos);
  const pad = Math.max((hi / lo) ** 0.06, 1.02);
  lo /= pad;
  hi *= pad;
  if (hi / lo >= 3) return logAxis(lo, hi);
  const step = niceStep((hi - lo) / 5);
  const d0 = Math.max(Math.floor(lo / step) * step, lo / 2);
  const d1 = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return { domain: [d0, d1], ticks };
}

/**
 * Vertical pixel offsets for labels at `ys` (pixels, any order) so that no two are closer than
 * `gap`: labels are pushed apart around their mean position.
 */
export function spreadLabels(ys: number[], gap: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  const placed = order.map((o) => o.y);
  for (let k = 1; k < placed.length; k++) placed[k] = Math.max(placed[k], placed[k - 1] + gap);
  // Centre the group on the original positions.
  const shift = (order.reduce((s, o) => s + o.y, 0) - placed.reduce((s, y) => s + y, 0)) / Math.max(1, placed.length);
  const out = new Array<number>(ys.length);
  order.forEach((o, k) => (out[o.i] = placed[k] + shift - o.y));
  return out;
}

/** Pixel y of `v` on a log axis with `domain`, in a plot `height` pixels tall (0 = top). */
export function logY(v: number, domain: [number, number], height: number): number {
  return height * (1 - Math.log(v / domain[0]) / Math.log(domain[1] / domain[0]));
}

/** A number in 3 significant digits, exponent form when tiny or huge. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e4) {
    const [m, e] = x.toExponential(2).split('e');
    return `${m}e${Number(e)}`;
  }
  return String(Number(x.toPrecision(3)));
}

/** A kurtosis or an outlier ratio: two decimals, none from 100 on. */
export const fmtStat = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
