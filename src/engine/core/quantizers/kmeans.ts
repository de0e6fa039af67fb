/**
 * One-dimensional Lloyd k-means (the SqueezeLLM codebook idea, unweighted) in Float64.
 * Deterministic: centroids start at the (c + ½)/k quantiles of the sorted values. An empty
 * cluster is reseeded at the point with the largest squared error (as the reference doc asks).
 * The distortion history never rises: an update that would increase it is rejected and the
 * iteration stops.
 */

export interface KmeansOptions {
  /** Lloyd iterations at most (SqueezeLLM uses max_iter = 50). */
  maxIter?: number;
}

export interface KmeansResult {
  /** k centroids, ascending (duplicates possible when there are fewer distinct values than k). */
  centroids: Float64Array;
  /** Σ (x − nearest centroid)² after init and after every accepted update: non-increasing. */
  history: number[];
}

/** Index of the first element of sorted `a` that is > x (values ≤ x come before it). */
function upperBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Cluster ranges of sorted `v` for sorted centroids `c`: cluster k holds v in (m_{k−1}, m_k],
 * m_k = (c_k + c_{k+1})/2 (a value on a midpoint goes to the lower centroid, like bucketize).
 * Returns ends: cluster k = [ends[k−1], ends[k]).
 */
function ranges(v: Float64Array, c: Float64Array): Int32Array {
  const k = c.length;
  const ends = new Int32Array(k);
  let lo = 0;
  for (let j = 0; j < k - 1; j++) {
    lo = upperBound(v, (c[j] + c[j + 1]) / 2, lo);
    ends[j] = lo;
  }
  ends[k - 1] = v.length;
  return ends;
}

function distortion(v: Float64Array, c: Float64Array, ends: Int32Array): number {
  let d = 0;
  let start = 0;
  for (let j = 0; j < c.length; j++) {
    for (let t = start; t < ends[j]; t++) d += (v[t] - c[j]) ** 2;
    start = ends[j];
  }
  return d;
}

/** Lloyd k-means of `values` into `k` levels. */
export function kmeans1d(values: ArrayLike<number>, k: number, opts: KmeansOptions = {}): KmeansResult {
  const maxIter = opts.maxIter ?? 50;
  const n = values.length;
  const v = Float64Array.from(values).sort();
  let c = new Float64Array(k);
  if (n === 0) return { centroids: c, history: [0] };
  for (let j = 0; j < k; j++) c[j] = v[Math.min(n - 1, Math.floor(((j + 0.5) * n) / k))];
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = prefix[t] + v[t];
  let ends = ranges(v, c);
  let d = distortion(v, c, ends);
  const history = [d];
  for (let it = 0; it < maxIter; it++) {
    const next = new Float64Array(k);
    const empty: number[] = [];
    let start = 0;
    for (let j = 0; j < k; j++) {
      const cnt = ends[j] - start;
      if (cnt > 0) next[j] = (prefix[ends[j]] - prefix[start]) / cnt;
      else empty.push(j);
      start = ends[j];
    }
    if (empty.length) reseed(v, c, ends, next, empty);
    next.sort();
    const nextEnds = ranges(v, next);
    const nd = distortion(v, next, nextEnds);
    if (!(nd <= d)) break; // rounding-level increase (or NaN): keep the previous centroids
    const moved = next.some((x, j) => x !== c[j]);
    c = next;
    ends = nextEnds;
    history.push(nd);
    if (!moved || nd === d) break;
    d = nd;
  }
  return { centroids: c, history };
}

/** Empty clusters take the points with the largest squared error (under the old centroids). */
function reseed(v: Float64Array, c: Float64Array, ends: Int32Array, next: Float64Array, empty: number[]): void {
  const err = new Float64Array(v.length);
  let start = 0;
  for (let j = 0; j < c.length; j++) {
    for (let t = start; t < ends[j]; t++) err[t] = (v[t] - c[j]) ** 2;
    start = ends[j];
  }
  for (const j of empty) {
    let best = -1;
    for (let t = 0; t < v.length; t++) if (err[t] > 0 && (best < 0 || err[t] > err[best])) best = t;
    if (best < 0) {
      next[j] = c[j]; // no point has any error left: keep the (duplicate) centroid
      continue;
    }
    next[j] = v[best];
    err[best] = 0;
  }
}
