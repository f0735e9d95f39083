import * as tf from '@tensorflow/tfjs-core';
import { checkConvCall, checkEvenForStride2, checkStrides12 } from './convCheck';
import { check } from './errors';
import type { ConvParams } from './params';
import { type LayerCallOptions, runLinear } from './weightNorm';

export interface ShiftedConvOptions extends LayerCallOptions {
  /** 1 (default) or 2; stride 2 halves H and W, which must be even. */
  strides?: 1 | 2;
}

/**
 * Down-shifted convolution (PixelCNN++ nn.py `down_shifted_conv2d`): pad `kh-1` rows on top and
 * `(kw-1)/2` columns on each side (the conv's explicit padding), then a VALID conv with the exact
 * `[kh, kw]` kernel (default PixelCNN++ size `[2, 3]`; `kw` must be odd).
 * `[B, H, W, inC] -> [B, H/s, W/s, outC]`.
 *
 * Causality: output `(r, c)` (stride 1) sees input rows `r-kh+1 .. r` and columns
 * `c-(kw-1)/2 .. c+(kw-1)/2`, never a row below `r`; with stride 2, output `(i, j)` sees rows
 * `2i-kh+1 .. 2i`. Apply {@link downShift} to the first layer's output (vertical stack) so a
 * pixel only sees rows strictly above it.
 */
export function downShiftedConv2d(
  x: tf.Tensor,
  p: ConvParams,
  o: ShiftedConvOptions = {},
): tf.Tensor4D {
  const fn = 'downShiftedConv2d';
  checkConvCall(fn, x, p, false, o);
  const strides = checkStrides12(fn, o.strides ?? 1);
  checkEvenForStride2(fn, x, strides);
  const [kh, kw] = p.kernelSize;
  check(
    kw % 2 === 1,
    fn,
    () => `kernel width must be odd (centred columns), got kernelSize [${kh}, ${kw}]`,
  );
  const side = (kw - 1) / 2;
  // the padding inside the conv (no padded copy of x, and no slice of its gradient)
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [kh - 1, 0],
    [side, side],
    [0, 0],
  ];
  return runLinear(
    p,
    3,
    (w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad),
    o,
  ) as tf.Tensor4D;
}

/**
 * Down-right-shifted convolution (PixelCNN++ nn.py `down_right_shifted_conv2d`): pad `kh-1` rows on
 * top and `kw-1` columns on the left (the conv's explicit padding), then a VALID conv with the
 * exact `[kh, kw]` kernel (default `[2, 2]`). `[B, H, W, inC] -> [B, H/s, W/s, outC]`.
 *
 * Causality: output `(r, c)` (stride 1) sees rows `r-kh+1 .. r` and columns `c-kw+1 .. c`; with
 * stride 2, output `(i, j)` sees rows `<= 2i`, columns `<= 2j`. Apply {@link rightShift} to the
 * first layer's output (horizontal stack) so a pixel only sees columns strictly to its left.
 */
export function downRightShiftedConv2d(
  x: tf.Tensor,
  p: ConvParams,
  o: ShiftedConvOptions = {},
): tf.Tensor4D {
  const fn = 'downRightShiftedConv2d';
  checkConvCall(fn, x, p, false, o);
  const strides = checkStrides12(fn, o.strides ?? 1);
  checkEvenForStride2(fn, x, strides);
  const [kh, kw] = p.kernelSize;
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [kh - 1, 0],
    [kw - 1, 0],
    [0, 0],
  ];
  return runLinear(
    p,
    3,
    (w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad),
    o,
  ) as tf.Tensor4D;
}
