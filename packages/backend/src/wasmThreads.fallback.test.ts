import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { describeBackends } from './testing/describeBackends';
import { wasmThreadsReport } from './wasmThreads';

// Runs in the 'wasm-threads-fallback' project: PIXELCNN_WASM_THREADS=2 but TMPDIR points
// nowhere, so the worker script cannot be written and the setup file's initBackend must fall
// back to tfjs's own single-threaded backend.
describeBackends(
  'wasm threads that cannot start',
  () => {
    it('fall back to one working thread and say why', async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      expect(process.env.TMPDIR).toBe('/nonexistent/pixelcnn-no-tmp');
      const report = wasmThreadsReport();
      expect(report).toMatchObject({ requested: 2, threads: 1 });
      expect(report?.reason).toMatch(/^fell back to one thread: .*ENOENT/);
      expect(wasm.getThreadsCount()).toBe(1);
      const y = tf.conv2d(
        tf.ones([1, 3, 3, 1]) as tf.Tensor4D,
        tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
        1,
        'valid',
      );
      expect(Array.from(await y.data())).toEqual([9]);
    });
  },
  { only: ['wasm'] },
);
