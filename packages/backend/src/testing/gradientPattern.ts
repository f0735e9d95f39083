import * as tf from '@tensorflow/tfjs-core';

/**
 * Which input pixels an output pixel depends on, for causality tests: the gradient of
 * sum_ch f(x)[0, r, c, :] with respect to x `[2, H, W, C]`, as |.| summed over channels at each
 * pixel of image 0 (`img0`, row-major), and its largest |.| over image 1 (`img1Max`: 0 when the
 * images do not mix).
 */
export async function gradientPattern(
  f: (x: tf.Tensor4D) => tf.Tensor4D,
  x: tf.Tensor4D,
  r: number,
  c: number,
): Promise<{ img0: Float64Array; img1Max: number }> {
  const g = tf.tidy(() =>
    tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(f(xx as tf.Tensor4D), [0, r, c, 0], [1, 1, 1, -1])))(
      x,
    ),
  );
  const d = await g.data();
  g.dispose();
  const [, h, w, channels] = x.shape;
  const img0 = new Float64Array(h * w);
  let img1Max = 0;
  for (let i = 0; i < h * w; i++)
    for (let k = 0; k < channels; k++) {
      img0[i] += Math.abs(d[i * channels + k]);
      img1Max = Math.max(img1Max, Math.abs(d[(h * w + i) * channels + k]));
    }
  return { img0, img1Max };
}
