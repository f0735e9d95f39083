import * as tf from '@tensorflow/tfjs-core';
import { checkCallOptions } from './convCheck';
import { check, checkRank4, fmt } from './errors';
import type { DenseParams } from './params';
import { type LayerCallOptions, runLinear } from './weightNorm';

function checkDense(fn: string, x: tf.Tensor, p: DenseParams, o?: LayerCallOptions): void {
  check(
    x != null && typeof x === 'object' && Array.isArray(x.shape),
    fn,
    () => 'x must be a tf.Tensor',
  );
  check(x.rank >= 1, fn, () => `expected rank >= 1, got ${fmt(x)}`);
  check(
    p != null && typeof p === 'object' && p.v != null && p.b != null && p.v.rank === 2,
    fn,
    () => 'p must be DenseParams (see createDenseParams)',
  );
  check(
    x.shape[x.rank - 1] === p.inUnits,
    fn,
    () =>
      `input has ${x.shape[x.rank - 1]} features but the weights expect ${p.inUnits} (x ${fmt(x)}, v ${fmt(p.v)})`,
  );
  checkCallOptions(fn, o);
}

/**
 * Weight-normalised dense layer (pixel-cnn nn.py `dense`): `[..., in] -> [..., out]`, applied to
 * the last axis. Data-dependent init normalises each output unit over all leading axes.
 */
export function dense(x: tf.Tensor, p: DenseParams, o: LayerCallOptions = {}): tf.Tensor {
  const fn = 'dense';
  checkDense(fn, x, p, o);
  const lead = x.shape.slice(0, -1);
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1, p.inUnits]) as tf.Tensor2D; // [N, in]
    const y = runLinear(p, 1, (w) => tf.matMul(flat, w as tf.Tensor2D), o); // [N, out]
    return tf.reshape(y, [...lead, p.outUnits]);
  });
}

/**
 * "Network in network" 1x1 layer (pixel-cnn nn.py `nin`): a {@link dense} layer applied at every
 * pixel, `[B, H, W, in] -> [B, H, W, out]`.
 */
export function nin(x: tf.Tensor, p: DenseParams, o: LayerCallOptions = {}): tf.Tensor4D {
  const fn = 'nin';
  checkRank4(x, fn);
  checkDense(fn, x, p, o);
  return dense(x, p, o) as tf.Tensor4D;
}
