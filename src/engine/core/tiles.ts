/**
 * Forward tiled QAT, for every task: the tiles (k consecutive units — transformer blocks, linear
 * layers — each), the steps a run plans, and the figures and notes a run records of its tiles.
 */

/** The tiles of `n` units, k at a time: [from, to) each, in order (the last may be shorter). */
export function tileRanges(n: number, k: number): [number, number][] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`tile size k must be a whole number ≥ 1, got ${k}`);
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += k) out.push([from, Math.min(n, from + k)]);
  return out;
}

/** Planned optimizer steps of a tiled run over `n` units: steps per tile × tiles, then the global steps. */
export function tiledSteps(n: number, o: { tileK: number; tileSteps: number; tileGlobal: number }): number {
  return tileRanges(n, o.tileK).length * o.tileSteps + o.tileGlobal;
}

/** One trained tile: its units [from, to) and its output error to the FP model's, before and after. */
export interface TileSummary {
  tile: number;
  range: [number, number];
  /** Mean squared error to the FP output: the first batch before training, and the last logged window (NaN: no step done). */
  l2Start: number;
  l2End: number;
  stepsDone: number;
}

/** A run's figures (RunRecord.extra) and notes of its tiles; `unit` names what a tile holds ('blocks', 'layers'). */
export function tileFigures(tiles: readonly TileSummary[], unit: string): { extra: { label: string; value: number }[]; notes: string[] } {
  return {
    extra: tiles.map((t) => ({ label: `tile ${t.tile} output MSE vs FP (end)`, value: t.l2End })),
    notes: tiles.map(
      (t) =>
        `tile ${t.tile} (${unit} ${t.range[0]}–${t.range[1] - 1}): output MSE vs FP ${t.l2Start.toExponential(3)} → ${t.l2End.toExponential(3)} in ${t.stepsDone} steps`,
    ),
  };
}
