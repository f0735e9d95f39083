import * as tf from '@tensorflow/tfjs-core';
import type { ConvParams, DenseParams } from '../src';

/** Give g and b non-trivial values (so tests see them), deterministically. */
export function randomizeGB(p: ConvParams | DenseParams, seed: number): void {
  tf.tidy(() => {
    const n = p.b.shape[0];
    if (p.g) p.g.assign(tf.randomUniform([n], 0.5, 1.5, 'float32', seed));
    p.b.assign(tf.randomUniform([n], -0.5, 0.5, 'float32', seed + 1));
  });
}

export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
