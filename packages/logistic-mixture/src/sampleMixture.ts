import * as tf from '@tensorflow/tfjs-core';
import { check, formatShape } from './errors';
import { lastAxisSlice } from './logProb';
import type { MixtureParams } from './mixtureParams';
import { checkParams, checkRange } from './validate';

/** Uniform(0, 1) noise that fully determines a {@link sampleMixture} draw. */
export interface MixtureNoise {
  /** `[..., K]` uniforms for the Gumbel-max choice of the component. */
  mix: tf.Tensor;
  /** `[..., C]` uniforms for the logistic draw of each channel. */
  logistic: tf.Tensor;
}

/** Options of {@link sampleMixture}. */
export interface SampleMixtureOptions {
  /** Pixel range, as in logProb. Default 0..255. */
  low?: number;
  high?: number;
  /** Seed for the noise (ignored when `noise` is given). Same seed -> same samples. */
  seed?: number;
  /**
   * Component temperature: the component is argmax(logits / temperature + Gumbel). 1 (default)
   * samples the model; < 1 favours likely components; 0 takes the most likely one.
   */
  temperature?: number;
  /** Multiplies every logistic scale (default 1; 0 returns the coupled means). */
  scaleTemperature?: number;
  /** Caller-supplied uniform noise (makes the draw a deterministic function of it). */
  noise?: MixtureNoise;
  /**
   * What later channels' means are coupled to: `'grid'` (default) the earlier channels' values
   * snapped to the integer grid and rescaled, as logProb conditions on them, so samples follow
   * logProb's pmf exactly; `'continuous'` the clipped continuous draws (TFP, PixelCNN++).
   */
  coupling?: 'grid' | 'continuous';
  /**
   * Caller noise outside [0, 1] (or NaN) gives NaN draws at those pixels, computed on the device
   * with no data read (default true; false skips that masking).
   */
  validate?: boolean;
}

/** A {@link sampleMixture} draw. */
export interface MixtureSample {
  /** `[..., C]` continuous draws in [-1, 1] (clipped). */
  continuous: tf.Tensor;
  /** `[..., C]` the same snapped to the integer grid: integers in [low, high], float32. */
  values: tf.Tensor;
}

let seedCounter = 0;

/**
 * Draw one value per pixel from a discretized logistic mixture (PixelCNN++
 * `sample_from_discretized_mix_logistic`; TFP `PixelCNN._sample_channels`): one component per
 * pixel, shared by all channels, by Gumbel-max, k = argmax(logits/temperature - log(-log u_mix));
 * then channels in order, x_c = clip(mu_c + s_c * (log u_c - log1p(-u_c)), -1, 1) with
 * mu_c = loc_c + sum_{j<c} coeff * x_j (x_j: see `coupling`). Grid values:
 * v = clip(floor(low + (x + 1)(high - low)/2 + 1/2), low, high).
 *
 * Shapes: params with batch dims `[...]`; optional noise `mix [..., K]`, `logistic [..., C]`;
 * returns `continuous` and `values`, both `[..., C]`. The caller disposes both.
 */
