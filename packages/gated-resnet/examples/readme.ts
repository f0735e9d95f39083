import { initBackend } from '@pixelcnn/backend';
import {
  createGatedResnetParams,
  disposeGatedResnetParams,
  gatedResnet,
} from '@pixelcnn/gated-resnet';
import { downRightShiftedConv2d, downShiftedConv2d } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';

export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const F = 16;
  // Feature maps of both PixelCNN++ streams for a batch of 2 images of 8x8.
  const u = tf.randomNormal([2, 8, 8, F], 0, 1, 'float32', 1) as tf.Tensor4D; // vertical stack
  const ul = tf.randomNormal([2, 8, 8, F], 0, 1, 'float32', 2) as tf.Tensor4D; // horizontal stack
  // Conditioning: one-hot class labels, [2, 10].
  const h = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10), 'float32'),
  ) as tf.Tensor2D;

  // One block per stream. The horizontal block takes the vertical stream as its skip input.
  const vBlock = createGatedResnetParams({
    channels: F,
    kernelSize: [2, 3],
    conditionalUnits: 10,
    seed: 1,
  });
  const hBlock = createGatedResnetParams({
    channels: F,
    kernelSize: [2, 2],
    skipChannels: F,
    conditionalUnits: 10,
    seed: 2,
  });
  const step = (o: { init?: boolean; training?: boolean }) =>
    tf.tidy(() => {
      const u2 = gatedResnet(u, vBlock, {
        conv: downShiftedConv2d,
        h,
        dropoutP: 0.5,
        seed: 3,
        ...o,
      });
      const ul2 = gatedResnet(ul, hBlock, {
        conv: downRightShiftedConv2d,
        skip: u2,
        h,
        dropoutP: 0.5,
        seed: 4,
        ...o,
      });
      return [u2, ul2];
    });

  const [uInit, ulInit] = step({ init: true }); // data-dependent init on this first batch
  const [uEval, ulEval] = step({}); // evaluation: no dropout, same values as the init pass
  const [uTrain, ulTrain] = step({ training: true }); // training: dropout on act(c1)
  const maxDiff = tf.tidy(() => [ulEval, ulTrain].map((t) => tf.max(tf.abs(tf.sub(t, ulInit)))));
  const [evalDiff, trainDiff] = await Promise.all(maxDiff.map(async (t) => (await t.data())[0]));
  const same = evalDiff < 1e-4;
  const dropoutChanged = trainDiff > 0.01;
  console.log(uEval.shape, ulEval.shape, same, dropoutChanged); // [2, 8, 8, 16] [2, 8, 8, 16] true true

  const result = { u: uEval.shape, ul: ulEval.shape, same, dropoutChanged };
  tf.dispose([u, ul, h, uInit, ulInit, uEval, ulEval, uTrain, ulTrain, ...maxDiff]);
  disposeGatedResnetParams(vBlock);
  disposeGatedResnetParams(hBlock);
  return result;
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
