import { broadcastShapes, integerInRange } from '@pixelcnn/logistic-mixture';
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedPixelCNNConfig } from './config';

/** Images or a conditional input: a tensor, or anything `tf.tensor()` accepts. */
export type TensorInput = tf.Tensor | tf.TensorLike;

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Numpy broadcasting of two shapes (logistic-mixture's), or null when they do not broadcast. */
export { broadcastShapes };

/**
 * Class labels given as host numbers (not a tensor) are checked on the host, where reading them
 * costs nothing; tensors are not read (see {@link encodeConditional}).
 */
function checkHostLabels(fn: string, input: TensorInput, c: ResolvedPixelCNNConfig): void {
  if (c.numClasses <= 0 || input instanceof tf.Tensor) return;
  const flat =
    typeof input === 'number'
      ? [input]
      : Array.isArray(input)
        ? input.flat(Infinity as 1)
        : Array.from(input as ArrayLike<number>);
  for (const v of flat as number[]) {
    if (!(Number.isInteger(v) && v >= 0 && v < c.numClasses)) {
      throw new Error(
        `Error in ${fn}: class labels must be integers in [0, ${c.numClasses - 1}] (numClasses ${c.numClasses}); found ${v}`,
      );
    }
  }
}

/** Convert to a float32 tensor (a tensor passes through; the caller owns what this creates). */
export function toFloatTensor(x: TensorInput): tf.Tensor {
  if (x instanceof tf.Tensor) return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  return tf.tensor(x as tf.TensorLike, undefined, 'float32');
}

/**
 * Check an image batch `[..., H, W, C]` against the event shape and return its batch shape.
 * Values are not read (no synchronous read on a hot path): logProb gives NaN for an image with a
 * pixel outside [low, high], and the trainer checks each batch once, asynchronously.
 */
export function checkImages(fn: string, images: tf.Tensor, c: ResolvedPixelCNNConfig): number[] {
  const [H, W, C] = c.imageShape;
  const s = images.shape;
  if (s.length < 3 || s[s.length - 3] !== H || s[s.length - 2] !== W || s[s.length - 1] !== C) {
    throw new Error(
      `Error in ${fn}: expected images of shape [..., ${H}, ${W}, ${C}] (imageShape), got ${fmt(s)}`,
    );
  }
  return s.slice(0, s.length - 3);
}

/** Batch shape of a conditional input (its leading dims before `conditionalShape`). */
export function conditionalBatchShape(
  fn: string,
  cond: tf.Tensor,
  c: ResolvedPixelCNNConfig,
): number[] {
  const cs = c.conditionalShape!;
  const s = cond.shape;
  const k = s.length - cs.length;
  if (k < 0 || cs.some((d, i) => s[k + i] !== d)) {
    throw new Error(
      `Error in ${fn}: conditionalInput must have shape [...batch, ${cs.join(', ')}] ` +
        `(conditionalShape ${fmt(cs)}), got ${fmt(s)}`,
    );
  }
  return s.slice(0, k);
}

/**
 * The per-example conditioning vectors h `[N, units]` for a flat batch of conditional inputs
 * `[N, ...conditionalShape]`: flattened floats, or one-hot labels when `numClasses` > 0 (labels must
 * then be integers in [0, numClasses)).
 */
export function encodeConditional(
  condFlat: tf.Tensor,
  c: ResolvedPixelCNNConfig,
  checkValues = true,
): tf.Tensor2D {
  const n = condFlat.shape[0];
  if (c.numClasses > 0) {
    return tf.tidy(() => {
      const h = tf.cast(tf.oneHot(tf.cast(condFlat, 'int32'), c.numClasses), 'float32');
      if (!checkValues) return h as tf.Tensor2D;
      // No synchronous read: a label outside [0, numClasses) gives a NaN row (so NaN log-probs).
      const ok = tf.expandDims(integerInRange(tf.reshape(condFlat, [n]), 0, c.numClasses - 1), 1);
      return tf.where(tf.broadcastTo(ok, h.shape), h, tf.fill(h.shape, Number.NaN)) as tf.Tensor2D;
    });
  }
  return tf.reshape(tf.cast(condFlat, 'float32'), [n, -1]) as tf.Tensor2D;
}

/** Result of {@link prepareLogProbInputs}: a flat batch ready for the network. */
export interface PreparedInputs {
  /** The broadcast batch shape of images and conditional input (the logProb result's shape). */
  batchShape: number[];
  /** `[N, H, W, C]` raw pixel values, N = prod(batchShape). */
  images: tf.Tensor4D;
  /** `[N, units]` conditioning vectors, when conditional. */
  h?: tf.Tensor2D;
}

/**
 * TFP's `_log_prob` broadcasting: image batch dims `[...ib]` and conditional batch dims `[...cb]`
 * broadcast to `batchShape`; both are broadcast and flattened to N = prod(batchShape).
 * Throws when a conditional distribution gets no conditional input or vice versa.
 */
export function prepareLogProbInputs(
  fn: string,
  images: tf.Tensor,
  conditionalInput: TensorInput | undefined | null,
  c: ResolvedPixelCNNConfig,
  checkValues: boolean,
): PreparedInputs {
  const ib = checkImages(fn, images, c);
  const event = c.imageShape;
  if (c.conditionalShape == null) {
    if (conditionalInput != null) {
      throw new Error(
        `Error in ${fn}: got a conditionalInput but this PixelCNN has no conditionalShape`,
      );
    }
    return {
      batchShape: ib,
      images: tf.reshape(images, [prod(ib), ...event]) as tf.Tensor4D,
    };
  }
  if (conditionalInput == null) {
    throw new Error(
      `Error in ${fn}: this PixelCNN is conditional (conditionalShape ${fmt(c.conditionalShape)}); pass conditionalInput`,
    );
  }
  if (checkValues) checkHostLabels(fn, conditionalInput, c);
  return tf.tidy(() => {
    const cond = toFloatTensor(conditionalInput);
    const cb = conditionalBatchShape(fn, cond, c);
    const batchShape = broadcastShapes(ib, cb);
    if (batchShape == null) {
      throw new Error(
        `Error in ${fn}: image batch shape ${fmt(ib)} and conditional batch shape ${fmt(cb)} do not broadcast`,
      );
    }
    const cs = c.conditionalShape!;
    const n = prod(batchShape);
    const condB = tf.reshape(tf.broadcastTo(cond, [...batchShape, ...cs]), [n, ...cs]);
    const imgs = tf.reshape(tf.broadcastTo(images, [...batchShape, ...event]), [n, ...event]);
    return {
      batchShape,
      images: imgs as tf.Tensor4D,
      h: encodeConditional(condB, c, checkValues),
    };
  });
}

/**
 * TFP's `_sample_n` conditioning: a conditional input with batch shape `cb` (none: `[1]`) is
 * tiled `prod(sampleShape) / prod(cb)` times, so the sample count must be a multiple of
 * `prod(cb)`; with a sample shape ending in `cb`, sample `[..., i]` gets condition `i`
 * (`sample(6, { conditionalInput: [1, 2, 3] })` gives conditions 1, 2, 3, 1, 2, 3).
 * Returns h `[prod(sampleShape), units]`.
 */
export function prepareSampleConditional(
  fn: string,
  sampleShape: number[],
  conditionalInput: TensorInput | undefined | null,
  c: ResolvedPixelCNNConfig,
): tf.Tensor2D | undefined {
  if (c.conditionalShape == null) {
    if (conditionalInput != null) {
      throw new Error(
        `Error in ${fn}: got a conditionalInput but this PixelCNN has no conditionalShape`,
      );
    }
    return undefined;
  }
  if (conditionalInput == null) {
    throw new Error(
      `Error in ${fn}: this PixelCNN is conditional (conditionalShape ${fmt(c.conditionalShape)}); pass conditionalInput`,
    );
  }
  checkHostLabels(fn, conditionalInput, c);
  return tf.tidy(() => {
    const cond = toFloatTensor(conditionalInput);
    const cb = conditionalBatchShape(fn, cond, c);
    const n = prod(sampleShape);
    const m = prod(cb);
    if (n % m !== 0) {
      throw new Error(
        `Error in ${fn}: ${n} samples (sample shape ${fmt(sampleShape)}) is not a multiple of the ${m} conditional inputs (batch shape ${fmt(cb)}); TFP tiles the conditional inputs, so ask for a multiple of ${m}`,
      );
    }
    const cs = c.conditionalShape!;
    const flat = tf.reshape(cond, [m, ...cs]);
    const tiled = n === m ? flat : tf.tile(flat, [n / m, ...cs.map(() => 1)]);
    return encodeConditional(tiled, c);
  });
}

/**
 * Normalise `n` (a count or a sample shape; none or `[]`: one sample, TFP's `sample()`) to a
 * sample shape, each entry an integer >= 1.
 */
export function sampleShapeOf(fn: string, n: number | readonly number[] | undefined): number[] {
  const s = n === undefined ? [] : typeof n === 'number' ? [n] : Array.isArray(n) ? [...n] : null;
  if (s === null || !s.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(
      `Error in ${fn}: n must be an integer >= 1 or an array of them (a sample shape; [] or none for one sample), got ${JSON.stringify(n)}`,
    );
  }
  return s;
}

/** Scale raw pixel values to the network's [-1, 1]: 2(v-low)/(high-low) - 1. */
export function scaleImages(images: tf.Tensor, c: ResolvedPixelCNNConfig): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.sub(images, c.low), 2 / (c.high - c.low)), 1));
}

