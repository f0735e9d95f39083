import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { arr4, at } from '../test/reference';
import { downShift, rightShift } from './index';

describeBackends('downShift / rightShift', () => {
  it('output (r, c) = input (r - steps, c) resp. (r, c - steps), zeros where that is outside', async () => {
    const arb = fc.record({
      b: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 1, max: 5 }),
      w: fc.integer({ min: 1, max: 5 }),
      c: fc.integer({ min: 1, max: 3 }),
      steps: fc.integer({ min: 0, max: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ b, h, w, c, steps }) => {
        const x = tf.randomNormal([b, h, w, c], 0, 1, 'float32', h * 7 + w);
        const xa = await arr4(x);
        for (const [f, dr, dc, size] of [
          [downShift, steps, 0, h],
          [rightShift, 0, steps, w],
        ] as const) {
          if (steps > size) continue;
          const y = await arr4(f(x, steps));
          expect(y.shape).toEqual([b, h, w, c]);
          for (let i = 0; i < b; i++)
            for (let r = 0; r < h; r++)
              for (let q = 0; q < w; q++)
                for (let k = 0; k < c; k++) {
                  const inside = r - dr >= 0 && q - dc >= 0;
                  expect(at(y, i, r, q, k)).toBe(inside ? at(xa, i, r - dr, q - dc, k) : 0);
                }
        }
        x.dispose();
      }),
      { numRuns: 20 },
    );
  });

  it('default step is 1', async () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(await downShift(x).data()).toEqual(new Float32Array([0, 0, 1, 2]));
    expect(await rightShift(x).data()).toEqual(new Float32Array([0, 1, 0, 3]));
  });

  it('rejects bad input with a clear message', () => {
    expect(() => downShift(tf.zeros([28, 28]))).toThrow(
      'Error in downShift: expected rank 4, got [28, 28]',
    );
    expect(() => rightShift(tf.zeros([1, 28, 28]))).toThrow(
      'Error in rightShift: expected rank 4, got [1, 28, 28]',
    );
    expect(() => downShift(tf.zeros([1, 2, 2, 1]), 3)).toThrow(
      'Error in downShift: cannot shift [1, 2, 2, 1] by 3',
    );
    expect(() => rightShift(tf.zeros([1, 2, 2, 1]), -1)).toThrow(
      'Error in rightShift: steps must be a non-negative integer, got -1',
    );
  });
});
