/**
 * Double-precision erf / erfc and the exact GELU for host-side (Float64) forward passes.
 * |x| ≤ 2: erf(x) = (2/√π)·e^{−x²}·Σ_n (2x²)^n·x / (1·3·…·(2n+1))  (all terms positive);
 * |x| > 2: erfc(x) by the Laplace continued fraction e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))).
 * Accurate to a few ulp (tested against Python's math.erf / math.erfc).
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x > 2, continued fraction evaluated backwards. */
function erfcCf(x: number): number {
  if (x > 27) return 0;
  const terms = x < 3 ? 120 : x < 5 ? 60 : 30;
  let f = x;
  for (let k = terms; k >= 1; k--) f = x + k / 2 / f;
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a <= 2) return x === 0 ? x : Math.sign(x) * erfSeries(a);
  return Math.sign(x) * (1 - erfcCf(a));
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 2) return erfcCf(x);
  if (x < -2) return 2 - erfcCf(-x);
  return 1 - (x === 0 ? 0 : Math.sign(x) * erfSeries(Math.abs(x)));
}

/** Exact GELU x·Φ(x) = x·½·erfc(−x/√2). */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x * Math.SQRT1_2);
}
