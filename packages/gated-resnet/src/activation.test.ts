import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { act, mat, maxRelDiff } from '../test/reference';
import { ACTIVATIONS, activationWidth, applyActivation } from './index';

describeBackends('activations', () => {
  it('concat_elu = elu(concat([x, -x])), elu, relu (float64 reference), and their widths', async () => {
    const x = tf.tensor3d([-3, -1, -0.25, 0, 0.25, 1, 3, 10, -10, 0.5, -0.5, 2], [2, 2, 3]);
    for (const a of ACTIVATIONS) {
      const y = applyActivation(x, a);
      expect(y.shape).toEqual([2, 2, activationWidth(3, a)]);
      expect(maxRelDiff(await y.data(), act(await mat(x), a).data), a).toBeLessThan(1e-6);
    }
    expect(activationWidth(5, 'concat_elu')).toBe(10);
    expect(activationWidth(5, 'elu')).toBe(5);
    expect(activationWidth(5, 'relu')).toBe(5);
  });

  it('rejects unknown activations with a clear message', () => {
    expect(() => applyActivation(tf.zeros([1, 2]), 'tanh' as 'elu')).toThrow(
      `Error in applyActivation: unknown activation "tanh" (expected 'concat_elu', 'elu' or 'relu')`,
    );
    expect(() => activationWidth(3, 'gelu' as 'elu')).toThrow(
      `Error in activationWidth: unknown activation "gelu"`,
    );
    expect(() => activationWidth(0, 'elu')).toThrow(
      'Error in activationWidth: channels must be a positive integer, got 0',
    );
  });
});
