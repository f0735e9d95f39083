/** A share of successes with its 95% confidence interval. */
export interface Share {
  hits: number;
  n: number;
  /** hits / n (NaN when n = 0). */
  share: number;
  /** Wilson score interval at 95%. */
  ci95: [number, number];
}

/** {@link Share} overall and per class. */
export interface Recognition extends Share {
  perClass: (Share & { class: string })[];
}

/** The two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

/**
 * Wilson's score interval for a binomial proportion `hits / n` (Wilson 1927): unlike the normal
 * approximation it stays inside [0, 1] and keeps its coverage near 0 and 1 and for small n.
 */
export function wilsonInterval(hits: number, n: number, z = Z95): [number, number] {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(hits) || hits < 0 || hits > n)
    throw new Error(
      `Error in wilsonInterval: need integers 0 <= hits <= n, got hits ${hits}, n ${n}`,
    );
  if (n === 0) return [0, 1];
  const p = hits / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // The bounds are exactly 0 at hits = 0 and 1 at hits = n (rounding would leave 1 - 1e-16).
  return [hits === 0 ? 0 : centre - half, hits === n ? 1 : centre + half];
}

function share(hits: number, n: number): Share {
  return { hits, n, share: n ? hits / n : Number.NaN, ci95: wilsonInterval(hits, n) };
}

/**
 * The share of drawings a classifier assigned to the class they were drawn (or sampled) for:
 * `predicted[i] === intended[i]`, overall and per class, with Wilson 95% intervals.
 */
export function recognitionShare(
  predicted: ArrayLike<number>,
  intended: ArrayLike<number>,
  classes: readonly string[],
): Recognition {
  if (predicted.length !== intended.length)
    throw new Error(
      `Error in recognitionShare: ${predicted.length} predictions for ${intended.length} drawings`,
    );
  const hits = new Array<number>(classes.length).fill(0);
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < intended.length; i++) {
    const c = intended[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes.length)
      throw new Error(
        `Error in recognitionShare: intended class ${c} of drawing ${i} is not 0..${classes.length - 1}`,
      );
    counts[c]++;
    if (predicted[i] === c) hits[c]++;
  }
  const total = hits.reduce((a, b) => a + b, 0);
  return {
    ...share(total, intended.length),
    perClass: classes.map((name, c) => ({ class: name, ...share(hits[c], counts[c]) })),
  };
}