/** A completion's kept part: `images` and how much of it, in raster order, is kept. */
export interface PrefixInput {
  /** `[H, W, C]` (the same for every sample) or `[...sampleShape, H, W, C]`, integers in [low, high]. */
  images: TensorInput;
  /** Rows kept from the top, in [0, H]. */
  rows?: number;
  /** Or: pixels kept in raster order, in [0, H*W] (rows * W = rows). */
  pixels?: number;
}

/**
 * Check a completion prefix and lay it out for the samplers: `values [N, H, W, C]` (N =
 * prod(sampleShape)) and the number of kept raster pixels. Only kept positions are checked
 * (integers in [low, high]); later ones are ignored.
 */
export async function preparePrefix(
  fn: string,
  sampleShape: number[],
  prefix: PrefixInput,
  c: ResolvedPixelCNNConfig,
): Promise<{ values: tf.Tensor4D; pixels: number }> {
  const [H, W, C] = c.imageShape;
  if (prefix == null || typeof prefix !== 'object' || prefix.images == null) {
    throw new Error(`Error in ${fn}: prefix must be { images, rows } or { images, pixels }`);
  }
  if ((prefix.rows === undefined) === (prefix.pixels === undefined)) {
    throw new Error(`Error in ${fn}: prefix needs exactly one of rows and pixels`);
  }
  const pixels = prefix.rows !== undefined ? prefix.rows * W : (prefix.pixels as number);
  if (
    prefix.rows !== undefined &&
    !(Number.isInteger(prefix.rows) && prefix.rows >= 0 && prefix.rows <= H)
  ) {
    throw new Error(
      `Error in ${fn}: prefix.rows must be an integer in [0, ${H}], got ${prefix.rows}`,
    );
  }
  if (!(Number.isInteger(pixels) && pixels >= 0 && pixels <= H * W)) {
    throw new Error(
      `Error in ${fn}: prefix.pixels must be an integer in [0, ${H * W}], got ${pixels}`,
    );
  }
  const n = prod(sampleShape);
  const x = toFloatTensor(prefix.images);
  try {
    const one = x.rank === 3 && x.shape.join() === [H, W, C].join();
    const each = x.shape.join() === [...sampleShape, H, W, C].join();
    if (!one && !each) {
      throw new Error(
        `Error in ${fn}: prefix.images must have shape ${fmt([H, W, C])} or ${fmt([...sampleShape, H, W, C])}, got ${fmt(x.shape)}`,
      );
    }
    const values = tf.tidy(() =>
      one ? tf.tile(tf.reshape(x, [1, H, W, C]), [n, 1, 1, 1]) : tf.reshape(x, [n, H, W, C]),
    ) as tf.Tensor4D;
    const data = await values.data();
    const perImage = H * W * C;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < pixels * C; i++) {
        const v = data[b * perImage + i];
        if (!(Number.isInteger(v) && v >= c.low && v <= c.high)) {
          values.dispose();
          throw new Error(
            `Error in ${fn}: prefix values must be integers in [${c.low}, ${c.high}], got ${v} in image ${b} at pixel ${Math.floor(i / C)} (row ${Math.floor(i / C / W)}, column ${Math.floor(i / C) % W})`,
          );
        }
      }
    }
    return { values, pixels };
  } finally {
    if (x !== prefix.images) x.dispose();
  }
}
