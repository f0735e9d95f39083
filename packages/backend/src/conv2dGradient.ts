import * as tf from '@tensorflow/tfjs-core';

const MARK = Symbol.for('@pixelcnn/backend:conv2dGradient');

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const pair = (v: number | [number, number]): [number, number] =>
  typeof v === 'number' ? [v, v] : v;

/**
 * conv2d's gradient for the two cases tfjs 4.22 gets wrong on every backend:
 * - dilation > 1, which it refuses ("dilation rates greater than 1 are not yet supported in
 *   gradients"). A conv with dilation d equals an undilated conv with the zero-inserted filter
 *   w_d `[(kh-1)d+1, (kw-1)d+1, C, O]` (tfjs pads 'same' by that effective size too), so
 *   dx = Conv2DBackpropInput(dy, w_d) and dw = Conv2DBackpropFilter(x, dy)[::d, ::d];
 * - a numeric pad with a dimRoundingMode, which the stock gradient drops (the cpu backend then
 *   returns a wrong dx silently); here it is passed on.
 * Built from kernels every backend has.
 */
function generalGrad(dy: tf.Tensor, saved: tf.Tensor[], attrs: Conv2DAttrs) {
  const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
  const [dh, dw] = pair(attrs.dilations);
  const [kh, kw, c, o] = filter.shape;
  const effH = (kh - 1) * dh + 1;
  const effW = (kw - 1) * dw + 1;
  const common = {
    strides: attrs.strides,
    pad: attrs.pad,
    dataFormat: attrs.dataFormat,
    dimRoundingMode: attrs.dimRoundingMode,
  } as unknown as tf.NamedAttrMap;
  return {
    x: () =>
      tf.tidy(() => {
        const inputKernel = (f: tf.Tensor) =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: f },
              { ...common, inputShape: x.shape },
            ) as tf.Tensor;
        if (dh === 1 && dw === 1) return inputKernel(filter);
        // [kh, 1, kw, 1, C, O] -> [kh, dh, kw, dw, C, O] -> [kh*dh, kw*dw, C, O] -> crop
        const spread = tf.pad(tf.reshape(filter, [kh, 1, kw, 1, c, o]), [
          [0, 0],
          [0, dh - 1],
          [0, 0],
          [0, dw - 1],
          [0, 0],
          [0, 0],
        ]);
        const dilated = tf.slice(
          tf.reshape(spread, [kh * dh, kw * dw, c, o]),
          [0, 0, 0, 0],
          [effH, effW, c, o],
        );
        return inputKernel(dilated);
      }),
    filter: () =>
      tf.tidy(() => {
        const full = tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { ...common, filterShape: [effH, effW, c, o] },
          ) as tf.Tensor4D;
        if (dh === 1 && dw === 1) return full;
        return tf.stridedSlice(full, [0, 0, 0, 0], [effH, effW, c, o], [dh, dw, 1, 1]);
      }),
  };
}

/**
 * Wrap tfjs's Conv2D gradient so dilated convs, and numeric pads with a dimRoundingMode, train
 * correctly on every backend; every other conv goes to the stock gradient untouched.
 * Idempotent. Returns true when the gradient is (now) wrapped.
 */
export function registerConv2dGradient(): boolean {
  const stock = tf.getGradient('Conv2D');
  if (!stock) return false;
  if ((stock as unknown as Record<symbol, boolean>)[MARK]) return true;
  const config: tf.GradConfig = {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      const [dh, dw] = pair(a.dilations ?? 1);
      if (dh === 1 && dw === 1 && a.dimRoundingMode == null)
        return stock.gradFunc(dy, saved, attrs);
      return generalGrad(dy as tf.Tensor, saved, a);
    },
  };
  (config as unknown as Record<symbol, boolean>)[MARK] = true;
  tf.registerGradient(config);
  return true;
}
