import * as tf from '@tensorflow/tfjs-core';
import type { ConvParams, DenseParams } from './params';

/** Options every layer call takes. */
export interface LayerCallOptions {
  /**
   * Data-dependent initialisation (Salimans & Kingma 2016; pixel-cnn nn.py): compute the output
   * with the normalised direction `v / ||v||`, then ASSIGN `g = initScale / sqrt(var + 1e-10)` and
   * `b = -mean * g` per output channel, and return the re-normalised output (mean 0, variance
   * `initScale^2` per channel over batch, rows and columns). Without weight normalisation, `v` is
   * rescaled per output channel by the same factor instead of assigning `g`. Default false.
   */
  init?: boolean;
  /** Target standard deviation of the output under `init` (default 1). */
  initScale?: number;
}

/** Epsilon under the square root of the init variance (contract: 1e-10). */
const INIT_EPS = 1e-10;
/** Epsilon inside `||v||` (tf.nn.l2_normalize uses 1e-12 for the squared norm). */
const NORM_EPS = 1e-12;

/** Shape `[1, ..., n, ..., 1]` of rank `rank` with `n` at `axis`. */
function axisShape(rank: number, axis: number, n: number): number[] {
  const s = new Array<number>(rank).fill(1);
  s[axis] = n;
  return s;
}

/** `v / ||v||`, the norm over every axis except `outAxis`. */
export function normalizeDirection(v: tf.Tensor, outAxis: number): tf.Tensor {
  const axes = v.shape.map((_, i) => i).filter((i) => i !== outAxis);
  const sumSq = tf.sum(tf.square(v), axes, true);
  return tf.mul(v, tf.rsqrt(tf.add(sumSq, NORM_EPS)));
}

/** Effective weights given by {@link withEffectiveWeights}, innermost last. */
const overrides: Array<ReadonlyMap<ConvParams | DenseParams, tf.Tensor>> = [];

/**
 * Run `fn` with the effective weights of some layers given instead of computed: every layer call
 * (and {@link effectiveWeight}) of a layer in `weights` uses that tensor as its kernel. For
 * training in micro-batches: compute `g * v / ||v||` once per step, differentiate each
 * micro-batch with respect to those tensors, and chain back through the weight norm once (the
 * weight norm's intermediates are weight-sized: for big layers at small micro-batches they
 * outweigh the activations). Data-dependent init and masked layers ignore the overrides.
 */
export function withEffectiveWeights<T>(
  weights: ReadonlyMap<ConvParams | DenseParams, tf.Tensor>,
  fn: () => T,
): T {
  overrides.push(weights);
  try {
    return fn();
  } finally {
    overrides.pop();
  }
}

/**
 * The effective-weight overrides in force now, as a function that runs `fn` under exactly those
 * overrides (and no others) later: for recomputing a block in the backward pass (gradient
 * checkpointing), which runs after {@link withEffectiveWeights} has returned.
 */
export function effectiveWeightScope(): <T>(fn: () => T) => T {
  const snapshot = [...overrides];
  return <T>(fn: () => T): T => {
    const outer = overrides.splice(0, overrides.length, ...snapshot);
    try {
      return fn();
    } finally {
      overrides.splice(0, overrides.length, ...outer);
    }
  };
}

/**
 * The tensors a call of layer `p` reads, whose gradients a training step wants: the effective
 * weight when {@link withEffectiveWeights} gives one (else `v`, and `g` with weight norm), then
 * `b`. With a mask (TFP's masked layers) `v`, `g`, `b`: the mask is a constant.
 */
export function layerTensors(p: ConvParams | DenseParams, masked = false): tf.Tensor[] {
  if (!masked) {
    for (let i = overrides.length - 1; i >= 0; i--) {
      const w = overrides[i].get(p);
      if (w) return [w, p.b];
    }
  }
  return p.g ? [p.v, p.g, p.b] : [p.v, p.b];
}

/**
 * The effective weight of a layer: `g * m*v / ||m*v||` with weight norm, `m*v` without (m = mask,
 * if any). `outAxis` is the output-channel axis of `v`.
 */
export function effectiveWeight(
  p: ConvParams | DenseParams,
  outAxis: number,
  mask?: tf.Tensor,
): tf.Tensor {
  if (!mask) {
    for (let i = overrides.length - 1; i >= 0; i--) {
      const w = overrides[i].get(p);
      if (w) return w;
    }
  }
  return tf.tidy(() => {
    const v = mask ? tf.mul(p.v, mask) : p.v;
    if (!p.weightNorm || !p.g) return v;
    const dir = normalizeDirection(v, outAxis);
    return tf.mul(dir, tf.reshape(p.g, axisShape(v.rank, outAxis, p.g.shape[0])));
  });
}

/**
 * Run a linear layer `y = compute(W) + b` (W the effective weight), or its data-dependent
 * initialisation when `o.init`. `compute` must be linear in W and must not add the bias.
 */
export function runLinear(
  p: ConvParams | DenseParams,
  outAxis: number,
  compute: (w: tf.Tensor) => tf.Tensor,
  o: LayerCallOptions | undefined,
  mask?: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    if (!o?.init) {
      const y = compute(effectiveWeight(p, outAxis, mask));
      return tf.add(y, p.b);
    }
    const initScale = o.initScale ?? 1;
    const masked = mask ? tf.mul(p.v, mask) : p.v;
    const dir = p.weightNorm ? normalizeDirection(masked, outAxis) : masked;
    const y0 = compute(dir);
    const axes = y0.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(y0, axes);
    const scale = tf.div(initScale, tf.sqrt(tf.add(variance, INIT_EPS))); // [out]
    if (p.weightNorm && p.g) {
      p.g.assign(scale);
    } else {
      p.v.assign(tf.mul(p.v, tf.reshape(scale, axisShape(p.v.rank, outAxis, scale.shape[0]))));
    }
    p.b.assign(tf.neg(tf.mul(mean, scale)));
    return tf.mul(tf.sub(y0, mean), scale);
  });
}
