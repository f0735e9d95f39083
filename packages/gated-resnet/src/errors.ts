import type * as tf from '@tensorflow/tfjs-core';

/** Throw `Error in <fn>: <message>` when `cond` is false; `message` is built lazily. */
export function check(cond: boolean, fn: string, message: () => string): asserts cond {
  if (!cond) throw new Error(`Error in ${fn}: ${message()}`);
}

/** `[1, 8, 8, 3]` for error messages. */
export function fmt(x: tf.Tensor | readonly number[]): string {
  const s = Array.isArray(x) ? x : (x as tf.Tensor).shape;
  return `[${s.join(', ')}]`;
}

export function isTensor(x: unknown): x is tf.Tensor {
  return x != null && typeof x === 'object' && Array.isArray((x as tf.Tensor).shape);
}

export function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}
