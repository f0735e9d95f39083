import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randn, randomizeGB } from '../test/helpers';
import { maxRelDiff } from '../test/reference';
import { createDenseParams, dense, disposeParams, nin } from './index';

describeBackends('dense / nin', () => {
  it('dense = x (g * v / ||v||) + b on the last axis, any leading shape (float64 reference)', async () => {
    for (const wn of [true, false]) {
      const p = createDenseParams({ inUnits: 3, outUnits: 2, weightNorm: wn, seed: 4 });
      randomizeGB(p, 9);
      const x = randn([2, 3, 3], 5);
      const y = dense(x, p);
      expect(y.shape).toEqual([2, 3, 2]);
      const v = (await p.v.array()) as number[][];
      const g = p.g ? await p.g.data() : [1, 1];
      const b = await p.b.data();
      const norms = [0, 1].map((j) => (wn ? Math.hypot(...v.map((r) => r[j])) : 1));
      const xs = await x.data();
      const ref: number[] = [];
      for (let n = 0; n < 6; n++)
        for (let j = 0; j < 2; j++) {
          let acc = b[j];
          for (let i = 0; i < 3; i++) acc += (xs[n * 3 + i] * g[j] * v[i][j]) / norms[j];
          ref.push(acc);
        }
      expect(maxRelDiff(await y.data(), ref)).toBeLessThan(1e-6);
      // nin is the same map at every pixel
      const x4 = tf.reshape(x, [1, 2, 3, 3]);
      const y4 = nin(x4, p);
      expect(y4.shape).toEqual([1, 2, 3, 2]);
      expect(maxRelDiff(await y4.data(), ref)).toBeLessThan(1e-6);
      disposeParams(p);
    }
  });

  it('rejects bad input with a clear message', () => {
    const p = createDenseParams({ inUnits: 3, outUnits: 2 });
    expect(() => dense(tf.zeros([4, 5]), p)).toThrow(
      'Error in dense: input has 5 features but the weights expect 3 (x [4, 5], v [3, 2])',
    );
    expect(() => nin(tf.zeros([4, 3]), p)).toThrow('Error in nin: expected rank 4, got [4, 3]');
    expect(() => nin(tf.zeros([1, 2, 2, 4]), p)).toThrow(
      'Error in nin: input has 4 features but the weights expect 3 (x [1, 2, 2, 4], v [3, 2])',
    );
    expect(() => dense(tf.zeros([1, 3]), p, { init: true, initScale: 0 })).toThrow(
      'Error in dense: initScale must be a positive number, got 0',
    );
    disposeParams(p);
  });
});
