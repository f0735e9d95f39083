export interface MeanCi {
  mean: number;
  /** Sample standard deviation (n - 1). */
  std: number;
  /** Half-width of the 95% confidence interval of the mean: t(0.975, n-1) * std / sqrt(n). */
  ci95: number;
  n: number;
}

// Two-sided 95% Student t quantiles for 1..30 degrees of freedom; beyond that the normal 1.96
// is within 0.05.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (table up to 30, then a series). */
export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T975[Math.round(df) - 1];
  // Cornish-Fisher expansion around the normal quantile.
  const z = 1.959963984540054;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean, standard deviation and 95% CI of the mean (over independent values, e.g. images). */
export function meanCi95(values: ArrayLike<number>): MeanCi {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, ci95: Number.NaN, n };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n === 1) return { mean, std: Number.NaN, ci95: Number.NaN, n };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  return { mean, std, ci95: (tQuantile975(n - 1) * std) / Math.sqrt(n), n };
}
