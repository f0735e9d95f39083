import { initBackend } from '@pixelcnn/backend';
import { MODELS, recognitionShare } from '@pixelcnn/quickdraw-models';
import { loadClassifier, loadModel } from '@pixelcnn/quickdraw-models/node';
import * as tf from '@tensorflow/tfjs-core';

// The pretrained model draws two drawings of each of its classes; its classifier judges them.
export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const { classes, record } = MODELS.shapes4;
  const model = await loadModel('shapes4'); // a PixelCNN of @pixelcnn/pixelcnn-dist
  const labels = classes.flatMap((_, c) => [c, c]); // [0, 0, 1, 1, ...]: sample i draws labels[i]
  const cond = tf.tensor1d(labels, 'int32');
  const drawings = (await model.sample(labels.length, {
    conditionalInput: cond,
    seed: 1,
  })) as tf.Tensor4D;
  // drawings: [8, 28, 28, 1], values 0..255 (255 = ink)

  const classifier = await loadClassifier('shapes4');
  const judged = recognitionShare(await classifier.predict(drawings), labels, classes);
  console.log(
    `${judged.hits} of ${judged.n} drawings recognised as their class; the record: ` +
      `${(100 * record.recognised.generated.share).toFixed(1)}% of ${record.recognised.generated.n}, ` +
      `held-out ${record.heldOut.bitsPerDim.toFixed(3)} bits/dim`,
  );
  const shape = drawings.shape;
  tf.dispose([cond, drawings]);
  model.dispose();
  classifier.dispose();
  return { shape, judged };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
