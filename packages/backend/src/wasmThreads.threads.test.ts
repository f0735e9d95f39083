import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  type ConvGeometry,
  conv2dFilterGradRef,
  conv2dInputGradRef,
  convLayout,
  randomValues,
  relativeError,
} from './testing/convReference';
import { describeBackends } from './testing/describeBackends';
import { enableWasmThreads, wasmThreadsReport } from './wasmThreads';

// Runs in the 'wasm-threads' project: the setup file started wasm with PIXELCNN_WASM_THREADS=2.
describeBackends(
  'wasm with 2 threads in Node',
  () => {
    it('runs 2 threads', async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      expect(process.env.PIXELCNN_WASM_THREADS).toBe('2');
      expect(wasmThreadsReport()).toMatchObject({ requested: 2, threads: 2 });
      expect(wasm.getThreadsCount()).toBe(2);
      expect(await enableWasmThreads(4)).toBe(2); // fixed once started
    });

    it('computes conv2d gradients that match a float64 reference', async () => {
      const g: ConvGeometry = {
        batch: 2,
        inH: 12,
        inW: 12,
        inC: 8,
        outC: 8,
        kh: 3,
        kw: 3,
        stride: [2, 2],
        dilation: [1, 1],
        pad: 'same',
      };
      const { outH, outW } = convLayout(g);
      const xv = randomValues(2 * 12 * 12 * 8, 1);
      const wv = randomValues(3 * 3 * 8 * 8, 2);
      const rv = randomValues(2 * outH * outW * 8, 3);
      const x = tf.tensor4d(xv, [2, 12, 12, 8]);
      const w = tf.tensor4d(wv, [3, 3, 8, 8]);
      const r = tf.tensor4d(rv, [2, outH, outW, 8]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), r)),
      )([x, w]);
      expect(relativeError(await dx.data(), conv2dInputGradRef(g, rv, wv))).toBeLessThanOrEqual(
        1e-5,
      );
      expect(relativeError(await dw.data(), conv2dFilterGradRef(g, xv, rv))).toBeLessThanOrEqual(
        1e-5,
      );
    });
  },
  { only: ['wasm'] },
);
