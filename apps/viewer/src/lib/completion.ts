import { drawPixel, pixelAt, type Sampler, setPixel } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `image` ([H, W, C] row-major) with every row from `keepRows` on set to 0: the raster prefix a
 * completion conditions on. `keepRows` in [0, H].
 */
export function keepTopRows(
  image: ArrayLike<number>,
  shape: readonly [number, number, number],
  keepRows: number,
): Float32Array {
  const [H, W, C] = shape;
  checkKeepRows('keepTopRows', keepRows, H);
  if (image.length !== H * W * C) {
    throw new Error(
      `Error in keepTopRows: expected ${H * W * C} values for [${H}, ${W}, ${C}], got ${image.length}`,
    );
  }
  const out = new Float32Array(H * W * C);
  const keep = keepRows * W * C;
  for (let i = 0; i < keep; i++) out[i] = image[i];
  return out;
}

function checkKeepRows(fn: string, keepRows: number, H: number): void {
  if (!Number.isInteger(keepRows) || keepRows < 0 || keepRows > H) {
    throw new Error(`Error in ${fn}: keepRows must be an integer in [0, ${H}], got ${keepRows}`);
  }
}

/** Raster index of the first pixel a completion samples (everything before it is kept). */
export function firstSampledIndex(keepRows: number, width: number): number {
  return keepRows * width;
}

function abortError(): Error {
  const e = new Error('Error in sample: aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * A {@link Sampler} for `PixelCNN.sample(n, { sampler })` that completes a drawing: the first
 * `keepRows` rows of every image are the given `prefix` and the rest is drawn pixel by pixel from
 * p(x_i | x_<i, h), conditioning on the kept pixels. Exact for a raster prefix: the joint
 * p(x) = prod_i p(x_i | x_<i) factorises in raster order, so sampling only the pixels after the
 * prefix from their conditionals draws from p(rest | prefix). It runs the same per-pixel step as
 * pixelcnn-dist's naive sampler (`drawPixel`, same noise), so completing a sample's own top rows
 * with the noise that drew it gives that sample back exactly.
 *
 * @param prefix `[H, W, C]` (one prefix for all images) or `[n, H, W, C]`, row-major integers in
 *   [low, high]; only rows `< keepRows` are read.
 * @param keepRows rows kept, in [0, H]; 0 is plain sampling.
 */
export function prefixSampler(prefix: Float32Array, keepRows: number): Sampler {
  return async (net, n, o) => {
    const fn = 'prefixSampler';
    const [H, W, C] = net.config.imageShape;
    const { low, high } = net.config;
    checkKeepRows(fn, keepRows, H);
    const one = H * W * C;
    if (prefix.length !== one && prefix.length !== n * one) {
      throw new Error(
        `Error in ${fn}: prefix must have ${one} ([${H}, ${W}, ${C}]) or ${n * one} ([${n}, ${H}, ${W}, ${C}]) values, got ${prefix.length}`,
      );
    }
    const kept = new Float32Array(n * one);
    for (let b = 0; b < n; b++) {
      const src = prefix.length === one ? 0 : b * one;
      for (let i = 0; i < keepRows * W * C; i++) {
        const v = prefix[src + i];
        if (!(Number.isInteger(v) && v >= low && v <= high)) {
          throw new Error(
            `Error in ${fn}: prefix values must be integers in [${low}, ${high}], got ${v} at index ${src + i}`,
          );
        }
        kept[b * one + i] = v;
      }
    }
    // Integer values of the kept rows, and the network input: the same rescaling drawPixel feeds
    // back, (v - low) * 2/(high - low) - 1, only on the kept rows (0 elsewhere, as the naive sampler;
    // `+ 0` turns the masked -1 * 0 = -0 into +0 so the input is bit-identical to the naive one's).
    let out = tf.tensor4d(kept, [n, H, W, C]);
    let x = tf.tidy(() => {
      const rowMask = tf.tensor4d(
        Array.from({ length: H }, (_, r) => (r < keepRows ? 1 : 0)),
        [1, H, 1, 1],
      );
      const scaled = tf.sub(tf.mul(tf.sub(out, low), 2 / (high - low)), 1);
      return tf.add(tf.mul(scaled, rowMask), 0) as tf.Tensor4D;
    });
    try {
      for (let r = keepRows; r < H; r++) {
        for (let c = 0; c < W; c++) {
          if (o.signal?.aborted) throw abortError();
          const { values, fed } = tf.tidy(() => {
            const raw = net.forward(x, o.h);
            return drawPixel(net, pixelAt(raw, r, c), r, c, o);
          });
          const nx = setPixel(x, r, c, fed);
          const nout = setPixel(out, r, c, values);
          tf.dispose([x, out, fed]);
          x = nx;
          out = nout;
          if (o.onPixel) {
            const data = (await values.data()) as Float32Array;
            values.dispose();
            await o.onPixel({ row: r, col: c, index: r * W + c, total: H * W, values: data });
          } else {
            values.dispose();
          }
        }
      }
    } catch (e) {
      tf.dispose([x, out]);
      throw e;
    }
    x.dispose();
    return out;
  };
}
