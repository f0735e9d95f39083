import * as tf from '@tensorflow/tfjs-core';
import { checkConvCall, checkStrides12 } from './convCheck';
import { check } from './errors';
import type { ConvParams } from './params';
import { type LayerCallOptions, runLinear } from './weightNorm';

export interface ShiftedDeconvOptions extends LayerCallOptions {
  /** 2 (default, the up pass: H and W double) or 1. */
  strides?: 1 | 2;
}

/**
 * Down-shifted transposed convolution (PixelCNN++ nn.py `down_shifted_deconv2d`), `p` made with
 * `transposed: true` (`v` is `[kh, kw, outC, inC]`; default size `[2, 3]`, `kw` odd).
 * `[B, H, W, inC] -> [B, s*H, s*W, outC]`: a VALID transposed conv to
 * `[B, s*H + kh - 1, s*W + kw - 1]`, cropped to the first `s*H` rows and the centred `s*W` columns.
 *
 * Causality: output row `r` only receives input rows `i` with `s*i <= r` (columns within
 * `(kw-1)/2` of `s*j`), so after a stride-2 down-shifted conv the composition still never looks
 * below the current row.
 */
export function downShiftedDeconv2d(
  x: tf.Tensor,
  p: ConvParams,
  o: ShiftedDeconvOptions = {},
): tf.Tensor4D {
  const fn = 'downShiftedDeconv2d';
  checkConvCall(fn, x, p, true, o);
  const s = checkStrides12(fn, o.strides ?? 2);
  const [kh, kw] = p.kernelSize;
  check(
    kw % 2 === 1,
    fn,
    () => `kernel width must be odd (centred columns), got kernelSize [${kh}, ${kw}]`,
  );
  const [b, h, w] = x.shape;
  const out: [number, number, number, number] = [b, s * h, s * w, p.outChannels];
  const side = (kw - 1) / 2;
  // The VALID transposed conv [B, sH + kh - 1, sW + kw - 1, outC] cropped to rows [0, sH) and
  // columns [side, side + sW): the crop as the conv's explicit padding (no slice, no pad of its
  // gradient).
  const crop: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [0, kh - 1],
    [side, side],
    [0, 0],
  ];
  return runLinear(
    p,
    2,
    (k) => tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, out, s, crop),
    o,
  ) as tf.Tensor4D;
}

/**
 * Down-right-shifted transposed convolution (PixelCNN++ nn.py `down_right_shifted_deconv2d`), `p`
 * made with `transposed: true` (default size `[2, 2]`). `[B, H, W, inC] -> [B, s*H, s*W, outC]`:
 * a VALID transposed conv cropped to the first `s*H` rows and first `s*W` columns.
 *
 * Causality: output `(r, c)` only receives inputs `(i, j)` with `s*i <= r` and `s*j <= c`.
 */
export function downRightShiftedDeconv2d(
  x: tf.Tensor,
  p: ConvParams,
  o: ShiftedDeconvOptions = {},
): tf.Tensor4D {
  const fn = 'downRightShiftedDeconv2d';
  checkConvCall(fn, x, p, true, o);
  const s = checkStrides12(fn, o.strides ?? 2);
  const [kh, kw] = p.kernelSize;
  const [b, h, w] = x.shape;
  const out: [number, number, number, number] = [b, s * h, s * w, p.outChannels];
  const crop: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [0, kh - 1],
    [0, kw - 1],
    [0, 0],
  ]; // the first sH rows and sW columns of the VALID transposed conv
  return runLinear(
    p,
    2,
    (k) => tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, out, s, crop),
    o,
  ) as tf.Tensor4D;
}
