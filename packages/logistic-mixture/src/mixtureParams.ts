import * as tf from '@tensorflow/tfjs-core';
import { check, formatShape } from './errors';

/**
 * How raw network outputs become scales and channel coefficients.
 *
 * - `'tfp'` (TensorFlow Probability's `PixelCNN`): `scale = softplus(raw) + exp(-7)`,
 *   coefficients used raw.
 * - `'pixelcnnpp'` (openai/pixel-cnn, `nn.py`): `scale = exp(max(raw, -7))`, coefficients `tanh(raw)`.
 */
export type Convention = 'tfp' | 'pixelcnnpp';

/** Smallest scale either convention can produce: exp(-7) (in [-1, 1] data units). */
export const MIN_SCALE = Math.exp(-7);

/**
 * Per-pixel parameters of a mixture of K discretized logistics over C coupled channels.
 * All tensors float32 and share the same leading (batch) dims `[...]`.
 */
export interface MixtureParams {
  /** `[..., K]` unnormalised component log-weights. */
  logits: tf.Tensor;
  /** `[..., K, C]` component means in [-1, 1] data units (before channel coupling). */
  locs: tf.Tensor;
  /** `[..., K, C]` component scales, > 0, in [-1, 1] data units. */
  scales: tf.Tensor;
  /**
   * `[..., K, C(C-1)/2]` channel coupling coefficients, ordered (1<-0, 2<-0, 2<-1, 3<-0, ...):
   * the coefficient of channel j in channel c's mean sits at index c(c-1)/2 + j. `[..., K, 0]`
   * when C = 1.
   */
  coeffs: tf.Tensor;
}

/** Number of channel coupling coefficients per component: C(C-1)/2. */
export function numCoeffs(channels: number): number {
  return (channels * (channels - 1)) / 2;
}

function checkCounts(fn: string, channels: number, numMix: number): void {
  check(
    Number.isInteger(channels) && channels >= 1,
    fn,
    () => `channels must be an integer >= 1, got ${channels}`,
  );
  check(
    Number.isInteger(numMix) && numMix >= 1,
    fn,
    () => `numMix must be an integer >= 1, got ${numMix}`,
  );
}

/**
 * Numbers a network must emit per pixel for K = `numMix` components and C = `channels`:
 * K * (1 + 2C + C(C-1)/2) (PixelCNN++ head; TFP `_PixelCNNNetwork`).
 */
export function numMixtureParams(channels: number, numMix: number): number {
  checkCounts('numMixtureParams', channels, numMix);
  return numMix * (1 + 2 * channels + numCoeffs(channels));
}

/** What one of the P raw numbers means (see {@link mixtureParamLayout}). */
export interface MixtureParamSlot {
  /** Index into the last axis of the raw output. */
  index: number;
  /** Component k in 0..K-1. */
  component: number;
  kind: 'logit' | 'loc' | 'scale' | 'coeff';
  /** Channel c for loc/scale; for a coeff the channel whose mean it shifts. */
  channel?: number;
  /** For a coeff: the earlier channel j whose value it multiplies. */
  from?: number;
}

/**
 * The meaning of each of the P = K*(1 + 2C + C(C-1)/2) numbers of a raw output, in order.
 * Component-major like TFP (`reshape(params, [..., K, 1 + 2C + C(C-1)/2])`): for each component k,
 * `[logit, loc_0..loc_{C-1}, rawScale_0..rawScale_{C-1}, coeff(1<-0), coeff(2<-0), coeff(2<-1), ...]`.
 */
export function mixtureParamLayout(channels: number, numMix: number): MixtureParamSlot[] {
  checkCounts('mixtureParamLayout', channels, numMix);
  const per = 1 + 2 * channels + numCoeffs(channels);
  const out: MixtureParamSlot[] = [];
  for (let k = 0; k < numMix; k++) {
    const base = k * per;
    out.push({ index: base, component: k, kind: 'logit' });
    for (let c = 0; c < channels; c++) {
      out.push({ index: base + 1 + c, component: k, kind: 'loc', channel: c });
    }
    for (let c = 0; c < channels; c++) {
      out.push({ index: base + 1 + channels + c, component: k, kind: 'scale', channel: c });
    }
    let i = base + 1 + 2 * channels;
    for (let c = 1; c < channels; c++) {
      for (let j = 0; j < c; j++) {
        out.push({ index: i++, component: k, kind: 'coeff', channel: c, from: j });
      }
    }
  }
  return out;
}

/**
 * Split a network's raw output `[..., P]` into mixture parameters, P = {@link numMixtureParams}.
 * Layout: see {@link mixtureParamLayout} (TFP's component-major order, used for both conventions).
 * Returns `logits [..., K]`, `locs [..., K, C]`, `scales [..., K, C]` (>= exp(-7)),
 * `coeffs [..., K, C(C-1)/2]`. Differentiable; the caller disposes the result.
 */
export function splitMixtureParams(
  raw: tf.Tensor,
  o: { channels: number; numMix: number; convention?: Convention },
): MixtureParams {
  const fn = 'splitMixtureParams';
  const { channels: C, numMix: K, convention = 'tfp' } = o;
  checkCounts(fn, C, K);
  check(
    convention === 'tfp' || convention === 'pixelcnnpp',
    fn,
    () => `convention must be 'tfp' or 'pixelcnnpp', got '${convention}'`,
  );
  const P = numMixtureParams(C, K);
  check(
    raw.rank >= 1 && raw.shape[raw.shape.length - 1] === P,
    fn,
    () =>
      `expected raw output [..., ${P}] for channels=${C}, numMix=${K} ` +
      `(K*(1 + 2C + C(C-1)/2)), got ${formatShape(raw.shape)}`,
  );
  check(raw.dtype === 'float32', fn, () => `expected float32 raw output, got ${raw.dtype}`);
  const batch = raw.shape.slice(0, -1);
  const nc = numCoeffs(C);
  return tf.tidy(() => {
    const per = tf.reshape(raw, [...batch, K, 1 + 2 * C + nc]); // [..., K, 1 + 2C + nc]
    const parts = tf.split(per, nc > 0 ? [1, C, C, nc] : [1, C, C], -1);
    const logits = tf.reshape(parts[0], [...batch, K]);
    const locs = parts[1];
    const rawScales = parts[2];
    let scales: tf.Tensor;
    let coeffs: tf.Tensor;
    if (convention === 'tfp') {
      scales = tf.add(tf.softplus(rawScales), MIN_SCALE);
      coeffs = nc > 0 ? parts[3] : tf.zeros([...batch, K, 0]);
    } else {
      scales = tf.exp(tf.maximum(rawScales, -7));
      coeffs = nc > 0 ? tf.tanh(parts[3]) : tf.zeros([...batch, K, 0]);
    }
    return { logits, locs, scales, coeffs };
  });
}

/** Dispose the four tensors of a {@link MixtureParams}. */
export function disposeMixtureParams(p: MixtureParams): void {
  tf.dispose([p.logits, p.locs, p.scales, p.coeffs]);
}
