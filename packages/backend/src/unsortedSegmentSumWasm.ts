import * as tf from '@tensorflow/tfjs-core';
import { type KernelArgs, withKernelScope } from './kernelScope';

/**
 * `UnsortedSegmentSum` for the wasm backend (missing in tfjs 4.22; `tf.gather`'s gradient
 * needs it): out[s, ...] = sum over n with ids[n] = s of x[n, ...], as one matrix product
 * oneHot(ids, S)^T `[S, N]` x reshape(x, [N, R]) `[N, R]` -> `[S, ...x.shape[ids.rank:]]`.
 * Ids outside [0, S) contribute nothing (their one-hot row is zero), as in TensorFlow.
 *
 * Inputs: x `[...ids.shape, ...rest]` float32 or int32, segmentIds int32; attrs numSegments.
 */
export function unsortedSegmentSumWasm({
  inputs,
  backend,
  attrs,
}: KernelArgs<'x' | 'segmentIds'>): tf.TensorInfo {
  const { x, segmentIds } = inputs;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const n = tf.util.sizeFromShape(segmentIds.shape);
  const restShape = x.shape.slice(segmentIds.shape.length);
  const r = tf.util.sizeFromShape(restShape);
  return withKernelScope(backend, 'wasm', 'UnsortedSegmentSum (wasm)', (k) => {
    const ids = k.reshape(segmentIds, [n]);
    // The wasm OneHot writes int32 whatever dtype it is asked for.
    const oneHotInt = k.run(
      'OneHot',
      { indices: ids },
      { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' },
    );
    const oneHot = k.run('Cast', { x: oneHotInt }, { dtype: 'float32' }); // [N, S]
    const xf = x.dtype === 'float32' ? x : k.run('Cast', { x }, { dtype: 'float32' });
    const product = k.run(
      'BatchMatMul',
      { a: k.reshape(oneHot, [1, n, numSegments]), b: k.reshape(xf, [1, n, r]) },
      { transposeA: true, transposeB: false },
    ); // [1, S, R]
    const out = k.reshape(product, [numSegments, ...restShape]);
    return x.dtype === 'float32' ? out : k.run('Cast', { x: out }, { dtype: x.dtype });
  });
}

export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
};
