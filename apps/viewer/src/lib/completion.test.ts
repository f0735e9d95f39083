import { describeBackends } from '@pixelcnn/backend/testing';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstSampledIndex, keepTopRows } from './completion';

describe('keepTopRows', () => {
  it('keeps rows < k exactly and zeroes the rest (any shape, any k)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (H, W, C, kSeed) => {
          const k = kSeed % (H + 1);
          const image = Array.from({ length: H * W * C }, (_, i) => i + 1);
          const out = keepTopRows(image, [H, W, C], k);
          for (let i = 0; i < out.length; i++) {
            const row = Math.floor(i / (W * C));
            expect(out[i]).toBe(row < k ? image[i] : 0);
          }
          expect(firstSampledIndex(k, W)).toBe(k * W);
        },
      ),
    );
  });

  it('rejects a bad row count or image size with a clear message', () => {
    expect(() => keepTopRows([1, 2, 3, 4], [2, 2, 1], 3)).toThrow(
      'Error in keepTopRows: keepRows must be an integer in [0, 2], got 3',
    );
    expect(() => keepTopRows([1, 2, 3, 4], [2, 2, 1], 1.5)).toThrow(
      'Error in keepTopRows: keepRows must be an integer in [0, 2], got 1.5',
    );
    expect(() => keepTopRows([1, 2, 3], [2, 2, 1], 1)).toThrow(
      'Error in keepTopRows: expected 4 values for [2, 2, 1], got 3',
    );
  });
});

const tiny = (o: { conditional?: boolean } = {}) =>
  new PixelCNN({
    imageShape: [4, 4, 1],
    high: 3,
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 4,
    numLogisticMix: 2,
    seed: 11,
    ...(o.conditional ? { conditionalShape: [], numClasses: 3 } : {}),
  });

describeBackends('completing a sketch (keepTopRows + sample with a prefix)', () => {
  it("completing a sample's own top rows, as the worker does, gives the sample back", async () => {
    const dist = tiny({ conditional: true });
    const full = await dist.sample(1, { seed: 9, conditionalInput: 2 });
    const values = (await full.data()) as Float32Array;
    for (const k of [0, 1, 3]) {
      const kept = tf.tensor3d(keepTopRows(values, [4, 4, 1], k), [4, 4, 1]);
      const seen: number[] = [];
      const done = await dist.sample(1, {
        seed: 9,
        conditionalInput: 2,
        prefix: { images: kept, rows: k },
        onPixel: (p) => void seen.push(p.index),
      });
      expect(Array.from(await done.data()), `keepRows ${k}`).toEqual(Array.from(values));
      expect(seen[0]).toBe(firstSampledIndex(k, 4));
      tf.dispose([kept, done]);
    }
    full.dispose();
    dist.dispose();
  });
});
