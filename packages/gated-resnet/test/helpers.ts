import type { ConvParams, DenseParams } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import type { GatedResnetParams } from '../src';

/** Give g and b of every layer non-trivial values, deterministically. */
export function randomizeBlock(p: GatedResnetParams, seed: number): void {
  const layers: (ConvParams | DenseParams | undefined)[] = [p.conv1, p.skip, p.conv2, p.cond];
  tf.tidy(() => {
    layers.forEach((l, i) => {
      if (!l) return;
      const n = l.b.shape[0];
      if (l.g) l.g.assign(tf.randomUniform([n], 0.5, 1.5, 'float32', seed + 2 * i));
      l.b.assign(tf.randomUniform([n], -0.5, 0.5, 'float32', seed + 2 * i + 1));
    });
  });
}

export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
