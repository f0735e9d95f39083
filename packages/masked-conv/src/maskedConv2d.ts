import * as tf from '@tensorflow/tfjs-core';
import { checkConvCall, checkEvenForStride2, checkStrides12 } from './convCheck';
import { check, fmt } from './errors';
import type { ConvParams } from './params';
import { type LayerCallOptions, runLinear } from './weightNorm';

export interface MaskedConvOptions extends LayerCallOptions {
  /** Conv: 1 (default) or 2. Transposed params: 2 (default, output 2H x 2W) or 1. */
  strides?: 1 | 2;
}

/**
 * Classic masked convolution (PixelCNN; TFP): a 'same' conv (or, for `transposed` params, a 'same'
 * transposed conv, `[B, H, W, inC] -> [B, s*H, s*W, outC]`) with kernel `v * mask`; with weight
 * norm the kernel is `g * (v*mask) / ||v*mask||`. The mask is applied in every call, so the layer
 * is causal from initialisation on (unlike TFP's kernel constraints).
 *
 * `mask`: 0/1 tensor broadcastable to `v`: `[kh, kw, inC | 1, outC | 1]` (transposed:
 * `[kh, kw, outC | 1, inC | 1]`), e.g. from {@link pixelCnnMask}, {@link tfpMask} or
 * maskedCounterpart.
 */
export function maskedConv2d(
  x: tf.Tensor,
  p: ConvParams,
  mask: tf.Tensor,
  o: MaskedConvOptions = {},
): tf.Tensor4D {
  const fn = 'maskedConv2d';
  checkConvCall(fn, x, p, p?.transposed ?? false, o);
  check(
    mask != null && typeof mask === 'object' && Array.isArray(mask.shape),
    fn,
    () => 'mask must be a tf.Tensor',
  );
  const vs = p.v.shape;
  const ms = mask.shape;
  check(
    mask.rank === 4 &&
      ms[0] === vs[0] &&
      ms[1] === vs[1] &&
      (ms[2] === vs[2] || ms[2] === 1) &&
      (ms[3] === vs[3] || ms[3] === 1),
    fn,
    () => `mask ${fmt(mask)} does not fit the kernel v ${fmt(p.v)}`,
  );
  const strides = checkStrides12(fn, o.strides ?? (p.transposed ? 2 : 1));
  const x4 = x as tf.Tensor4D;
  if (!p.transposed) {
    checkEvenForStride2(fn, x, strides);
    return runLinear(
      p,
      3,
      (w) => tf.conv2d(x4, w as tf.Tensor4D, strides, 'same'),
      o,
      mask,
    ) as tf.Tensor4D;
  }
  const [b, h, w] = x.shape;
  const out: [number, number, number, number] = [b, strides * h, strides * w, p.outChannels];
  return runLinear(
    p,
    2,
    (k) => tf.conv2dTranspose(x4, k as tf.Tensor4D, out, strides, 'same'),
    o,
    mask,
  ) as tf.Tensor4D;
}
