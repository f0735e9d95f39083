import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedPixelCNNConfig } from '../config';
import type { NetworkParams } from '../network';

/**
 * What a sampler gets from a {@link PixelCNN}: the config, the whole network as one function, and
 * the per-layer parameters (plan + variables) for samplers that run layers piecewise (e.g. the
 * cached sampler of Ramachandran et al. 2017 runs the functions of `network.ts` on row/pixel
 * neighbourhoods).
 */
export interface SamplerNetwork {
  config: ResolvedPixelCNNConfig;
  /**
   * The full network: scaled images `[N, H, W, C]` in [-1, 1] (and conditioning vectors
   * `[N, units]` when conditional) -> raw head output `[N, H, W, P]`, P = K(1 + 2C + C(C-1)/2).
   * Evaluation mode (no dropout). The caller disposes the result.
   */
  forward(x: tf.Tensor4D, h?: tf.Tensor2D): tf.Tensor4D;
  /** The network's parameters and plan (see `network.ts`). */
  params: NetworkParams;
}

/**
 * Uniform noise that makes sampling a deterministic function of it (so different samplers can be
 * checked to agree exactly): per image and pixel, `mix [N, H, W, K]` for the Gumbel-max component
 * choice and `logistic [N, H, W, C]` for the logistic draws, all in [0, 1].
 */
export interface SamplingNoise {
  mix: tf.Tensor4D;
  logistic: tf.Tensor4D;
}

/** What {@link SamplerOptions.onPixel} is told after each pixel. */
export interface PixelProgress {
  row: number;
  col: number;
  /** Raster index row*W + col, and the total H*W. */
  index: number;
  total: number;
  /** The pixel's sampled integer values, `[N, C]` row-major (image n, channel c at n*C + c). */
  values: Float32Array;
}

/** Options every sampler takes (prepared by {@link PixelCNN.sample}). */
export interface SamplerOptions {
  /** Conditioning vectors `[N, units]` (conditional models). */
  h?: tf.Tensor2D;
  /** The noise of every draw (owned by the caller). */
  noise: SamplingNoise;
  /**
   * Feed back grid-snapped values (and couple channels to them), so samples follow logProb's
   * distribution exactly; false feeds back the continuous draws as TFP does.
   */
  snapToGrid: boolean;
  /** Component temperature (1 = the model). */
  temperature: number;
  /**
   * Completion: the first `pixels` positions in raster order of every image are `values`
   * (`[N, H, W, C]`, integers in [low, high]; later positions are ignored) and are not drawn.
   * Later pixels are drawn from p(x_i | x_<i) given them, which is exact for a raster prefix.
   * Prefix pixels use no noise and are not reported to `onPixel`.
   */
  prefix?: { values: tf.Tensor4D; pixels: number };
  /** Called after each drawn pixel (awaited if it returns a promise). */
  onPixel?: (p: PixelProgress) => void | Promise<void>;
  /** Stops sampling between pixels with an AbortError. */
  signal?: AbortSignal;
}

/**
 * A sampler: draws N images `[N, H, W, C]` (integers in [low, high], float32) from the network.
 * Must be a deterministic function of `options.noise` (and `h`).
 */
export type Sampler = (
  net: SamplerNetwork,
  n: number,
  options: SamplerOptions,
) => Promise<tf.Tensor4D>;
