import { sampleMixture, splitMixtureParams } from '@pixelcnn/logistic-mixture';
import * as tf from '@tensorflow/tfjs-core';
import type { SamplerNetwork, SamplerOptions } from './types';

/** `t[:, r, c, :]` of a `[N, H, W, D]` tensor, as `[N, D]`. */
export function pixelAt(t: tf.Tensor4D, r: number, c: number): tf.Tensor2D {
  const [n, , , d] = t.shape;
  return tf.reshape(tf.slice(t, [0, r, c, 0], [n, 1, 1, d]), [n, d]);
}

/** `x` with pixel (r, c) replaced by `v [N, D]` (exact: x*(1-m) + pad(v)). */
export function setPixel(x: tf.Tensor4D, r: number, c: number, v: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, H, W, d] = x.shape;
    const pad: Array<[number, number]> = [
      [0, 0],
      [r, H - r - 1],
      [c, W - c - 1],
      [0, 0],
    ];
    const mask = tf.pad(tf.ones([1, 1, 1, 1]), pad); // [1, H, W, 1]
    const placed = tf.pad(tf.reshape(v, [n, 1, 1, d]), pad); // [N, H, W, D]
    return tf.add(tf.mul(x, tf.sub(1, mask)), placed) as tf.Tensor4D;
  });
}

/** Pixel values `v` (integers in [low, high]) as the network sees them: scaled to [-1, 1]. */
export function gridToInput<T extends tf.Tensor>(v: T, low: number, high: number): T {
  return tf.tidy(() => tf.sub(tf.mul(tf.sub(v, low), 2 / (high - low)), 1) as T);
}

/**
 * The naive sampler's starting state: network input and integer values, both zero except the
 * first `prefix.pixels` raster positions, which hold the prefix (scaled for the input).
 */
function startingImages(
  net: SamplerNetwork,
  n: number,
  prefix: SamplerOptions['prefix'],
): { x: tf.Tensor4D; out: tf.Tensor4D } {
  const [H, W, C] = net.config.imageShape;
  if (!prefix || prefix.pixels === 0) {
    return { x: tf.zeros([n, H, W, C]), out: tf.zeros([n, H, W, C]) };
  }
  const { low, high } = net.config;
  return tf.tidy(() => {
    const kept = tf.tensor4d(
      Array.from({ length: H * W }, (_, i) => (i < prefix.pixels ? 1 : 0)),
      [1, H, W, 1],
    );
    const out = tf.mul(prefix.values, kept) as tf.Tensor4D;
    // `+ 0` turns -1 * 0 = -0 into +0: the input is then bit-identical to the zeros it replaces
    const x = tf.add(tf.mul(gridToInput(prefix.values, low, high), kept), 0) as tf.Tensor4D;
    return { x, out };
  });
}

/**
 * Draw pixel (r, c) of every image from the head output `raw [N, H, W, P]` with that pixel's noise.
 * Returns the grid values `[N, C]` and what to feed back into the network (grid values rescaled
 * to [-1, 1], or the continuous draws). Shared by all samplers so they agree bit for bit.
 */
export function drawPixel(
  net: SamplerNetwork,
  rawPixel: tf.Tensor2D,
  r: number,
  c: number,
  o: Pick<SamplerOptions, 'noise' | 'snapToGrid' | 'temperature'>,
): { values: tf.Tensor2D; fed: tf.Tensor2D } {
  const { config: cfg } = net;
  return tf.tidy(() => {
    const p = splitMixtureParams(rawPixel, {
      channels: cfg.imageShape[2],
      numMix: cfg.numLogisticMix,
      convention: cfg.convention,
    });
    const s = sampleMixture(p, {
      low: cfg.low,
      high: cfg.high,
      temperature: o.temperature,
      noise: { mix: pixelAt(o.noise.mix, r, c), logistic: pixelAt(o.noise.logistic, r, c) },
      coupling: o.snapToGrid ? 'grid' : 'continuous',
      validate: false,
    });
    const values = s.values as tf.Tensor2D;
    const fed = o.snapToGrid
      ? gridToInput(values, cfg.low, cfg.high)
      : (s.continuous as tf.Tensor2D);
    return { values, fed };
  });
}

/** The error samplers throw when their `signal` aborts. */
export function abortError(): Error {
  const e = new Error('Error in sample: aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * The straightforward sequential sampler (TFP `PixelCNN._sample_n`): H*W full forward passes; pass
 * i draws pixel i (raster order) of every image and keeps only it. One mixture component per
 * pixel shared by its channels, channels drawn in order with coupled means. Cost: H*W forward
 * passes of N images (fewer with a prefix: only the pixels after it). Deterministic given
 * `options.noise`.
 */
export async function naiveSampler(
  net: SamplerNetwork,
  n: number,
  o: SamplerOptions,
): Promise<tf.Tensor4D> {
  const [H, W] = net.config.imageShape;
  const start = o.prefix?.pixels ?? 0;
  // fed-back inputs in [-1, 1], and integer values
  let { x, out } = startingImages(net, n, o.prefix);
  try {
    for (let r = Math.floor(start / W); r < H; r++) {
      for (let c = r === Math.floor(start / W) ? start % W : 0; c < W; c++) {
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
}