export function sampleMixture(p: MixtureParams, o: SampleMixtureOptions = {}): MixtureSample {
  const fn = 'sampleMixture';
  const {
    low = 0,
    high = 255,
    seed,
    temperature = 1,
    scaleTemperature = 1,
    noise,
    coupling = 'grid',
    validate = true,
  } = o;
  const L = checkRange(fn, low, high);
  const { batch, K, C } = checkParams(fn, p);
  for (const [name, v] of [
    ['temperature', temperature],
    ['scaleTemperature', scaleTemperature],
  ] as const) {
    check(Number.isFinite(v) && v >= 0, fn, () => `${name} must be a finite number >= 0, got ${v}`);
  }
  check(
    coupling === 'grid' || coupling === 'continuous',
    fn,
    () => `coupling must be 'grid' or 'continuous', got '${coupling}'`,
  );
  check(
    seed === undefined || Number.isFinite(seed),
    fn,
    () => `seed must be a finite number, got ${seed}`,
  );
  if (noise) {
    const want = { mix: [...batch, K], logistic: [...batch, C] };
    for (const key of ['mix', 'logistic'] as const) {
      const t = noise[key];
      const w = want[key];
      check(
        t instanceof tf.Tensor &&
          t.shape.length === w.length &&
          t.shape.every((d, i) => d === w[i]),
        fn,
        () =>
          `noise.${key} must be ${formatShape(w)} (params logits ${formatShape(p.logits.shape)}, locs ${formatShape(p.locs.shape)}), got ${t instanceof tf.Tensor ? formatShape(t.shape) : typeof t}`,
      );
    }
  }
  return tf.tidy(() => {
    let uMix: tf.Tensor;
    let uLog: tf.Tensor;
    if (noise) {
      uMix = tf.cast(noise.mix, 'float32');
      uLog = tf.cast(noise.logistic, 'float32');
    } else {
      const base = seed ?? Math.floor(Math.random() * 2 ** 31) + seedCounter++;
      uMix = tf.randomUniform([...batch, K], 0, 1, 'float32', base);
      uLog = tf.randomUniform([...batch, C], 0, 1, 'float32', base + 0.5);
    }
    // Component: Gumbel-max; temperature 0 takes the argmax of the logits.
    const scores =
      temperature === 0
        ? p.logits
        : tf.sub(tf.div(p.logits, temperature), tf.log(tf.neg(tf.log(uMix))));
    // int32 one-hot then cast: tfjs-backend-wasm 4.22 writes int bits into a float32 oneHot.
    // tfjs's oneHot needs depth >= 2: one component is always picked.
    const mask =
      K === 1
        ? tf.onesLike(tf.expandDims(p.logits, -1))
        : tf.expandDims(tf.cast(tf.oneHot(tf.argMax(scores, -1), K), 'float32'), -1); // [..., K, 1]
    const pick = (t: tf.Tensor) => tf.sum(tf.mul(t, mask), -2); // [..., K, n] -> [..., n]
    const locs = pick(p.locs);
    const scales =
      scaleTemperature === 1 ? pick(p.scales) : tf.mul(pick(p.scales), scaleTemperature);
    const coeffs = C > 1 ? pick(p.coeffs) : undefined;
    const z = tf.sub(tf.log(uLog), tf.log1p(tf.neg(uLog))); // logistic(0, 1), [..., C]
    const cont: tf.Tensor[] = [];
    const grid: tf.Tensor[] = [];
    const fed: tf.Tensor[] = [];
    for (let c = 0; c < C; c++) {
      let mu = lastAxisSlice(locs, c, 1);
      for (let j = 0; j < c; j++) {
        const co = lastAxisSlice(coeffs as tf.Tensor, (c * (c - 1)) / 2 + j, 1);
        mu = tf.add(mu, tf.mul(co, fed[j]));
      }
      const xc =
        scaleTemperature === 0
          ? tf.clipByValue(mu, -1, 1)
          : tf.clipByValue(
              tf.add(mu, tf.mul(lastAxisSlice(scales, c, 1), lastAxisSlice(z, c, 1))),
              -1,
              1,
            );
      const v = tf.clipByValue(
        tf.floor(tf.add(tf.mul(tf.add(xc, 1), L / 2), low + 0.5)),
        low,
        high,
      );
      cont.push(xc);
      grid.push(v);
      fed.push(coupling === 'grid' ? tf.div(tf.sub(tf.mul(tf.sub(v, low), 2), L), L) : xc);
    }
    const continuous = tf.concat(cont, -1);
    const values = tf.concat(grid, -1);
    if (!(noise && validate)) return { continuous, values };
    // No synchronous read: a pixel whose noise is not uniform in [0, 1] (or NaN) draws NaN.
    const inUnit = (u: tf.Tensor) =>
      tf.all(tf.logicalAnd(tf.greaterEqual(u, 0), tf.lessEqual(u, 1)), -1);
    const ok = tf.broadcastTo(
      tf.expandDims(tf.logicalAnd(inUnit(uMix), inUnit(uLog)), -1),
      values.shape,
    );
    const nan = tf.fill(values.shape, Number.NaN);
    return { continuous: tf.where(ok, continuous, nan), values: tf.where(ok, values, nan) };
  });
}
