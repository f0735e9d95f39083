import * as tf from '@tensorflow/tfjs-core';
import { type MeanCi, meanCi95 } from './meanCi95';
import type { PixelCNN } from './pixelCnn';
import { quantizePixels } from './runDirectory';
import type { TrainingData } from './trainingData';

/** Fixed seed of the evaluation subset, so every evaluation of a run scores the same images. */
export const EVAL_SEED = 20170119;

/** Bits/dim of the images scored: their mean with a 95% CI, each image's value and class index. */
export interface BitsPerDimScores extends MeanCi {
  /** `-log2 p(x) / (H*W*C)` of each image, in the order scored. */
  perImage: Float64Array;
  labels: Int32Array;
}

/**
 * Bits/dim of every image of a split (`-log2 p(x) / (H*W*C)`), in batches of `batchSize`, in
 * evaluation mode (no dropout; the weights as they are: wrap it in `trainer.withEmaWeights` for
 * the EMA's). With `maxImages` > 0, a fixed random subset of that many images (the split's order
 * for {@link EVAL_SEED}). Returns the per-image values (and class indices) and their mean with a
 * 95% confidence interval over images. Reads each batch's result asynchronously (`data()`).
 */
export async function evaluateBitsPerDim(
  model: PixelCNN,
  dataset: TrainingData,
  o: { split: 'train' | 'test'; maxImages: number; batchSize: number; signal?: AbortSignal },
): Promise<BitsPerDimScores> {
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw new Error(
      `Error in evaluateBitsPerDim: batchSize must be an integer >= 1, got ${o.batchSize}`,
    );
  }
  if (!(Number.isInteger(o.maxImages) && o.maxImages >= 0)) {
    throw new Error(
      `Error in evaluateBitsPerDim: maxImages must be an integer >= 0 (0 = all), got ${o.maxImages}`,
    );
  }
  const ex = dataset.examples(o.split, { shuffle: true, seed: EVAL_SEED });
  const n = o.maxImages > 0 ? Math.min(o.maxImages, ex.row.length) : ex.row.length;
  const conditional = model.config.conditionalShape != null;
  const dims = model.eventShape.reduce((a, b) => a * b, 1);
  const perImage = new Float64Array(n);
  const labels = new Int32Array(n);
  for (let start = 0; start < n; start += o.batchSize) {
    if (o.signal?.aborted) break;
    const end = Math.min(n, start + o.batchSize);
    const raw = await dataset.read(ex, start, end);
    const pixels = quantizePixels(raw.images, model.config.high);
    labels.set(raw.labels, start);
    const [H, W, C] = model.eventShape;
    const lp = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(pixels), [raw.size, H, W, C]);
      const cond = conditional ? tf.tensor1d(raw.labels, 'int32') : undefined;
      return model.logProb(x, { conditionalInput: cond, validate: false });
    });
    const values = await lp.data();
    lp.dispose();
    for (let i = 0; i < values.length; i++) perImage[start + i] = -values[i] / (dims * Math.LN2);
  }
  return { ...meanCi95(perImage), perImage, labels };
}
