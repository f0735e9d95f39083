import type * as tf from '@tensorflow/tfjs-core';

/** Throw `Error in <fn>: <message>` when `cond` is false; `message` is built lazily. */
export function check(cond: boolean, fn: string, message: () => string): asserts cond {
  if (!cond) throw new Error(`Error in ${fn}: ${message()}`);
}

/** `[1, 8, 8, 3]` for error messages. */
export function fmt(shape: readonly number[] | tf.Tensor): string {
  const s = Array.isArray(shape) ? shape : (shape as tf.Tensor).shape;
  return `[${s.join(', ')}]`;
}

export function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/** Whether `x` looks like a tf.Tensor (duck-typed: tensors from another tfjs copy pass too). */
export function isTensor(x: unknown): x is tf.Tensor {
  return x != null && typeof x === 'object' && Array.isArray((x as tf.Tensor).shape);
}

/** Checks that `x` is a rank-4 NHWC tensor. */
export function checkRank4(x: tf.Tensor, fn: string, what = 'x'): void {
  check(isTensor(x), fn, () => `${what} must be a tf.Tensor`);
  check(x.rank === 4, fn, () => `expected rank 4, got ${fmt(x.shape)}`);
}
