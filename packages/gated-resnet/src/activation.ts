import * as tf from '@tensorflow/tfjs-core';
import { check, isPositiveInt, isTensor } from './errors';
import { negConcat } from './fused';

/** Nonlinearities of the gated resnet (TFP `resnet_activation`; PixelCNN++ uses 'concat_elu'). */
export type Activation = 'concat_elu' | 'elu' | 'relu';

export const ACTIVATIONS: readonly Activation[] = ['concat_elu', 'elu', 'relu'];

function checkActivation(fn: string, a: unknown): asserts a is Activation {
  check(
    ACTIVATIONS.includes(a as Activation),
    fn,
    () => `unknown activation ${JSON.stringify(a)} (expected 'concat_elu', 'elu' or 'relu')`,
  );
}

/**
 * Apply an activation on the last axis. 'concat_elu' (PixelCNN++ nn.py `concat_elu`) is
 * `elu(concat([x, -x], -1))` and doubles the channels: `[..., C] -> [..., 2C]` (the concat of x and
 * -x is one fused kernel where the backend registers it, see {@link FUSED_KERNELS}); 'elu' and
 * 'relu' keep the shape.
 */
export function applyActivation(x: tf.Tensor, a: Activation): tf.Tensor {
  const fn = 'applyActivation';
  check(isTensor(x), fn, () => 'x must be a tf.Tensor');
  checkActivation(fn, a);
  return tf.tidy(() => {
    switch (a) {
      case 'concat_elu':
        return tf.elu(negConcat(x));
      case 'elu':
        return tf.elu(x);
      case 'relu':
        return tf.relu(x);
    }
  });
}

/** Channels after {@link applyActivation}: `2 * channels` for 'concat_elu', else `channels`. */
export function activationWidth(channels: number, a: Activation): number {
  const fn = 'activationWidth';
  check(isPositiveInt(channels), fn, () => `channels must be a positive integer, got ${channels}`);
  checkActivation(fn, a);
  return a === 'concat_elu' ? 2 * channels : channels;
}
