// Independent float64 reference of the discretized logistic mixture, in plain JS (no tfjs).
// Used only by the tests.

/** log(sigmoid(z)) in float64, stable for any z. */
export function logSigmoid64(z: number): number {
  return z < 0 ? z - Math.log1p(Math.exp(z)) : -Math.log1p(Math.exp(-z));
}

/** log(1 - exp(-t)), t > 0, float64 (Maechler 2012). */
export function log1mexp64(t: number): number {
  return t > Math.LN2 ? Math.log1p(-Math.exp(-t)) : Math.log(-Math.expm1(-t));
}

/** log P(value v) of one discretized logistic (mean mu, scale s, in [-1, 1] units). */
export function binLogProb64(v: number, mu: number, s: number, low: number, high: number): number {
  const L = high - low;
  const x = (2 * (v - low)) / L - 1;
  const hb = 1 / L;
  const a = (x - hb - mu) / s;
  const b = (x + hb - mu) / s;
  if (v === low) return logSigmoid64(b);
  if (v === high) return logSigmoid64(-a);
  // log(sigmoid(hi) - sigmoid(lo)) = logSigmoid(hi) + log(1 - exp(logSigmoid(lo) - logSigmoid(hi))),
  // on the side of 0 where the sigmoids are small (sigmoid(b) - sigmoid(a) = sigmoid(-a) - sigmoid(-b)),
  // so no float64 subtraction of two numbers near 1 happens. (A different route from the
  // library's log1mexp(width) identity.)
  const [lo, hi] = a > 0 ? [-b, -a] : [a, b];
  return logSigmoid64(hi) + Math.log(-Math.expm1(logSigmoid64(lo) - logSigmoid64(hi)));
}

/** One pixel's parameters as plain arrays: logits [K], locs [K][C], scales [K][C], coeffs [K][nc]. */
export interface Pixel64 {
  logits: number[];
  locs: number[][];
  scales: number[][];
  coeffs: number[][];
}

function logSumExp64(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
}

/** log p(v) for one pixel with coupled channels, float64. */
export function pixelLogProb64(p: Pixel64, v: number[], low: number, high: number): number {
  const L = high - low;
  const K = p.logits.length;
  const C = v.length;
  const lse = logSumExp64(p.logits);
  const xs = v.map((vi) => (2 * (vi - low)) / L - 1);
  const terms: number[] = [];
  for (let k = 0; k < K; k++) {
    let t = p.logits[k] - lse;
    for (let c = 0; c < C; c++) {
      let mu = p.locs[k][c];
      for (let j = 0; j < c; j++) mu += p.coeffs[k][(c * (c - 1)) / 2 + j] * xs[j];
      t += binLogProb64(v[c], mu, p.scales[k][c], low, high);
    }
    terms.push(t);
  }
  return logSumExp64(terms);
}

/** Split flat arrays (as read from tensors of batch size N) into per-pixel Pixel64 objects. */
export function pixelsFromArrays(
  N: number,
  K: number,
  C: number,
  a: {
    logits: ArrayLike<number>;
    locs: ArrayLike<number>;
    scales: ArrayLike<number>;
    coeffs: ArrayLike<number>;
  },
): Pixel64[] {
  const nc = (C * (C - 1)) / 2;
  const out: Pixel64[] = [];
  for (let n = 0; n < N; n++) {
    const row = (arr: ArrayLike<number>, k: number, w: number) =>
      Array.from({ length: w }, (_, i) => arr[(n * K + k) * w + i]);
    out.push({
      logits: Array.from({ length: K }, (_, k) => a.logits[n * K + k]),
      locs: Array.from({ length: K }, (_, k) => row(a.locs, k, C)),
      scales: Array.from({ length: K }, (_, k) => row(a.scales, k, C)),
      coeffs: Array.from({ length: K }, (_, k) => row(a.coeffs, k, nc)),
    });
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for test parameters. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
