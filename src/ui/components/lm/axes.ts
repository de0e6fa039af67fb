/** A linear axis with round ticks (NLL in nats/token reads better on a linear scale). */
function niceStep(x: number): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * 10 ** e;
}

/** Bounds and about 5–8 round ticks covering [lo, hi] with a little room. */
export function linearAxis(lo: number, hi: number): { domain: [number, number]; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { domain: [0, 1], ticks: [0, 0.5, 1] };
  if (hi <= lo) {
    const pad = Math.abs(lo) * 0.05 || 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 6);
  const d0 = Math.max(0, Math.floor(lo / step) * step);
  const d1 = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = d0; t <= d1 + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return { domain: [d0, d1], ticks };
}
