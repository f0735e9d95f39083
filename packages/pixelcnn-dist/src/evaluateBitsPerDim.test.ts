import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { rotation, rowsData } from '../test/rowsData';
import { TINY } from '../test/tiny';
import { EVAL_SEED, evaluateBitsPerDim } from './evaluateBitsPerDim';
import { meanCi95 } from './meanCi95';
import { PixelCNN } from './pixelCnn';

// 2 training and 6 held-out 4x4 images of levels 0..3 (bytes level * 85), classes 0, 1, 2.
const N = 8;
const labels = Int32Array.from({ length: N }, (_, n) => n % 3);
const levels = Array.from({ length: N * 16 }, (_, i) => (Math.floor(i / 16) + i + (i >> 2)) % 4);
const data = () =>
  rowsData(
    Uint8Array.from(levels, (v) => v * 85),
    labels,
    16,
    2,
  );

describeBackends('evaluateBitsPerDim', () => {
  it('scores the split’s fixed subset by -log2 p(x) / dims, with the mean and its 95% CI', async () => {
    const model = new PixelCNN({ ...TINY, conditionalShape: [], numClasses: 3, seed: 4 });
    const d = data();
    const r = await evaluateBitsPerDim(model, d, { split: 'test', maxImages: 5, batchSize: 2 });
    // the subset: the first 5 of the held-out order for EVAL_SEED (rowsData: a rotation)
    const rows = rotation(6, EVAL_SEED, 0)
      .slice(0, 5)
      .map((i) => 2 + i);
    expect(d.reads.map((b) => b.rows)).toEqual([rows.slice(0, 2), rows.slice(2, 4), rows.slice(4)]);
    expect(Array.from(r.labels)).toEqual(rows.map((row) => labels[row]));
    // each image alone, by logProb (no dropout: evaluation mode)
    for (const [i, row] of rows.entries()) {
      const x = tf.tensor4d(levels.slice(row * 16, row * 16 + 16), [1, 4, 4, 1]);
      const lp = model.logProb(x, { conditionalInput: [labels[row]] });
      const want = -(await lp.data())[0] / (16 * Math.LN2);
      tf.dispose([x, lp]);
      expect(r.perImage[i]).toBeCloseTo(want, 4);
    }
    const s = meanCi95(r.perImage);
    expect(r).toMatchObject({ mean: s.mean, ci95: s.ci95, std: s.std, n: 5 });
    // all images (maxImages 0) in one batch: the same values for the same images
    const all = await evaluateBitsPerDim(model, data(), {
      split: 'test',
      maxImages: 0,
      batchSize: 64,
    });
    expect(all.n).toBe(6);
    for (let i = 0; i < 5; i++) expect(all.perImage[i]).toBeCloseTo(r.perImage[i], 4);
    model.dispose();
  });

  it('stops between batches when its signal is aborted, and refuses bad sizes', async () => {
    const model = new PixelCNN({ ...TINY, conditionalShape: [], numClasses: 3, seed: 4 });
    const stop = new AbortController();
    stop.abort();
    const d = data();
    const r = await evaluateBitsPerDim(model, d, {
      split: 'train',
      maxImages: 0,
      batchSize: 1,
      signal: stop.signal,
    });
    expect(d.reads).toEqual([]);
    expect(r.n).toBe(2); // the subset's size; no image was scored
    await expect(
      evaluateBitsPerDim(model, d, { split: 'test', maxImages: 0, batchSize: 0 }),
    ).rejects.toThrow('Error in evaluateBitsPerDim: batchSize must be an integer >= 1, got 0');
    await expect(
      evaluateBitsPerDim(model, d, { split: 'test', maxImages: -1, batchSize: 4 }),
    ).rejects.toThrow('maxImages must be an integer >= 0 (0 = all), got -1');
    model.dispose();
  });
});
