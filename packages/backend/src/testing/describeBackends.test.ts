import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectedBackends, takeSyncReads } from './backends';
import { describeBackends } from './describeBackends';

const seen: string[] = [];

describeBackends('describeBackends', ({ backend }) => {
  it('runs with the named backend active', async () => {
    seen.push(backend);
    const expected = backend === 'tensorflow-gpu' ? 'tensorflow' : backend;
    expect(tf.getBackend()).toBe(expected);
    const y = tf.add(tf.tensor1d([1, 2]), tf.scalar(1));
    expect(Array.from(await y.data())).toEqual([2, 3]);
  });
});

describeBackends(
  'synchronous reads',
  () => {
    it('throw on webgpu and are remembered, so a test that swallows the error still fails', async () => {
      const y = tf.add(tf.tensor1d([1, 2]), tf.scalar(1)); // computed on the GPU
      const x = tf.tensor1d([5, 6]); // still on the CPU side: reading it would not stall, but is flagged too
      expect(() => y.dataSync()).toThrow(/synchronous reads stall a GPU pipeline/i);
      expect(() => x.arraySync()).toThrow(
        /dataSync\/arraySync\/bufferSync of a float32 \[2\] tensor/,
      );
      expect(() => y.bufferSync()).toThrow(/Error in the webgpu test suite/);
      expect(takeSyncReads()).toHaveLength(3); // forgotten here, so afterEach passes
      expect(Array.from(await x.data())).toEqual([5, 6]);
    });
  },
  { only: ['webgpu'] },
);

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
