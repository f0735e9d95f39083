import { seededPermutation, seededRandom } from '@pixelcnn/quickdraw-data';
import * as tf from '@tensorflow/tfjs-core';
import { type ClassifierConfig, DrawingClassifier, type LabelledImages } from './classifier';

/** How {@link trainClassifier} trains. */
export interface ClassifierTrainingOptions {
  /** Passes over the drawings (default 4). */
  epochs?: number;
  /** Drawings per Adam step (default 64). */
  batchSize?: number;
  /** Adam's learning rate (default 1e-3). */
  learningRate?: number;
  /** Seed of the initialisation and of each epoch's order (default 0). */
  seed?: number;
  /** Architecture options of the classifier (see {@link ClassifierConfig}). */
  filters?: ClassifierConfig['filters'];
  hidden?: ClassifierConfig['hidden'];
  imageSize?: ClassifierConfig['imageSize'];
  /** Called after each epoch with its mean cross-entropy (nats) and the seconds it took. */
  onEpoch?: (e: { epoch: number; epochs: number; loss: number; seconds: number }) => void;
}

/**
 * Train a {@link DrawingClassifier} on labelled drawings (labels 0..K-1 naming `classes`) with
 * Adam on the softmax cross-entropy. A pure function of the data, the options and the backend's
 * arithmetic: the same seed gives the same weights on the same backend. No synchronous reads
 * (the loss is read once per epoch, asynchronously).
 */
export async function trainClassifier(
  data: LabelledImages,
  classes: readonly string[],
  options: ClassifierTrainingOptions = {},
): Promise<DrawingClassifier> {
  const { epochs = 4, batchSize = 64, learningRate = 1e-3, seed = 0, onEpoch } = options;
  const fn = 'Error in trainClassifier';
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`${fn}: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
  if (!(learningRate > 0)) throw new Error(`${fn}: learningRate must be > 0, got ${learningRate}`);
  const model = new DrawingClassifier({
    classes,
    seed,
    filters: options.filters,
    hidden: options.hidden,
    imageSize: options.imageSize,
  });
  const [H, W] = model.config.imageSize;
  const n = data.labels.length;
  if (n < 1 || data.images.length !== n * H * W) {
    model.dispose();
    throw new Error(
      `${fn}: expected ${n} drawings of ${H}x${W} (${n * H * W} bytes), got ${data.images.length} bytes`,
    );
  }
  for (let i = 0; i < n; i++) {
    const l = data.labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes.length) {
      model.dispose();
      throw new Error(
        `${fn}: label ${l} of drawing ${i} is not a class index 0..${classes.length - 1}`,
      );
    }
  }
  const optimizer = tf.train.adam(learningRate);
  const vars = [...model.variables.values()];
  const pixels = H * W;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      const order = seededPermutation(n, seededRandom((seed * 1_000_003 + epoch) >>> 0));
      let total = tf.scalar(0);
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const x = new Float32Array((end - start) * pixels);
        const y = new Int32Array(end - start);
        for (let i = start; i < end; i++) {
          const j = order[i];
          x.set(data.images.subarray(j * pixels, (j + 1) * pixels), (i - start) * pixels);
          y[i - start] = data.labels[j];
        }
        const cost = tf.tidy(() => {
          const images = tf.tensor4d(x, [end - start, H, W, 1]);
          const labels = tf.tensor1d(y, 'int32');
          return optimizer.minimize(
            () => model.crossEntropy(images, labels),
            true,
            vars,
          ) as tf.Scalar;
        });
        const next = tf.add(total, tf.mul(cost, end - start));
        tf.dispose([total, cost]);
        total = next as tf.Scalar;
      }
      const loss = (await total.data())[0] / n;
      total.dispose();
      onEpoch?.({ epoch: epoch + 1, epochs, loss, seconds: (performance.now() - t0) / 1000 });
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
  return model;
}
