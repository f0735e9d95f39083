import {
  type ConvParams,
  createConvParams,
  createDenseParams,
  type DenseParams,
  disposeParams,
  paramVariables,
} from '@pixelcnn/masked-conv';
import type * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type Activation, activationWidth } from './activation';
import { check, isPositiveInt } from './errors';

/** Parameters of one gated resnet block; the caller owns the variables. */
export interface GatedResnetParams {
  /** `activationWidth(F) -> F` conv, kernel `kernelSize`. */
  conv1: ConvParams;
  /** `activationWidth(skipChannels) -> F` 1x1 layer for the skip input (if `skipChannels`). */
  skip?: DenseParams;
  /** `activationWidth(F) -> 2F` conv: the two gate halves, `a` = channels `[0, F)`, `b` = `[F, 2F)`. */
  conv2: ConvParams;
  /** `conditionalUnits -> 2F` projection of h (plain dense, no weight norm, as pixel-cnn / TFP). */
  cond?: DenseParams;
  /** F: channels of x and of the output. */
  channels: number;
  activation: Activation;
}

export interface CreateGatedResnetParamsOptions {
  /** F, the channels of the stream (x and output). */
  channels: number;
  /** Kernel of both convs, e.g. `[2, 3]` (vertical stack) or `[2, 2]` (horizontal stack). */
  kernelSize: [number, number];
  /** Default 'concat_elu'. */
  activation?: Activation;
  /** Channels of the skip input, before activation (omit for no skip input). */
  skipChannels?: number;
  /** Length of the flattened conditioning vector h (omit for no conditioning). */
  conditionalUnits?: number;
  /** Weight normalisation of conv1, conv2 and the skip layer (default true). */
  weightNorm?: boolean;
  /** Base seed: conv1 uses seed, skip seed+1, conv2 seed+2, cond seed+3. */
  seed?: number;
  /** Variable name prefix: `${name}/conv1/v`, ... (must be unique). */
  name?: string;
}

/** Create the variables of a gated resnet block (pixel-cnn nn.py `gated_resnet`). */
export function createGatedResnetParams(o: CreateGatedResnetParamsOptions): GatedResnetParams {
  const fn = 'createGatedResnetParams';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  check(
    isPositiveInt(o.channels),
    fn,
    () => `channels must be a positive integer, got ${o.channels}`,
  );
  const ks = o.kernelSize;
  check(
    Array.isArray(ks) && ks.length === 2 && isPositiveInt(ks[0]) && isPositiveInt(ks[1]),
    fn,
    () => `kernelSize must be two positive integers, got ${JSON.stringify(ks)}`,
  );
  if (o.skipChannels !== undefined) {
    check(
      isPositiveInt(o.skipChannels),
      fn,
      () => `skipChannels must be a positive integer, got ${o.skipChannels}`,
    );
  }
  if (o.conditionalUnits !== undefined) {
    check(
      isPositiveInt(o.conditionalUnits),
      fn,
      () => `conditionalUnits must be a positive integer, got ${o.conditionalUnits}`,
    );
  }
  const activation = o.activation ?? 'concat_elu';
  check(
    ACTIVATIONS.includes(activation),
    fn,
    () =>
      `unknown activation ${JSON.stringify(activation)} (expected 'concat_elu', 'elu' or 'relu')`,
  );
  const F = o.channels;
  const width = activationWidth(F, activation);
  const weightNorm = o.weightNorm ?? true;
  const seed = (k: number) => (o.seed === undefined ? undefined : o.seed + k);
  const name = (part: string) => (o.name === undefined ? undefined : `${o.name}/${part}`);
  const made: (ConvParams | DenseParams)[] = [];
  try {
    const conv1 = createConvParams({
      kernelSize: o.kernelSize,
      inChannels: width,
      outChannels: F,
      weightNorm,
      seed: seed(0),
      name: name('conv1'),
    });
    made.push(conv1);
    const skip =
      o.skipChannels === undefined
        ? undefined
        : createDenseParams({
            inUnits: activationWidth(o.skipChannels, activation),
            outUnits: F,
            weightNorm,
            seed: seed(1),
            name: name('skip'),
          });
    if (skip) made.push(skip);
    const conv2 = createConvParams({
      kernelSize: o.kernelSize,
      inChannels: width,
      outChannels: 2 * F,
      weightNorm,
      seed: seed(2),
      name: name('conv2'),
    });
    made.push(conv2);
    const cond =
      o.conditionalUnits === undefined
        ? undefined
        : createDenseParams({
            inUnits: o.conditionalUnits,
            outUnits: 2 * F,
            weightNorm: false,
            seed: seed(3),
            name: name('cond'),
          });
    const p: GatedResnetParams = { conv1, conv2, channels: F, activation };
    if (skip) p.skip = skip;
    if (cond) p.cond = cond;
    return p;
  } catch (e) {
    for (const m of made) disposeParams(m);
    throw e;
  }
}

/** Every variable, in a stable order: conv1, skip?, conv2, cond? (each v, g?, b). */
export function gatedResnetVariables(p: GatedResnetParams): tf.Variable[] {
  return [p.conv1, p.skip, p.conv2, p.cond].flatMap((q) => (q ? paramVariables(q) : []));
}

/** Dispose every variable of the block. */
export function disposeGatedResnetParams(p: GatedResnetParams): void {
  for (const v of gatedResnetVariables(p)) v.dispose();
}
