import { initBackend } from '@pixelcnn/backend';
import { PixelCNN, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

// A tiny class-conditional PixelCNN++ over 8x8 binary images (high = 1):
// class 0 = horizontal stripes, class 1 = vertical stripes.
export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const dist = new PixelCNN({
    imageShape: [8, 8, 1],
    high: 1,
    conditionalShape: [], // a scalar label...
    numClasses: 2, // ...one-hot encoded
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 4,
    numLogisticMix: 2,
    dropoutP: 0,
    seed: 0,
  });
  const stripes = (vertical: boolean) =>
    Array.from({ length: 64 }, (_, i) =>
      (vertical ? i % 8 : Math.floor(i / 8)) % 2 === 0 ? 1 : 0,
    );
  const images = tf.tensor4d([...stripes(false), ...stripes(true)], [2, 8, 8, 1]);
  const labels = [0, 1];

  // Adam(1e-3) by default; the first step runs the data-dependent init.
  const trainer = new Trainer(dist, { learningRate: 3e-2 });
  const first = await trainer.trainStep(images, { conditionalInput: labels });
  for (let step = 1; step < 25; step++)
    await trainer.trainStep(images, { conditionalInput: labels });
  const { bitsPerDim } = await trainer.evaluate(images, { conditionalInput: labels });
  console.log(`bits/dim ${first.bitsPerDim.toFixed(3)} -> ${bitsPerDim.toFixed(3)}`);

  // log p(image | label) in nats, one per image: [2]
  const logProb = dist.logProb(images, { conditionalInput: labels });
  // three samples of class 1: [3, 8, 8, 1], values in {0, 1}
  const samples = await dist.sample(3, { conditionalInput: 1, seed: 7 });

  const result = {
    bitsPerDimBefore: first.bitsPerDim,
    bitsPerDim,
    logProb: Array.from(await logProb.data()),
    samples: samples.shape,
  };
  tf.dispose([images, logProb, samples]);
  trainer.dispose();
  dist.dispose();
  return result;
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
