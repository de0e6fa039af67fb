/** Dataset invariants (src/engine/data.ts): shapes, sorting, the grid, rescaling, seeds, polyfit. */
import { describe, expect, it } from 'vitest';
import { GRID, IN_DIM, N_GRID, N_POINTS, OUT_DIM, headOf, makeDataset, polyfit, polyval } from '../src/engine/poly/data';
import { Rng } from '../src/engine/core/rng';
import { qrPolyfit } from './helpers/lsq';

const row = (a: Float32Array, i: number, width: number) => a.subarray(i * width, (i + 1) * width);

describe('makeDataset', () => {
  const n = 200;
  const d = makeDataset(n, 4, 11);

  it('shapes: n × 14 inputs, n × 200 targets', () => {
    expect(IN_DIM).toBe(14);
    expect(OUT_DIM).toBe(200);
    expect(d.n).toBe(n);
    expect(d.x).toBeInstanceOf(Float32Array);
    expect(d.x.length).toBe(n * 14);
    expect(d.y.length).toBe(n * 200);
    expect(d.x.every(Number.isFinite) && d.y.every(Number.isFinite)).toBe(true);
  });

  it('the 7 point x are sorted and in [0, 1]', () => {
    for (let i = 0; i < n; i++) {
      const xs = row(d.x, i, IN_DIM).subarray(0, N_POINTS);
      for (let j = 0; j < N_POINTS; j++) {
        expect(xs[j]).toBeGreaterThanOrEqual(0);
        expect(xs[j]).toBeLessThanOrEqual(1);
        if (j > 0) expect(xs[j]).toBeGreaterThanOrEqual(xs[j - 1]);
      }
    }
  });

  it('the first 100 outputs are the grid 0..1, evenly spaced', () => {
    expect(GRID.length).toBe(N_GRID);
    for (let i = 0; i < n; i++) {
      const g = row(d.y, i, OUT_DIM).subarray(0, N_GRID);
      expect(g[0]).toBe(0);
      expect(g[N_GRID - 1]).toBe(1);
      for (let k = 0; k < N_GRID; k++) expect(Math.abs(g[k] - k / 99)).toBeLessThan(1e-7);
    }
  });

  it('every curve spans exactly [0, 1] (min 0, max 1 within 1e-5)', () => {
    for (const degree of [1, 2, 4, 6]) {
      const dd = makeDataset(100, degree, 3);
      for (let i = 0; i < dd.n; i++) {
        const c = row(dd.y, i, OUT_DIM).subarray(N_GRID);
        expect(Math.abs(Math.min(...c))).toBeLessThan(1e-5);
        expect(Math.abs(Math.max(...c) - 1)).toBeLessThan(1e-5);
      }
    }
  });

  it('same seed → identical arrays; different seed → different arrays', () => {
    const a = makeDataset(50, 4, 123);
    const b = makeDataset(50, 4, 123);
    const c = makeDataset(50, 4, 124);
    expect(a.x).toEqual(b.x);
    expect(a.y).toEqual(b.y);
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).toBe(true);
    expect(a.x).not.toEqual(c.x);
    expect(a.y).not.toEqual(c.y);
    // A different degree on the same seed uses the same points but a different curve.
    const e = makeDataset(50, 2, 123);
    expect(e.x.subarray(0, N_POINTS)).toEqual(a.x.subarray(0, N_POINTS));
    expect(e.y).not.toEqual(a.y);
  });

  // Regression: polyfit once solved the normal equations, which are too ill-conditioned at
  // degree ≥ 4 on 7 points in [0,1]; degree 6 then did not interpolate.
  it('degree 6 interpolates the 7 points: the rescaled point y lie on the stored curve', () => {
    const dd = makeDataset(200, 6, 5);
    let worst = 0;
    for (let i = 0; i < dd.n; i++) {
      const x = row(dd.x, i, IN_DIM);
      const y = row(dd.y, i, OUT_DIM);
      // The curve is a degree-6 polynomial sampled on the grid: recover it, then evaluate at the points.
      const coef = qrPolyfit(GRID, y.subarray(N_GRID), 6);
      for (let j = 0; j < N_POINTS; j++) worst = Math.max(worst, Math.abs(polyval(coef, x[j]) - x[N_POINTS + j]));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('a lower degree is a least-squares fit, not an interpolation (the points do not all lie on it)', () => {
    const dd = makeDataset(20, 2, 5);
    let worst = 0;
    for (let i = 0; i < dd.n; i++) {
      const x = row(dd.x, i, IN_DIM);
      const coef = qrPolyfit(GRID, row(dd.y, i, OUT_DIM).subarray(N_GRID), 2);
      for (let j = 0; j < N_POINTS; j++) worst = Math.max(worst, Math.abs(polyval(coef, x[j]) - x[N_POINTS + j]));
    }
    expect(worst).toBeGreaterThan(0.05);
  });

  it('headOf keeps the first k examples', () => {
    const h = headOf(d, 6);
    expect(h.n).toBe(6);
    expect(h.x).toEqual(d.x.subarray(0, 6 * IN_DIM));
    expect(h.y).toEqual(d.y.subarray(0, 6 * OUT_DIM));
    expect(headOf(d, 10_000).n).toBe(n);
  });
});

describe('polyfit / polyval', () => {
  /** Worst grid deviation of polyfit from the QR least-squares curve, relative to that curve's span, on the dataset's random 7-point problems. */
  function worstDeviation(degree: number, examples: number): number {
    const rng = new Rng(1);
    let worst = 0;
    for (let e = 0; e < examples; e++) {
      const xs = Array.from({ length: N_POINTS }, () => rng.next()).sort((a, b) => a - b);
      const ys = Array.from({ length: N_POINTS }, () => rng.next());
      const ours = polyfit(xs, ys, degree);
      const ref = qrPolyfit(xs, ys, degree);
      const refCurve = Array.from(GRID, (g) => polyval(ref, g));
      const span = Math.max(...refCurve) - Math.min(...refCurve);
      for (let k = 0; k < N_GRID; k++) worst = Math.max(worst, Math.abs(polyval(ours, GRID[k]) - refCurve[k]) / span);
    }
    return worst;
  }

  it("matches an independent QR least-squares fit on the dataset's 7-point problems, degrees 1–3", () => {
    for (const degree of [1, 2, 3]) expect(worstDeviation(degree, 2000), `degree ${degree}`).toBeLessThan(1e-4);
  });

  // Regression (see above): the normal equations were off at degree 4 (the default) in ~1 % of the
  // examples, and at degree 6 in ~90 % (by up to several times the span).
  it("matches an independent QR least-squares fit on the dataset's 7-point problems, degrees 4–6", () => {
    for (const degree of [4, 5, 6]) expect(worstDeviation(degree, 2000), `degree ${degree}`).toBeLessThan(1e-4);
  });

  it('recovers a known cubic from exact samples', () => {
    const coef = [0.3, -1.2, 2.5, 0.7];
    const xs = Array.from({ length: 20 }, (_, i) => i / 19);
    const ys = xs.map((x) => polyval(coef, x));
    const fit = polyfit(xs, ys, 3);
    expect(fit.length).toBe(4);
    for (let k = 0; k < 4; k++) expect(Math.abs(fit[k] - coef[k])).toBeLessThan(1e-8);
  });

  it('recovers known polynomials of degree 4 (100 grid samples) and 6 (7 evenly spaced points)', () => {
    const quartic = [0.2, 1, -3, 0.5, 2];
    const fit4 = polyfit(
      GRID,
      Array.from(GRID, (x) => polyval(quartic, x)),
      4,
    );
    for (let k = 0; k < 5; k++) expect(Math.abs(fit4[k] - quartic[k])).toBeLessThan(1e-7);
    const sextic = [1, -2, 0.5, 3, -4, 1.5, 2];
    const xs = Array.from({ length: 7 }, (_, i) => i / 6);
    const fit6 = polyfit(
      xs,
      xs.map((x) => polyval(sextic, x)),
      6,
    );
    for (const x of GRID) expect(Math.abs(polyval(fit6, x) - polyval(sextic, x))).toBeLessThan(1e-6);
  });

  it('least squares: the best line through 4 noisy points', () => {
    // Normal equations by hand: x̄ = 1.5, ȳ = 4, Sxy = 9.8, Sxx = 5 → slope 1.96, intercept 1.06.
    const xs = [0, 1, 2, 3];
    const ys = [1.1, 2.9, 5.1, 6.9];
    const fit = polyfit(xs, ys, 1);
    expect(fit[1]).toBeCloseTo(1.96, 9);
    expect(fit[0]).toBeCloseTo(1.06, 9);
  });

  it('polyval uses the lowest power first', () => {
    expect(polyval([1, 2, 3], 2)).toBe(1 + 4 + 12);
    expect(polyval([], 5)).toBe(0);
  });
});
