import * as tf from '@tensorflow/tfjs-core';

const LN2 = Math.fround(Math.LN2);

/**
 * log(sigmoid(z)) = -softplus(-z), elementwise. Unlike `tf.logSigmoid`, its gradient works on
 * every input (tfjs's LogSigmoid gradient crashes on non-variables).
 */
export function logSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.softplus(tf.neg(z))));
}

/**
 * log(1 - exp(-t)) for t > 0, accurate to a few float32 ulps everywhere (Maechler 2012,
 * "Accurately computing log(1 - exp(-|a|))"), with no comparison op and no `tf.where`, so its
 * gradient is finite and needs no comparison-op gradients:
 *
 * - t >= ln2: log1p(-exp(-t)), evaluated as -2 atanh(e/(2 - e)), e = exp(-t), by its series
 *   (tfjs's own log1p loses all relative accuracy below 1e-7).
 * - t <= ln2: 1 - exp(-t) = 2 exp(-t/2) sinh(t/2), so
 *   log1mexp(t) = log(t) - t/2 + log(sinh(y)/y), y = t/2, and
 *   log(sinh(y)/y) = y^2/6 - y^4/180 + y^6/2835 - y^8/37800 + O(y^10) (error < 1e-10 for y <= ln2/2).
 *   tfjs has no expm1; this form has no cancellation even for t ~ 1e-30.
 *
 * Both branches are evaluated on inputs clamped to their own side of ln2 (so both, and their
 * gradients, stay finite for any t > 0) and blended with step(t - ln2), whose gradient is zero.
 * t <= 0 gives -Infinity / NaN as log(1 - exp(-t)) would.
 */
export function log1mexp(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const tBig = tf.maximum(t, LN2);
    const tSmall = tf.minimum(t, LN2);
    // log(1 - e), e = exp(-t) in (0, 1/2]: tfjs's log1p is log(1 + x) in float32 on cpu and wasm
    // (0 for |x| < 6e-8), so use log(1 - e) = -2 atanh(z), z = e/(2 - e) <= 1/3, and
    // atanh(z)/z = sum_n z^2n/(2n+1) (9 terms: error < 3e-10).
    const e = tf.exp(tf.neg(tBig));
    const z = tf.div(e, tf.sub(2, e));
    const z2 = tf.square(z);
    let series = tf.add(tf.mul(z2, 1 / 17), 1 / 15);
    for (const c of [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]) {
      series = tf.add(tf.mul(z2, series), c);
    }
    const big = tf.mul(tf.mul(z, series), -2);
    const y = tf.mul(tSmall, 0.5);
    const w = tf.square(y);
    // Horner: w*(1/6 + w*(-1/180 + w*(1/2835 - w/37800)))
    let poly = tf.add(tf.mul(w, -1 / 37800), 1 / 2835);
    poly = tf.add(tf.mul(w, poly), -1 / 180);
    poly = tf.add(tf.mul(w, poly), 1 / 6);
    poly = tf.mul(w, poly);
    const small = tf.add(tf.sub(tf.log(tSmall), y), poly);
    // Exact select without a comparison op: step() has a (zero) gradient on every backend.
    const isBig = tf.step(tf.sub(t, LN2));
    return tf.add(tf.mul(isBig, big), tf.mul(tf.sub(1, isBig), small));
  });
}

/**
 * log(sigmoid(b) - sigmoid(a)) for b > a, threshold-free and exact in log space:
 * log1mexp(b - a) + logSigmoid(b) + logSigmoid(-a). Accurate even when the difference is far
 * below float32's epsilon (deep tails), where subtracting the sigmoids gives 0.
 * Pass `t` (= b - a, > 0) when it can be computed without cancellation (e.g. bin width / scale).
 */
export function logDiffSigmoid(a: tf.Tensor, b: tf.Tensor, t?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const width = t ?? tf.sub(b, a);
    return tf.add(tf.add(log1mexp(width), logSigmoid(b)), logSigmoid(tf.neg(a)));
  });
}

// The gradient of log-sum-exp is softmax(x) * dy. tfjs's own logSumExp differentiates through
// the max it subtracts as well (a contribution that cancels to zero) by a broadcast Equal, which
// on wasm took 13 ms per call at the demo's [32, 28, 28, 5]: 3% of its training step.
const lseGrad = (keepDims: boolean) =>
  tf.customGrad((x, save) => {
    const lse = tf.logSumExp(x as tf.Tensor, -1, true); // [..., 1]
    (save as tf.GradSaveFunc)([x as tf.Tensor, lse]);
    return {
      value: keepDims ? lse : tf.squeeze(lse, [lse.rank - 1]),
      gradFunc: (dy: tf.Tensor, [xs, l]: tf.Tensor[]) =>
        tf.mul(keepDims ? dy : tf.expandDims(dy, -1), tf.exp(tf.sub(xs, l))),
    };
  });
const lseKeep = lseGrad(true);
const lseDrop = lseGrad(false);

/**
 * log(sum(exp(x))) over the last axis, as `tf.logSumExp(x, -1, keepDims)` (same forward pass),
 * with the gradient dy * exp(x - lse) = dy * softmax(x) written out: no gradient through the
 * max, whose broadcast comparison was the slowest op of the loss on wasm. x `[..., K]` ->
 * `[...]` (or `[..., 1]` with keepDims).
 */
export function logSumExpLastAxis(x: tf.Tensor, keepDims = false): tf.Tensor {
  return (keepDims ? lseKeep : lseDrop)(x);
}
