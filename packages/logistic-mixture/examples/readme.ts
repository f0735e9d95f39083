import { initBackend } from '@pixelcnn/backend';
import {
  bitsPerDim,
  disposeMixtureParams,
  imageLogProb,
  numMixtureParams,
  sampleMixture,
  splitMixtureParams,
} from '@pixelcnn/logistic-mixture';
import * as tf from '@tensorflow/tfjs-core';

// A network head emits P = K*(1 + 2C + C(C-1)/2) numbers per pixel; here random ones
// for a batch of 2 RGB images of 4x4 pixels with K = 5 components.
export async function main(): Promise<{ bits: number[]; sample: number[] }> {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const [C, K] = [3, 5];
  const raw = tf.randomNormal([2, 4, 4, numMixtureParams(C, K)], 0, 1, 'float32', 0);
  const params = splitMixtureParams(raw, { channels: C, numMix: K, convention: 'tfp' });

  // Integer pixels in [0, 255]: log p per image (nats), then bits per dimension.
  const images = tf.randomUniform([2, 4, 4, C], 0, 256, 'int32', 1);
  const logp = imageLogProb(params, images); // [2]
  const bits = Array.from(await bitsPerDim(logp, 4 * 4 * C).data());

  // One draw per pixel: values snapped to the integer grid (and the continuous draws).
  const { values, continuous } = sampleMixture(params, { seed: 42 }); // [2, 4, 4, 3] each
  const sample = Array.from(await values.data()).slice(0, 6);

  console.log('bits/dim', bits, 'first sampled values', sample);
  tf.dispose([raw, images, logp, values, continuous]);
  disposeMixtureParams(params);
  return { bits, sample };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
