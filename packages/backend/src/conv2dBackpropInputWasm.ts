import type * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropInputPolyphase } from './conv2dBackpropInputPolyphase';
import { type ConvGradientAttrs, gradientConvInfo } from './convGradientInfo';
import { type KernelArgs, withKernelScope } from './kernelScope';
import { wasmConvAlgorithms } from './wasmConvAlgorithms';

interface Conv2DBackpropInputAttrs extends ConvGradientAttrs {
  inputShape: [number, number, number, number];
}

/**
 * A fast input gradient of conv2d (`Conv2DBackpropInput`, also the forward pass of
 * `conv2dTranspose`) for the wasm backend. The stock kernel is a naive C++ loop (~2 GFLOP/s);
 * this one is one XNNPACK Conv2D: for y = conv2d(x, w) with stride s and padding (top, left),
 *
 *   dx[b, p, q, c] = sum_{i, j, di, dj, o: i*s + di - top = p, j*s + dj - left = q} dy[b, i, j, o] * w[di, dj, c, o]
 *
 * equals a stride-1 convolution of z (dy with s-1 zeros inserted after every row and column,
 * `[B, outH*s, outW*s, O]`) with the flipped filter w' = transpose(reverse(w, [0, 1]))
 * `[kh, kw, O, C]`, padded by kh-1-top on top and H+top-outH*s at the bottom (a negative
 * padding crops z instead: those rows of dy only ever met the padding).
 *
 * Inputs: dy `[B, outH, outW, O]`, filter `[kh, kw, C, O]`; attrs as tfjs's
 * `conv2DBackpropInput` (strides, pad, dimRoundingMode, inputShape `[B, H, W, C]`). NCHW is
 * handed to the stock kernel. By default {@link conv2dBackpropInputPolyphase} does the same
 * without the inserted zeros (see `wasmConvAlgorithms`).
 */
export function conv2dBackpropInputWasm({
  inputs,
  backend,
  attrs,
}: KernelArgs<'dy' | 'filter'>): tf.TensorInfo {
  const { dy, filter } = inputs;
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  const fn = 'Conv2DBackpropInput (wasm)';
  if (a.dataFormat === 'NCHW') {
    if (!stockKernel) {
      throw new Error(`Error in ${fn}: NCHW needs the stock kernel, which is not registered`);
    }
    return stockKernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
  }
  const filterShape = filter.shape as [number, number, number, number];
  const shapes = `inputShape [${a.inputShape}] and filter [${filter.shape}]`;
  const info = gradientConvInfo(fn, a.inputShape, filterShape, a, dy, shapes);
  const { batchSize: b, inHeight: h, inWidth: w, outChannels, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const zh = outHeight * sh;
  const zw = outWidth * sw;
  const padTop = kh - 1 - info.padInfo.top;
  const padBottom = h + info.padInfo.top - zh;
  const padLeft = kw - 1 - info.padInfo.left;
  const padRight = w + info.padInfo.left - zw;

  return withKernelScope(backend, 'wasm', fn, (k) => {
    // polyphase by default (at stride > 1, no multiplications by the inserted zeros)
    if (wasmConvAlgorithms().backpropInput === 'polyphase')
      return conv2dBackpropInputPolyphase(k, backend, dy, filter, info);
    let z = dy;
    if (sh > 1 || sw > 1) {
      // Zero insertion: [B, oH, 1, oW, 1, O] padded to [B, oH, sh, oW, sw, O].
      const spread = k.reshape(dy, [b, outHeight, 1, outWidth, 1, outChannels]);
      const padded = k.run(
        'PadV2',
        { x: spread },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      z = k.reshape(padded, [b, zh, zw, outChannels]);
    }
    const cropTop = Math.max(0, -padTop);
    const cropBottom = Math.max(0, -padBottom);
    const cropLeft = Math.max(0, -padLeft);
    const cropRight = Math.max(0, -padRight);
    if (cropTop + cropBottom + cropLeft + cropRight > 0) {
      z = k.run(
        'Slice',
        { x: z },
        {
          begin: [0, cropTop, cropLeft, 0],
          size: [b, zh - cropTop - cropBottom, zw - cropLeft - cropRight, outChannels],
        },
      );
    }
    const reversed = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flipped = k.transpose(reversed, [0, 1, 3, 2]); // [kh, kw, O, C]
    return k.run(
      'Conv2D',
      { x: z, filter: flipped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [Math.max(0, padTop), Math.max(0, padBottom)],
          [Math.max(0, padLeft), Math.max(0, padRight)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [B, H, W, C]
  });
}

/** The wasm backend's own kernel, kept for NCHW and for benchmarks. */
let stockKernel: tf.KernelConfig | undefined;

/** Remember the stock kernel we replace (called before unregistering it). */
export function rememberStockConv2dBackpropInput(config: tf.KernelConfig | undefined): void {
  if (config && config.kernelFunc !== (conv2dBackpropInputWasm as unknown)) stockKernel = config;
}

export const conv2dBackpropInputWasmConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInputWasm as unknown as tf.KernelFunc,
  // The stock kernel binds its C function in its setup; keep it usable for NCHW.
  setupFunc: (backend) => stockKernel?.setupFunc?.(backend),
};
