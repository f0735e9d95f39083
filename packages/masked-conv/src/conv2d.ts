import * as tf from '@tensorflow/tfjs-core';
import { checkConvCall } from './convCheck';
import { check, isPositiveInt } from './errors';
import type { ConvParams } from './params';
import { type LayerCallOptions, runLinear } from './weightNorm';

export interface Conv2dOptions extends LayerCallOptions {
  /** Stride for rows and columns (default 1). */
  strides?: number | [number, number];
  /** tfjs padding (default 'same', as pixel-cnn's conv2d). */
  padding?: 'same' | 'valid';
}

function parseStrides(fn: string, s: number | [number, number] | undefined): [number, number] {
  const st: [number, number] = s === undefined ? [1, 1] : typeof s === 'number' ? [s, s] : s;
  check(
    Array.isArray(st) && st.length === 2 && isPositiveInt(st[0]) && isPositiveInt(st[1]),
    fn,
    () => `strides must be a positive integer or two of them, got ${JSON.stringify(s)}`,
  );
  return st;
}

function parsePadding(fn: string, p: unknown): 'same' | 'valid' {
  const pad = p ?? 'same';
  check(
    pad === 'same' || pad === 'valid',
    fn,
    () => `padding must be 'same' or 'valid', got ${JSON.stringify(p)}`,
  );
  return pad;
}

/**
 * Plain (weight-normalised) convolution, pixel-cnn nn.py `conv2d`:
 * `[B, H, W, inC] -> [B, H', W', outC]` with tfjs 'same' / 'valid' semantics.
 */
export function conv2d(x: tf.Tensor, p: ConvParams, o: Conv2dOptions = {}): tf.Tensor4D {
  const fn = 'conv2d';
  checkConvCall(fn, x, p, false, o);
  const strides = parseStrides(fn, o.strides);
  const padding = parsePadding(fn, o.padding);
  return runLinear(
    p,
    3,
    (w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, padding),
    o,
  ) as tf.Tensor4D;
}

/**
 * Transposed (weight-normalised) convolution, pixel-cnn nn.py `deconv2d`, `p` made with
 * `transposed: true`. `[B, H, W, inC] -> [B, s*H, s*W, outC]` for 'same' and
 * `[B, s*H + kh - 1, s*W + kw - 1, outC]` for 'valid' (pixel-cnn's target shapes).
 */
export function deconv2d(x: tf.Tensor, p: ConvParams, o: Conv2dOptions = {}): tf.Tensor4D {
  const fn = 'deconv2d';
  checkConvCall(fn, x, p, true, o);
  const strides = parseStrides(fn, o.strides);
  const padding = parsePadding(fn, o.padding);
  const [b, h, w] = x.shape;
  const [kh, kw] = p.kernelSize;
  const outShape: [number, number, number, number] =
    padding === 'same'
      ? [b, h * strides[0], w * strides[1], p.outChannels]
      : [b, h * strides[0] + kh - 1, w * strides[1] + kw - 1, p.outChannels];
  return runLinear(
    p,
    2,
    (k) => tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, outShape, strides, padding),
    o,
  ) as tf.Tensor4D;
}
