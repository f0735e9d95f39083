import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { TINY } from '../../test/tiny';
import { PixelCNN, samplingNoise } from '../pixelCnn';
import type { PixelProgress } from './types';

/** 4x4, 4 levels, 2 hierarchies; conditional on 3 classes when asked. */
const tiny = (conditional = false) =>
  new PixelCNN({
    ...TINY,
    seed: 4,
    ...(conditional ? { conditionalShape: [], numClasses: 3 } : {}),
  });

const SAMPLER_NAMES = ['cached', 'naive'] as const;

describeBackends('completion (sample with a prefix)', () => {
  for (const sampler of SAMPLER_NAMES) {
    it(`${sampler}: an empty prefix is plain sampling (same noise, same samples)`, async () => {
      const dist = tiny();
      const a = await dist.sample(3, { seed: 5, sampler });
      const b = await dist.sample(3, {
        seed: 5,
        sampler,
        prefix: { images: tf.zeros([4, 4, 1]), rows: 0 },
      });
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([a, b]);
      dist.dispose();
    });

    it(`${sampler}: completing a sample's own first pixels with its noise gives the sample back`, async () => {
      const dist = tiny(true);
      const labels = [0, 2, 1];
      const noise = samplingNoise(dist.config, 3, 9);
      const full = await dist.sample(3, { noise, conditionalInput: labels, sampler });
      // whole rows, and raster prefixes that end inside a row
      for (const keep of [{ rows: 1 }, { rows: 3 }, { pixels: 5 }, { pixels: 15 }, { rows: 4 }]) {
        const done = await dist.sample(3, {
          noise,
          conditionalInput: labels,
          sampler,
          prefix: { images: full, ...keep },
        });
        expect(Array.from(await done.data()), JSON.stringify(keep)).toEqual(
          Array.from(await full.data()),
        );
        done.dispose();
      }
      tf.dispose([full, noise.mix, noise.logistic]);
      dist.dispose();
    });
  }

  it('the cached and naive samplers complete a foreign prefix identically', async () => {
    const dist = tiny(true);
    const noise = samplingNoise(dist.config, 4, 2);
    const images = tf.tensor3d([3, 3, 3, 3, 0, 1, 2, 3, 1, 0, 0, 0, 2, 2, 2, 2], [4, 4, 1]);
    const o = { noise, conditionalInput: 1, prefix: { images, pixels: 6 } };
    const a = await dist.sample(4, { ...o, sampler: 'naive' });
    const b = await dist.sample(4, { ...o, sampler: 'cached' });
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b, images, noise.mix, noise.logistic]);
    dist.dispose();
  });

  it('keeps the prefix, reports only the drawn pixels, and conditions on the prefix', async () => {
    const dist = tiny();
    const prefix = tf.tensor3d([3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [4, 4, 1]);
    const seen: PixelProgress[] = [];
    const out = await dist.sample(2, {
      seed: 3,
      prefix: { images: prefix, rows: 2 },
      onPixel: (p) => void seen.push(p),
    });
    const v = await out.data();
    for (let b = 0; b < 2; b++) {
      expect(Array.from(v.slice(b * 16, b * 16 + 8))).toEqual([3, 3, 3, 3, 0, 0, 0, 0]);
    }
    expect(seen.map((p) => p.index)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    for (const p of seen) expect([v[p.index], v[16 + p.index]]).toEqual(Array.from(p.values));
    // the first drawn pixel's distribution depends on the kept rows
    const noise = samplingNoise(dist.config, 1, 1);
    const net = dist.samplerNetwork();
    const rawAt = (rows: number[]) =>
      tf.tidy(() => {
        const x = tf.tensor4d([...rows, ...new Array(8).fill(-1)], [1, 4, 4, 1]);
        return tf.slice(net.forward(x), [0, 2, 0, 0], [1, 1, 1, -1]);
      });
    const r1 = rawAt([1, 1, 1, 1, -1, -1, -1, -1]);
    const r2 = rawAt(new Array(8).fill(-1));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(r1, r2))));
    expect((await diff.data())[0]).toBeGreaterThan(0);
    tf.dispose([out, prefix, r1, r2, diff, noise.mix, noise.logistic]);
    dist.dispose();
  });

  it('rejects bad prefixes with clear messages and leaves no tensor behind', async () => {
    const dist = tiny();
    const ok = tf.zeros([4, 4, 1]);
    const wrong = tf.zeros([3, 4, 1]);
    const bad = tf.tensor3d([0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 4, 1]);
    const before = tf.memory().numTensors;
    await expect(dist.sample(2, { prefix: { images: wrong, rows: 1 } })).rejects.toThrow(
      'Error in sample: prefix.images must have shape [4, 4, 1] or [2, 4, 4, 1], got [3, 4, 1]',
    );
    await expect(dist.sample(1, { prefix: { images: ok, rows: 5 } })).rejects.toThrow(
      'Error in sample: prefix.rows must be an integer in [0, 4], got 5',
    );
    await expect(dist.sample(1, { prefix: { images: ok, rows: 1, pixels: 4 } })).rejects.toThrow(
      'Error in sample: prefix needs exactly one of rows and pixels',
    );
    await expect(dist.sample(1, { prefix: { images: ok, pixels: 17 } })).rejects.toThrow(
      'Error in sample: prefix.pixels must be an integer in [0, 16], got 17',
    );
    await expect(dist.sample(1, { prefix: { images: bad, pixels: 5 } })).rejects.toThrow(
      'Error in sample: prefix values must be integers in [0, 3], got 4 in image 0 at pixel 4 (row 1, column 0)',
    );
    // values after the prefix are not read
    const s = await dist.sample(1, { seed: 1, prefix: { images: bad, pixels: 4 } });
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ok, wrong, bad]);
    dist.dispose();
  });
});
