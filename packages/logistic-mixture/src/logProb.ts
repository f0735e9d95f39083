import * as tf from '@tensorflow/tfjs-core';
import { check, formatShape } from './errors';
import type { MixtureParams } from './mixtureParams';
import { log1mexp, logSigmoid, logSumExpLastAxis } from './stableMath';
import { broadcastShapes, checkParams, checkRange, integerInRange } from './validate';

/** Options of {@link logProb} and {@link imageLogProb}. */
export interface LogProbOptions {
  /** Smallest pixel value (inclusive, integer). Default 0. */
  low?: number;
  /** Largest pixel value (inclusive, integer, > low). Default 255. */
  high?: number;
  /**
   * Give NaN where a pixel of `x` is not an integer in [low, high] (computed on the device, no
   * data read). Default true. Shape checks always run. For an error naming the bad value, check
   * the batch first with `await checkValues(...)` (one asynchronous read).
   */
  validate?: boolean;
}

/** `t[..., begin:begin+size]`. */
export function lastAxisSlice(t: tf.Tensor, begin: number, size: number): tf.Tensor {
  const b = t.shape.map(() => 0);
  b[b.length - 1] = begin;
  const s = t.shape.map(() => -1);
  s[s.length - 1] = size;
  return tf.slice(t, b, s);
}

/**
 * Rescaled channel means with the autoregressive channel coupling of PixelCNN++:
 * mu_c = loc_c + sum_{j<c} coeff[c(c-1)/2 + j] * x_j, with x_j the rescaled TRUE values.
 * locs `[..., K, C]`, coeffs `[..., K, C(C-1)/2]`, xs `[..., 1, C]` -> `[..., K, C]`.
 */
export function coupledMeans(locs: tf.Tensor, coeffs: tf.Tensor, xs: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const C = locs.shape[locs.rank - 1];
    if (C === 1) return tf.clone(locs);
    const outShape = broadcastShapes(locs.shape, xs.shape) as number[];
    const parts: tf.Tensor[] = [];
    for (let c = 0; c < C; c++) {
      let mu = lastAxisSlice(locs, c, 1);
      if (c > 0) {
        // coefficients of channels 0..c-1 in channel c's mean: [..., K, c]
        const co = lastAxisSlice(coeffs, (c * (c - 1)) / 2, c);
        mu = tf.add(mu, tf.sum(tf.mul(co, lastAxisSlice(xs, 0, c)), -1, true));
      }
      parts.push(tf.broadcastTo(mu, [...outShape.slice(0, -1), 1]));
    }
    return tf.concat(parts, -1);
  });
}

/**
 * Log-probability (nats) of integer pixel values under a mixture of K discretized logistics with
 * coupled channels (Salimans et al. 2017, PixelCNN++ `discretized_mix_logistic_loss`; TFP
 * `PixelCNN._log_prob`).
 *
 * Shapes: params with batch dims `[...]` (logits `[..., K]`, locs/scales `[..., K, C]`, coeffs
 * `[..., K, C(C-1)/2]`); `x` `[..., C]` (its batch dims broadcast against the params'); returns
 * log p per pixel, `[...]` (the broadcast batch shape).
 *
 * Data are rescaled to [-1, 1]: x = 2(v - low)/(high - low) - 1, half a bin hb = 1/(high - low).
 * Per component and channel with a = (x - hb - mu)/s, b = (x + hb - mu)/s:
 * interior v: log(sigmoid(b) - sigmoid(a)) = log1mexp(2hb/s) + logSigmoid(b) + logSigmoid(-a),
 * v = low: logSigmoid(b); v = high: logSigmoid(-a). The bin width 2hb/s is formed directly (no
 * cancellation), and no threshold or mid-point approximation is used, so bins far below float32's
 * epsilon are still accurate. Gradients are finite for any logits, locs and scales >= exp(-7).
 */
