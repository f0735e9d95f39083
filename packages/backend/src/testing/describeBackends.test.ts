import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectedBackends } from './backends';
import { describeBackends } from './describeBackends';

const seen: string[] = [];

describeBackends('describeBackends', ({ backend }) => {
  it('runs with the named backend active', () => {
    seen.push(backend);
    const expected = backend === 'tensorflow-gpu' ? 'tensorflow' : backend;
    expect(tf.getBackend()).toBe(expected);
    const y = tf.add(tf.tensor1d([1, 2]), tf.scalar(1));
    expect(Array.from(y.dataSync())).toEqual([2, 3]);
  });
});

describeBackends(
  'a block that needs a kernel nobody has',
  () => {
    it('never runs', () => {
      throw new Error('a block needing a missing kernel ran');
    });
  },
  { kernels: ['NoSuchKernel'] },
);

describe('describeBackends bookkeeping', () => {
  it('ran the first block once per selected backend', () => {
    expect(seen).toEqual(selectedBackends());
  });
});
