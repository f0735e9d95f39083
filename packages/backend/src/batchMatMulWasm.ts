import type * as tf from '@tensorflow/tfjs-core';
import { type KernelArgs, withKernelScope } from './kernelScope';

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** The wasm backend's own kernel, which this one calls. */
let stockKernel: tf.KernelConfig | undefined;

/** Remember the stock kernel we wrap (called before unregistering it). */
export function rememberStockBatchMatMul(config: tf.KernelConfig | undefined): void {
  if (config && config.kernelFunc !== (batchMatMulWasm as unknown)) stockKernel = config;
}

/**
 * `BatchMatMul` for the wasm backend at full speed with transposed operands. In tfjs 4.22 the
 * wasm kernel uses XNNPACK only for `a @ b`; with `transposeA` or `transposeB` it falls back to a
 * naive loop, ~2.3 GFLOP/s against 13-58 (measured on 2 cores), and every gradient of a matMul
 * (`dy @ b^T`, `a^T @ dy`: the 1x1 layers of a PixelCNN, 20-45% of a training step) takes that
 * path. Here a transposed operand is transposed explicitly (a Transpose costs a few ms), then
 * the stock kernel runs `a @ b`. Same results: only the summation order inside XNNPACK differs.
 *
 * Inputs a `[...batch, M, K]` (or `[..., K, M]` with transposeA), b likewise; attrs as tfjs's
 * `BatchMatMul`.
 */
export function batchMatMulWasm({ inputs, backend, attrs }: KernelArgs<'a' | 'b'>): tf.TensorInfo {
  const fn = 'BatchMatMul (wasm)';
  const { transposeA, transposeB } = (attrs ?? {}) as unknown as BatchMatMulAttrs;
  if (!stockKernel) {
    throw new Error(`Error in ${fn}: the stock wasm BatchMatMul is not registered`);
  }
  const stock = stockKernel;
  if (!transposeA && !transposeB)
    return stock.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
  return withKernelScope(backend, 'wasm', fn, (k) => {
    const swapLast = (t: tf.TensorInfo) => {
      const r = t.shape.length;
      return k.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
    };
    const a = transposeA ? swapLast(inputs.a) : inputs.a;
    const b = transposeB ? swapLast(inputs.b) : inputs.b;
    return k.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  });
}

export const batchMatMulWasmConfig: tf.KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMulWasm as unknown as tf.KernelFunc,
  // The stock kernel binds its C function in its setup, and we call it.
  setupFunc: (backend) => stockKernel?.setupFunc?.(backend),
};
