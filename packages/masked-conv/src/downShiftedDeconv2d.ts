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
  const full: [number, number, number, number] = [b, s * h + kh - 1, s * w + kw - 1, p.outChannels];
  const side = (kw - 1) / 2;
  return runLinear(
    p,
    2,
    (k) => {
      const y = tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, full, s, 'valid');
      return tf.slice(y, [0, 0, side, 0], [-1, s * h, s * w, -1]); // [B, sH, sW, outC]
    },
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
  const full: [number, number, number, number] = [b, s * h + kh - 1, s * w + kw - 1, p.outChannels];
  return runLinear(
    p,
    2,
    (k) => {
      const y = tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, full, s, 'valid');
      return tf.slice(y, [0, 0, 0, 0], [-1, s * h, s * w, -1]); // [B, sH, sW, outC]
    },
    o,
  ) as tf.Tensor4D;
}
