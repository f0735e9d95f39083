import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { describeBackends } from './testing/describeBackends';
import { enableWasmThreads, MAX_WASM_THREADS, wasmThreadsReport } from './wasmThreads';

describeBackends(
  'enableWasmThreads',
  () => {
    it('rejects a thread count that is not a positive integer or "auto"', async () => {
      for (const bad of [0, -2, 1.5, Number.NaN, 'all' as never]) {
        await expect(enableWasmThreads(bad)).rejects.toThrow(
          /^Error in enableWasmThreads: threads must be a positive integer or 'auto', got /,
        );
      }
    });

    it('returns the running count, without crashing, once the wasm backend has started', async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      expect(tf.findBackend('wasm')).not.toBeNull();
      const running = wasm.getThreadsCount();
      expect(Number.isInteger(running) && running >= 1 && running <= MAX_WASM_THREADS).toBe(true);
      for (const asked of [2, 'auto', 1] as const) {
        expect(await enableWasmThreads(asked)).toBe(running);
        expect(wasmThreadsReport()).toMatchObject({ requested: asked, threads: running });
      }
      // the backend still computes
      const y = tf.conv2d(
        tf.ones([1, 4, 4, 2]) as tf.Tensor4D,
        tf.ones([3, 3, 2, 1]) as tf.Tensor4D,
        1,
        'same',
      );
      expect((await y.data())[5]).toBe(18);
    });
  },
  { only: ['wasm'] },
);
