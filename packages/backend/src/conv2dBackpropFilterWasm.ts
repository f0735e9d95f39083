import type * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterTaps } from './conv2dBackpropFilterTaps';
import { type ConvGradientAttrs, gradientConvInfo } from './convGradientInfo';
import { type KernelArgs, withKernelScope } from './kernelScope';
import { wasmConvAlgorithms } from './wasmConvAlgorithms';

interface Conv2DBackpropFilterAttrs extends ConvGradientAttrs {
  filterShape: [number, number, number, number];
}

/**
 * The weight gradient of conv2d (`Conv2DBackpropFilter`), which the wasm backend of tfjs 4.22
 * lacks, built from kernels it has: for y = conv2d(x, w) with stride s and padding (top, left),
 *
 *   dw[di, dj, c, o] = sum_{b, i, j} x[b, i*s + di - top, j*s + dj - left, c] * dy[b, i, j, o]
 *
 * which is itself a convolution once the batch becomes the contraction axis:
 * x^T = transpose(x) `[C, H, W, B]` (C "images" of B channels) convolved with the "filter"
 * dy^T = transpose(dy) `[outH, outW, B, O]` at stride 1, dilation s and the same top/left
 * padding gives `[C, >=kh, >=kw, O]`; slice to `[C, kh, kw, O]`, transpose to `[kh, kw, C, O]`.
 * XNNPACK then does the heavy part at conv speed.
 *
 * Inputs: x `[B, H, W, C]`, dy `[B, outH, outW, O]`; attrs as tfjs's `conv2DBackpropFilter`
 * (strides, pad 'same' | 'valid' | number | explicit, dimRoundingMode, filterShape
 * `[kh, kw, C, O]`). NHWC only (the wasm Conv2D is NHWC only too). It serves both conv2d's and
 * conv2dTranspose's filter gradients (tfjs calls it with x = the upstream gradient there).
 * By default {@link conv2dBackpropFilterTaps} computes it instead (see `wasmConvAlgorithms`).
 */
export function conv2dBackpropFilterWasm({
  inputs,
  backend,
  attrs,
}: KernelArgs<'x' | 'dy'>): tf.TensorInfo {
  const { x, dy } = inputs;
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  const fn = 'Conv2DBackpropFilter (wasm)';
  if (a.dataFormat === 'NCHW') {
    throw new Error(`Error in ${fn}: only dataFormat 'NHWC' is supported, got 'NCHW'`);
  }
  const xShape = x.shape as [number, number, number, number];
  const shapes = `x [${x.shape}] and filter [${a.filterShape}]`;
  const info = gradientConvInfo(fn, xShape, a.filterShape, a, dy, shapes);
  const { inHeight, inWidth, inChannels, outChannels, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Rows/cols past the input that the last output position reads (zero padding).
  const bottom = Math.max(0, (outHeight - 1) * sh + kh - 1 - top - (inHeight - 1));
  const right = Math.max(0, (outWidth - 1) * sw + kw - 1 - left - (inWidth - 1));

  return withKernelScope(backend, 'wasm', fn, (k) => {
    // by default one matmul per tap (the conv below starves on few images)
    if (wasmConvAlgorithms().backpropFilter === 'taps')
      return conv2dBackpropFilterTaps(k, backend, x, dy, info);
    const xT = k.transpose(x, [3, 1, 2, 0]); // [C, H, W, B]
    const dyT = k.transpose(dy, [1, 2, 0, 3]); // [outH, outW, B, O]
    const conv = k.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [C, >=kh, >=kw, O]
    const cropped =
      conv.shape[1] === kh && conv.shape[2] === kw
        ? conv
        : k.run(
            'Slice',
            { x: conv },
            { begin: [0, 0, 0, 0], size: [inChannels, kh, kw, outChannels] },
          );
    return k.transpose(cropped, [1, 2, 0, 3]); // [kh, kw, C, O]
  });
}

export const conv2dBackpropFilterWasmConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
};
