import { initBackend } from '@pixelcnn/backend';
import {
  createConvParams,
  disposeParams,
  downRightShiftedConv2d,
  downShift,
  downShiftedConv2d,
  rightShift,
} from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';

export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 0); // two 8x8 RGB images, NHWC

  // PixelCNN++'s first layers. Vertical stack: rows strictly above each pixel.
  // Horizontal stack: the row above, plus the pixels strictly to the left.
  const conv = (kernelSize: [number, number], seed: number) =>
    createConvParams({ kernelSize, inChannels: 3, outChannels: 8, seed });
  const [pU, pAbove, pLeft] = [conv([2, 3], 1), conv([1, 3], 2), conv([2, 1], 3)];
  const vertical = (img: tf.Tensor) => downShift(downShiftedConv2d(img, pU));
  const horizontal = (img: tf.Tensor) =>
    tf.add(
      downShift(downShiftedConv2d(img, pAbove)),
      rightShift(downRightShiftedConv2d(img, pLeft)),
    );

  const [u, ul, variance, seen] = tf.tidy(() => {
    // Data-dependent init on a first batch: every output channel gets mean 0, variance 1.
    const first = downShiftedConv2d(x, pU, { init: true });
    // Causal before any training: pixel (3, 4) of the horizontal stack ignores (3, 4) and after.
    const pixel = (img: tf.Tensor) =>
      tf.sum(tf.slice(horizontal(img), [0, 3, 4, 0], [1, 1, 1, -1]));
    const influence = tf.sum(tf.abs(tf.grad(pixel)(x)), [0, 3]); // [8, 8]
    return [vertical(x), horizontal(x), tf.moments(first, [0, 1, 2]).variance, influence];
  });
  const future = Array.from(await seen.data()).slice(3 * 8 + 4); // raster order from (3, 4) on
  console.log(
    u.shape,
    ul.shape,
    await variance.data(),
    future.every((g) => g === 0),
  );
  // [2, 8, 8, 8] [2, 8, 8, 8] Float32Array(8) [1, 1, ...] true

  const result = { u: u.shape, ul: ul.shape, variance: Array.from(await variance.data()), future };
  tf.dispose([x, u, ul, variance, seen]);
  for (const p of [pU, pAbove, pLeft]) disposeParams(p);
  return result;
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
