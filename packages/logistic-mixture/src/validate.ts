import * as tf from '@tensorflow/tfjs-core';
import { check, formatShape as fmt } from './errors';
import { type MixtureParams, numCoeffs } from './mixtureParams';

/** Check `low`/`high` and return high - low. */
export function checkRange(fn: string, low: number, high: number): number {
  check(
    Number.isInteger(low) && Number.isInteger(high),
    fn,
    () => `low and high must be integers, got low=${low}, high=${high}`,
  );
  check(high > low, fn, () => `high must be > low, got low=${low}, high=${high}`);
  check(high - low <= 2 ** 23, fn, () => `high - low must be <= 2^23 (float32), got ${high - low}`);
  return high - low;
}

/** Check the four tensors agree; return batch shape, K and C. */
export function checkParams(
  fn: string,
  p: MixtureParams,
): { batch: number[]; K: number; C: number } {
  check(
    !!(p?.logits && p.locs && p.scales && p.coeffs),
    fn,
    () => 'params must have logits, locs, scales and coeffs tensors',
  );
  const { logits, locs, scales, coeffs } = p;
  check(
    logits.rank >= 1 && locs.rank === logits.rank + 1,
    fn,
    () =>
      `expected logits [..., K] and locs [..., K, C], got logits ${fmt(logits.shape)}, locs ${fmt(locs.shape)}`,
  );
  const batch = logits.shape.slice(0, -1);
  const K = logits.shape[logits.rank - 1];
  const C = locs.shape[locs.rank - 1];
  const want = [...batch, K, C];
  const wantCoeffs = [...batch, K, numCoeffs(C)];
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((d, i) => d === b[i]);
  check(
    same(locs.shape, want) && same(scales.shape, want) && same(coeffs.shape, wantCoeffs),
    fn,
    () =>
      `params disagree: logits ${fmt(logits.shape)} (K=${K}) needs locs and scales ${fmt(want)} and coeffs ${fmt(wantCoeffs)}, ` +
      `got locs ${fmt(locs.shape)}, scales ${fmt(scales.shape)}, coeffs ${fmt(coeffs.shape)}`,
  );
  for (const [name, t] of Object.entries(p) as [string, tf.Tensor][]) {
    check(t.dtype === 'float32', fn, () => `params.${name} must be float32, got ${t.dtype}`);
  }
  return { batch, K, C };
}

/** Numpy broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** `[...]` bool: true where `x` is an integer in [low, high] (NaN fails), computed on the device. */
export function integerInRange(x: tf.Tensor, low: number, high: number): tf.Tensor {
  return tf.tidy(() => {
    const f = tf.cast(x, 'float32');
    return tf.logicalAnd(
      tf.logicalAnd(tf.greaterEqual(f, low), tf.lessEqual(f, high)),
      tf.equal(f, tf.round(f)), // false for NaN
    );
  });
}

/**
 * Check that `x` holds integers in [low, high] (no NaN): reduced on the device, then three
 * numbers read back asynchronously (no synchronous read: fine on WebGPU, once per batch).
 * Rejects naming the count of bad values, the first and its flat index.
 */
export async function checkValues(
  fn: string,
  name: string,
  x: tf.Tensor,
  low: number,
  high: number,
): Promise<void> {
  const [count, first] = tf.tidy(() => {
    const bad = tf.cast(tf.logicalNot(integerInRange(tf.reshape(x, [-1]), low, high)), 'int32');
    return [tf.sum(bad), tf.argMax(bad)];
  });
  try {
    const bad = (await count.data())[0];
    if (bad === 0) return;
    const i = (await first.data())[0];
    const v = tf.slice(tf.reshape(x, [-1]), i, 1);
    const value = (await v.data())[0];
    v.dispose();
    throw new Error(
      `Error in ${fn}: ${name} ${fmt(x.shape)} must hold integers in [${low}, ${high}]; ` +
        `${bad} value(s) do not, the first is ${value} at flat index ${i}`,
    );
  } finally {
    tf.dispose([count, first]);
  }
}
