import { type ConvParams, dense, type LayerCallOptions, nin } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import { activationWidth, applyActivation } from './activation';
import { check, fmt, isTensor } from './errors';
import { gate } from './fused';
import type { GatedResnetParams } from './gatedResnetParams';

/**
 * The convolution a block uses (pixel-cnn passes `conv` to `gated_resnet`), e.g.
 * `downShiftedConv2d` for the vertical stack or `downRightShiftedConv2d` for the horizontal one.
 * It must keep the spatial size: `[B, H, W, inC] -> [B, H, W, p.outChannels]`.
 */
export type ConvFn = (x: tf.Tensor4D, p: ConvParams, o?: LayerCallOptions) => tf.Tensor4D;

export interface GatedResnetOptions {
  /** The convolution for conv1 and conv2. */
  conv: ConvFn;
  /** Skip input `[B, H, W, skipChannels]` (needs params made with `skipChannels`). */
  skip?: tf.Tensor4D;
  /** Conditioning `[B, conditionalUnits]` or `[1, conditionalUnits]` (needs `conditionalUnits`). */
  h?: tf.Tensor2D;
  /** Dropout rate on `act(c1)` in [0, 1) (default 0); only used when `training`. */
  dropoutP?: number;
  /** Training mode: dropout on. Default false. */
  training?: boolean;
  /** Seed of the dropout mask (same seed, same mask). */
  seed?: number;
  /** Data-dependent init of conv1, skip and conv2 (see LayerCallOptions). Default false. */
  init?: boolean;
  /** initScale of conv2 under `init` (default 0.1, as pixel-cnn: blocks start near identity). */
  gateInitScale?: number;
}

/**
 * Gated residual block of PixelCNN++ (pixel-cnn nn.py `gated_resnet`; van den Oord et al. 2016):
 *
 * ```text
 * c1 = conv(act(x), conv1) [+ nin(act(skip), skip)]
 * c1 = dropout(act(c1))                   // only when training && dropoutP > 0
 * c2 = conv(c1, conv2) [+ dense(h, cond)] // [B, H, W, 2F]; h's projection broadcast over H, W
 * a, b = c2[..., :F], c2[..., F:]
 * out = x + a * sigmoid(b)                // fused where the backend has the kernels (gate)
 * ```
 *
 * `x [B, H, W, F] -> [B, H, W, F]`. Causality is whatever `conv` provides: the block adds no
 * spatial mixing of its own (the skip and h enter pointwise). The steps are exported for
 * evaluators that run the block piecewise (the cached sampler): {@link gatedResnetHidden},
 * {@link conditionProjection}, {@link gate}.
 */
export function gatedResnet(
  x: tf.Tensor4D,
  p: GatedResnetParams,
  o: GatedResnetOptions,
): tf.Tensor4D {
  checkGatedResnet(x, p, o);
  const conv = checkedConv(o.conv, x);
  return tf.tidy(() => {
    const init = o.init ?? false;
    const c1 = gatedResnetHidden(x, p, { ...o, conv });
    let c2 = conv(c1, p.conv2, { init, initScale: o.gateInitScale ?? 0.1 }); // [B, H, W, 2F]
    if (o.h && p.cond) c2 = tf.add(c2, conditionProjection(o.h, p));
    return gate(x, c2);
  });
}

/**
 * The block's first half: `dropout(act(conv(act(x), conv1) [+ nin(act(skip), skip)]))`, the
 * input of conv2. No checks (see {@link gatedResnet}); `conv` may change the size (a VALID conv
 * over a window), as long as its output matches the skip's.
 */
export function gatedResnetHidden(
  x: tf.Tensor4D,
  p: GatedResnetParams,
  o: Pick<GatedResnetOptions, 'conv' | 'skip' | 'dropoutP' | 'training' | 'seed' | 'init'>,
): tf.Tensor4D {
  return tf.tidy(() => {
    const act = (t: tf.Tensor) => applyActivation(t, p.activation) as tf.Tensor4D;
    const init = o.init ?? false;
    let c1 = o.conv(act(x), p.conv1, { init });
    if (o.skip && p.skip) c1 = tf.add(c1, nin(act(o.skip), p.skip, { init }));
    const c1a = act(c1);
    const dropoutP = o.dropoutP ?? 0;
    if (!o.training || dropoutP === 0) return c1a;
    return tf.dropout(c1a, dropoutP, undefined, o.seed) as tf.Tensor4D;
  });
}

