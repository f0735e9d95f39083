import * as tf from '@tensorflow/tfjs-core';
import { check, checkRank4, fmt, isPositiveInt } from './errors';

/** Which shifted conv a masked kernel should reproduce. */
export type ShiftedConvKind = 'downShifted' | 'downRightShifted';

export interface MaskedCounterpartOptions {
  kind: ShiftedConvKind;
  /** Kernel size `[kh, kw]` of the shifted conv (`kw` odd for 'downShifted'). */
  kernelSize: [number, number];
  /** Stride of the shifted conv (default 1 for convs, 2 for transposed). */
  strides?: 1 | 2;
  /** The transposed (deconv) version. Default false. */
  transposed?: boolean;
}

/** A 'same'-padded masked kernel equivalent to a shifted conv. */
export interface MaskedCounterpart {
  /** Size of the bigger 'same' kernel. */
  kernelSize: [number, number];
  /** Where the small `[kh, kw]` kernel sits inside it: rows `offset[0]..`, columns `offset[1]..`. */
  offset: [number, number];
  /** `[KH, KW, 1, 1]` 0/1 mask: ones exactly where the small kernel sits. */
  mask: tf.Tensor4D;
  strides: 1 | 2;
  transposed: boolean;
}

/** Big-kernel size and offset along one axis (see maskedCounterpart for the derivation). */
function axisLayout(
  k: number,
  centred: boolean,
  strides: 1 | 2,
  transposed: boolean,
): [number, number] {
  if (centred) {
    // Shifted conv: pad (k-1)/2 on both sides. 'same': stride 1 pads (K-1)/2 before; stride 2 on
    // even sizes pads floor((K-2)/2) before. Both give K-sized kernels with the small one at 0.
    return [strides === 1 ? k : k + 1, 0];
  }
  if (!transposed) {
    // Causal axis, conv: pad k-1 before. 'same' pads (K-1)/2 (stride 1) or (K-2)/2 (stride 2)
    // before, so K = 2k-1 resp. 2k with the small kernel at 0 (the taps after the centre are zero).
    return [strides === 1 ? 2 * k - 1 : 2 * k, 0];
  }
  // Causal axis, transposed: output o = s*i + k' (crop of the VALID output). 'same' gives
  // o = s*i + K' - before with before = floor((K-1)/2) (s=1) or floor((K-2)/2) (s=2).
  if (strides === 1) return [2 * k - 1, k - 1];
  const big = Math.max(2 * k - 2, 2);
  return [big, Math.floor((big - 2) / 2)];
}

/**
 * The classic masked ('same' conv with kernel * mask) equivalent of a shifted conv: a bigger kernel
 * with the small `[kh, kw]` kernel embedded at `offset` (see {@link embedKernel}) and zeros
 * elsewhere gives exactly the same output as downShiftedConv2d / downRightShiftedConv2d (or their
 * deconv versions) with the small kernel. For PixelCNN++'s sizes these are TFP's masks: e.g.
 * `downShifted [2, 3]` stride 1 is TFP's vertical-stack `(3, 3)` kernel with rows `0..1` valid.
 */
export function maskedCounterpart(o: MaskedCounterpartOptions): MaskedCounterpart {
  const fn = 'maskedCounterpart';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  check(
    o.kind === 'downShifted' || o.kind === 'downRightShifted',
    fn,
    () => `unknown kind ${JSON.stringify(o.kind)} (expected 'downShifted' or 'downRightShifted')`,
  );
  const ks = o.kernelSize;
  check(
    Array.isArray(ks) && ks.length === 2 && isPositiveInt(ks[0]) && isPositiveInt(ks[1]),
    fn,
    () => `kernelSize must be two positive integers, got ${JSON.stringify(ks)}`,
  );
  const [kh, kw] = ks;
  check(
    o.kind !== 'downShifted' || kw % 2 === 1,
    fn,
    () => `kernel width must be odd for 'downShifted', got kernelSize [${kh}, ${kw}]`,
  );
  const transposed = o.transposed ?? false;
  const strides = o.strides ?? (transposed ? 2 : 1);
  check(
    strides === 1 || strides === 2,
    fn,
    () => `strides must be 1 or 2, got ${JSON.stringify(o.strides)}`,
  );
  const [bigH, offH] = axisLayout(kh, false, strides, transposed);
  const [bigW, offW] = axisLayout(kw, o.kind === 'downShifted', strides, transposed);
  const data = new Float32Array(bigH * bigW);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) data[(r + offH) * bigW + (c + offW)] = 1;
  }
  return {
    kernelSize: [bigH, bigW],
    offset: [offH, offW],
    mask: tf.tensor4d(data, [bigH, bigW, 1, 1]),
    strides,
    transposed,
  };
}

/**
 * Place a small kernel `[kh, kw, a, b]` into a zero kernel of size `layout.kernelSize` at
 * `layout.offset` (use with {@link maskedCounterpart} or {@link tfpMask} layouts).
 */
export function embedKernel(
  small: tf.Tensor,
  layout: { kernelSize: [number, number]; offset: [number, number] },
): tf.Tensor4D {
  const fn = 'embedKernel';
  checkRank4(small, fn, 'small');
  const [kh, kw] = small.shape;
  const [bh, bw] = layout.kernelSize;
  const [oh, ow] = layout.offset;
  check(
    oh >= 0 && ow >= 0 && oh + kh <= bh && ow + kw <= bw,
    fn,
    () => `a kernel ${fmt(small)} at offset [${oh}, ${ow}] does not fit in [${bh}, ${bw}]`,
  );
  return tf.pad(small, [
    [oh, bh - oh - kh],
    [ow, bw - ow - kw],
    [0, 0],
    [0, 0],
  ]) as tf.Tensor4D;
}