export function logProb(p: MixtureParams, x: tf.Tensor, o: LogProbOptions = {}): tf.Tensor {
  const fn = 'logProb';
  const { low = 0, high = 255, validate = true } = o;
  const L = checkRange(fn, low, high);
  const { batch, K, C } = checkParams(fn, p);
  check(x instanceof tf.Tensor, fn, () => 'x must be a tf.Tensor');
  check(
    x.rank >= 1 && x.shape[x.rank - 1] === C,
    fn,
    () =>
      `x ${formatShape(x.shape)} must end in C=${C} channels (params have locs ${formatShape(p.locs.shape)})`,
  );
  const xBatch = x.shape.slice(0, -1);
  check(
    broadcastShapes(batch, xBatch) !== null,
    fn,
    () =>
      `batch dims of x ${formatShape(x.shape)} and params (logits ${formatShape(p.logits.shape)}, K=${K}) do not broadcast: ${formatShape(xBatch)} vs ${formatShape(batch)}`,
  );
  return tf.tidy(() => {
    // All integer arithmetic below is exact in float32; each rescaled value is rounded once.
    const d = tf.expandDims(tf.sub(tf.cast(x, 'float32'), low), -2); // [..., 1, C], 0..L
    const twoD = tf.mul(d, 2);
    const xs = tf.div(tf.sub(twoD, L), L); // rescaled value
    const lo = tf.div(tf.sub(twoD, L + 1), L); // x - hb
    const hi = tf.div(tf.sub(twoD, L - 1), L); // x + hb
    const mu = coupledMeans(p.locs, p.coeffs, xs); // [..., K, C]
    const a = tf.div(tf.sub(lo, mu), p.scales);
    const b = tf.div(tf.sub(hi, mu), p.scales);
    const width = tf.div(2 / L, p.scales); // b - a without cancellation
    // Edge bins: v = low drops the lower sigmoid (a = -inf), v = high the upper one (b = +inf).
    // Masks come from the data only, so no comparison op is on the gradient path.
    const notLow = tf.cast(tf.notEqual(d, 0), 'float32');
    const notHigh = tf.cast(tf.notEqual(d, L), 'float32');
    const logPkc = tf.addN([
      tf.mul(logSigmoid(b), notHigh),
      tf.mul(logSigmoid(tf.neg(a)), notLow),
      tf.mul(log1mexp(width), tf.mul(notLow, notHigh)),
    ]); // [..., K, C]
    // log_softmax by hand: tf.logSoftmax under a gradient tape leaks a tensor on wasm (tfjs 4.22).
    const logWeights = tf.sub(p.logits, logSumExpLastAxis(p.logits, true));
    const logPk = tf.add(tf.sum(logPkc, -1), logWeights); // [..., K]
    const lp = logSumExpLastAxis(logPk); // [...]
    if (!validate) return lp;
    // No synchronous read: a pixel that is not a value of the distribution gets NaN (the mask
    // comes from the data only, so no comparison op is on the gradient path).
    const ok = tf.all(integerInRange(x, low, high), -1); // [...x batch]
    return tf.where(tf.broadcastTo(ok, lp.shape), lp, tf.fill(lp.shape, Number.NaN));
  });
}

/**
 * Log-probability (nats) of whole images: {@link logProb} summed over H and W.
 * `x` `[..., H, W, C]` with params for `[..., H, W]` pixels; returns `[...]`.
 */
export function imageLogProb(p: MixtureParams, x: tf.Tensor, o: LogProbOptions = {}): tf.Tensor {
  check(
    x.rank >= 3,
    'imageLogProb',
    () => `expected images [..., H, W, C], got ${formatShape(x.shape)}`,
  );
  return tf.tidy(() => {
    const perPixel = logProb(p, x, o);
    return tf.sum(perPixel, [perPixel.rank - 2, perPixel.rank - 1]);
  });
}

/**
 * Bits per dimension from a log-probability in nats: -logp / (numDims * ln 2), where numDims is
 * the number of values the log-probability covers (H*W*C for an image). Takes log p (<= 0, as
 * returned by {@link logProb} / {@link imageLogProb}), not the negative log-likelihood.
 */
export function bitsPerDim(logp: number, numDims: number): number;
export function bitsPerDim(logp: tf.Tensor, numDims: number): tf.Tensor;
export function bitsPerDim(logp: number | tf.Tensor, numDims: number): number | tf.Tensor {
  check(
    Number.isFinite(numDims) && numDims > 0,
    'bitsPerDim',
    () => `numDims must be a positive number, got ${numDims}`,
  );
  const factor = -1 / (numDims * Math.LN2);
  if (typeof logp === 'number') return logp * factor;
  return tf.tidy(() => tf.mul(logp, factor));
}