/** The projection of h added to conv2's output: `dense(h, cond)` as `[B | 1, 1, 1, 2F]`. */
export function conditionProjection(h: tf.Tensor2D, p: GatedResnetParams): tf.Tensor4D {
  return tf.tidy(() => {
    const proj = dense(h, p.cond!); // [B|1, 2F]
    return tf.reshape(proj, [proj.shape[0], 1, 1, 2 * p.channels]) as tf.Tensor4D;
  });
}

/** `conv`, checked to keep x's size and give its layer's channels (F for conv1, 2F for conv2). */
function checkedConv(conv: ConvFn, x: tf.Tensor4D): ConvFn {
  const [B, H, W] = x.shape;
  return (t, q, lo) => {
    const y = conv(t, q, lo);
    const want = q.outChannels;
    check(
      y.rank === 4 &&
        y.shape[0] === B &&
        y.shape[1] === H &&
        y.shape[2] === W &&
        y.shape[3] === want,
      'gatedResnet',
      () =>
        `conv returned ${fmt(y)} for x ${fmt(x)}; it must keep the size and give ${want} channels`,
    );
    return y;
  };
}

/** The argument checks of {@link gatedResnet}: x, the params, skip, h and dropoutP. */
function checkGatedResnet(x: tf.Tensor4D, p: GatedResnetParams, o: GatedResnetOptions): void {
  const fn = 'gatedResnet';
  check(isTensor(x), fn, () => 'x must be a tf.Tensor');
  check(x.rank === 4, fn, () => `expected rank 4, got ${fmt(x)}`);
  check(
    p != null && typeof p === 'object' && p.conv1 != null && p.conv2 != null,
    fn,
    () => 'p must be GatedResnetParams (see createGatedResnetParams)',
  );
  check(
    o != null && typeof o.conv === 'function',
    fn,
    () => 'options.conv must be a conv function, e.g. downShiftedConv2d',
  );
  const F = p.channels;
  check(
    x.shape[3] === F,
    fn,
    () => `x has ${x.shape[3]} channels but the block has ${F} (x ${fmt(x)})`,
  );
  const [B, H, W] = x.shape;
  if (o.skip !== undefined) {
    const s = o.skip;
    check(
      p.skip !== undefined,
      fn,
      () =>
        'got a skip input but the block has no skip layer (createGatedResnetParams({ skipChannels }))',
    );
    check(
      isTensor(s) && s.rank === 4,
      fn,
      () => `skip must have rank 4, got ${isTensor(s) ? fmt(s) : typeof s}`,
    );
    check(
      s.shape[0] === B && s.shape[1] === H && s.shape[2] === W,
      fn,
      () => `skip ${fmt(s)} must match x ${fmt(x)} in batch, height and width`,
    );
    const skipChannels = p.skip.inUnits / activationWidth(1, p.activation);
    check(
      s.shape[3] === skipChannels,
      fn,
      () =>
        `skip has ${s.shape[3]} channels but the block's skip layer takes ${skipChannels} (skip ${fmt(s)})`,
    );
  } else {
    check(p.skip === undefined, fn, () => 'the block has a skip layer but no skip input was given');
  }
  if (o.h !== undefined) {
    const h = o.h;
    check(
      p.cond !== undefined,
      fn,
      () =>
        'got h but the block has no conditioning layer (createGatedResnetParams({ conditionalUnits }))',
    );
    check(
      isTensor(h) &&
        h.rank === 2 &&
        (h.shape[0] === B || h.shape[0] === 1) &&
        h.shape[1] === p.cond.inUnits,
      fn,
      () => `h must be [${B} or 1, ${p.cond?.inUnits}], got ${isTensor(h) ? fmt(h) : typeof h}`,
    );
  } else {
    check(p.cond === undefined, fn, () => 'the block has a conditioning layer but no h was given');
  }
  const dropoutP = o.dropoutP ?? 0;
  check(
    Number.isFinite(dropoutP) && dropoutP >= 0 && dropoutP < 1,
    fn,
    () => `dropoutP must be in [0, 1), got ${dropoutP}`,
  );
}
