import * as tf from '@tensorflow/tfjs-core';

/** The attrs of tfjs's conv2d gradient kernels (each adds its filterShape or inputShape). */
export interface ConvGradientAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The geometry of the conv2d (NHWC, dilation 1) a gradient kernel differentiates: tfjs's
 * `computeConv2DInfo` of its input and filter shapes, once dy is checked to have that conv's
 * output shape (`shapes` says what the geometry came from, for the message).
 */
export function gradientConvInfo(
  fn: string,
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvGradientAttrs,
  dy: tf.TensorInfo,
  shapes: string,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new Error(
      `Error in ${fn}: dy must have shape [${expected}] for ${shapes}, got [${dy.shape}]`,
    );
  }
  return info;
}
