import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { PixelCNNConfig } from '../config';
import { PixelCNN, samplingNoise } from '../pixelCnn';
import type { PixelProgress } from './types';

const small = (o: Partial<PixelCNNConfig> = {}) =>
  new PixelCNN({
    imageShape: [4, 4, 2],
    high: 7,
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 4,
    numLogisticMix: 2,
    seed: 21,
    ...o,
  });

describeBackends('naive sampler', () => {
  it('is a deterministic function of explicit noise (same as the seed that made it)', async () => {
    const dist = small();
    const noise = samplingNoise(dist.config, 3, 42);
    const a = await dist.sample(3, { noise });
    const b = await dist.sample(3, { seed: 42 });
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([noise.mix, noise.logistic]);
    dist.dispose();
  });

  it('reports every pixel in raster order with its final values, and can be aborted', async () => {
    const dist = small();
    const seen: PixelProgress[] = [];
    const out = await dist.sample(2, { seed: 1, onPixel: (p) => void seen.push(p) });
    expect(seen.map((p) => [p.row, p.col, p.index, p.total])).toEqual(
      Array.from({ length: 16 }, (_, i) => [Math.floor(i / 4), i % 4, i, 16]),
    );
    const data = await out.data(); // [2, 4, 4, 2]
    for (const p of seen) {
      for (let n = 0; n < 2; n++) {
        for (let c = 0; c < 2; c++) {
          expect(p.values[n * 2 + c]).toBe(data[((n * 4 + p.row) * 4 + p.col) * 2 + c]);
        }
      }
    }
    const ctl = new AbortController();
    await expect(
      dist.sample(1, {
        seed: 1,
        signal: ctl.signal,
        onPixel: (p) => {
          if (p.index === 3) ctl.abort();
        },
      }),
    ).rejects.toThrow('Error in sample: aborted');
    dist.dispose();
  });

  it('checks the shape of explicit noise', async () => {
    const dist = small();
    const noise = samplingNoise(dist.config, 2, 1);
    await expect(dist.sample(3, { noise })).rejects.toThrow(
      'Error in sample: noise.mix must have shape [3, 4, 4, 2], got [2, 4, 4, 2]',
    );
    tf.dispose([noise.mix, noise.logistic]);
    dist.dispose();
  });

  it('feeds back continuous draws when snapToGrid is false (TFP) and still returns grid values', async () => {
    const dist = small();
    const s = await dist.sample(2, { seed: 3, snapToGrid: false });
    for (const x of await s.data()) expect(Number.isInteger(x) && x >= 0 && x <= 7).toBe(true);
    dist.dispose();
  });

  it("draws from logProb's distribution (2x2 binary: empirical frequencies match exp(logProb))", async () => {
    const dist = new PixelCNN({
      imageShape: [2, 2, 1],
      high: 1,
      numResnet: 1,
      numHierarchies: 2,
      numFilters: 4,
      numLogisticMix: 2,
      seed: 8,
    });
    // make the model far from uniform: data init on a skewed batch, then bigger logits
    dist.initialize(tf.tensor4d([1, 1, 0, 1, 1, 0, 0, 0], [2, 2, 2, 1]));
    const n = 1500;
    const samples = await dist.sample(n, { seed: 5 });
    const s = await samples.data();
    const counts = new Array(16).fill(0);
    for (let i = 0; i < n; i++) {
      let code = 0;
      for (let b = 0; b < 4; b++) code |= s[i * 4 + b] << b;
      counts[code]++;
    }
    const all = tf.tensor4d(
      Array.from({ length: 64 }, (_, i) => (Math.floor(i / 4) >> (i % 4)) & 1),
      [16, 2, 2, 1],
    );
    const p = Array.from(await dist.logProb(all).data(), Math.exp);
    for (let k = 0; k < 16; k++) {
      const sd = Math.sqrt((p[k] * (1 - p[k])) / n);
      expect(Math.abs(counts[k] / n - p[k]), `image ${k}: p ${p[k]}`).toBeLessThan(5 * sd + 1e-3);
    }
    dist.dispose();
  });
});
