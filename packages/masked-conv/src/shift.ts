import * as tf from '@tensorflow/tfjs-core';
import { check, checkRank4, fmt } from './errors';

function checkSteps(fn: string, steps: number, size: number, x: tf.Tensor): void {
  check(
    Number.isInteger(steps) && steps >= 0,
    fn,
    () => `steps must be a non-negative integer, got ${steps}`,
  );
  check(steps <= size, fn, () => `cannot shift ${fmt(x)} by ${steps}`);
}

/**
 * Move rows down by `steps` (default 1), filling the top with zeros (pixel-cnn nn.py `down_shift`).
 * `[B, H, W, C] -> [B, H, W, C]`: output row r is input row r - steps.
 */
export function downShift(x: tf.Tensor, steps = 1): tf.Tensor4D {
  const fn = 'downShift';
  checkRank4(x, fn);
  const [, h] = x.shape;
  checkSteps(fn, steps, h, x);
  return tf.tidy(() => {
    const kept = tf.slice(x, [0, 0, 0, 0], [-1, h - steps, -1, -1]); // [B, H-steps, W, C]
    return tf.pad(kept, [
      [0, 0],
      [steps, 0],
      [0, 0],
      [0, 0],
    ]) as tf.Tensor4D;
  });
}

/**
 * Move columns right by `steps` (default 1), filling the left with zeros (pixel-cnn `right_shift`).
 * `[B, H, W, C] -> [B, H, W, C]`: output column c is input column c - steps.
 */
export function rightShift(x: tf.Tensor, steps = 1): tf.Tensor4D {
  const fn = 'rightShift';
  checkRank4(x, fn);
  const [, , w] = x.shape;
  checkSteps(fn, steps, w, x);
  return tf.tidy(() => {
    const kept = tf.slice(x, [0, 0, 0, 0], [-1, -1, w - steps, -1]); // [B, H, W-steps, C]
    return tf.pad(kept, [
      [0, 0],
      [0, 0],
      [steps, 0],
      [0, 0],
    ]) as tf.Tensor4D;
  });
}
