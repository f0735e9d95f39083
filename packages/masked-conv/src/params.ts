import * as tf from '@tensorflow/tfjs-core';
import { check, isPositiveInt } from './errors';

/**
 * Trainable parameters of a (possibly weight-normalised) convolution or transposed convolution.
 * The caller owns the variables (pixel-cnn's functional style); dispose them with
 * {@link disposeParams}.
 *
 * Effective kernel: `g * v / ||v||` per output channel (Salimans & Kingma 2016) when `weightNorm`,
 * else `v`. The norm runs over every axis except the output-channel axis.
 */
export interface ConvParams {
  /** conv: `[kh, kw, inC, outC]`; transposed: `[kh, kw, outC, inC]` (tfjs conv2dTranspose layout). */
  v: tf.Variable;
  /** `[outC]`, present iff `weightNorm`. */
  g?: tf.Variable;
  /** `[outC]`. */
  b: tf.Variable;
  kernelSize: [number, number];
  inChannels: number;
  outChannels: number;
  weightNorm: boolean;
  transposed: boolean;
}

/** Parameters of a (possibly weight-normalised) dense layer: `y = x (g * v / ||v||) + b`. */
export interface DenseParams {
  /** `[in, out]`. */
  v: tf.Variable;
  /** `[out]`, present iff `weightNorm` (norm of each column of `v`). */
  g?: tf.Variable;
  /** `[out]`. */
  b: tf.Variable;
  inUnits: number;
  outUnits: number;
  weightNorm: boolean;
}

export interface CreateConvParamsOptions {
  kernelSize: [number, number];
  inChannels: number;
  outChannels: number;
  /** Weight normalisation (default true). */
  weightNorm?: boolean;
  /** Parameters for a transposed convolution (`v` is `[kh, kw, outC, inC]`). Default false. */
  transposed?: boolean;
  /** Seed of the N(0, 0.05) initialisation of `v`. */
  seed?: number;
  /** Variable name prefix: variables are named `${name}/v`, `${name}/g`, `${name}/b` (must be unique). */
  name?: string;
}

export interface CreateDenseParamsOptions {
  inUnits: number;
  outUnits: number;
  /** Weight normalisation (default true). */
  weightNorm?: boolean;
  /** Seed of the N(0, 0.05) initialisation of `v`. */
  seed?: number;
  /** Variable name prefix (see {@link CreateConvParamsOptions.name}). */
  name?: string;
}

/** pixel-cnn nn.py initialises V ~ N(0, 0.05), g = 1, b = 0. */
const INIT_STD = 0.05;

function makeVariables(
  vShape: number[],
  out: number,
  weightNorm: boolean,
  seed: number | undefined,
  name: string | undefined,
): { v: tf.Variable; g?: tf.Variable; b: tf.Variable } {
  return tf.tidy(() => {
    const v = tf.variable(
      tf.randomNormal(vShape, 0, INIT_STD, 'float32', seed),
      true,
      name === undefined ? undefined : `${name}/v`,
    );
    const g = weightNorm
      ? tf.variable(tf.ones([out]), true, name === undefined ? undefined : `${name}/g`)
      : undefined;
    const b = tf.variable(tf.zeros([out]), true, name === undefined ? undefined : `${name}/b`);
    return g ? { v, g, b } : { v, b };
  });
}

/**
 * Create the variables of a conv (`[kh, kw, inC, outC]`) or transposed conv (`[kh, kw, outC, inC]`):
 * `v ~ N(0, 0.05)`, `g = 1`, `b = 0` as in pixel-cnn's nn.py. Use a layer call with
 * `{ init: true }` on a first batch for the data-dependent initialisation.
 */
export function createConvParams(o: CreateConvParamsOptions): ConvParams {
  const fn = 'createConvParams';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  const ks = o.kernelSize;
  check(
    Array.isArray(ks) && ks.length === 2 && isPositiveInt(ks[0]) && isPositiveInt(ks[1]),
    fn,
    () => `kernelSize must be two positive integers, got ${JSON.stringify(ks)}`,
  );
  check(
    isPositiveInt(o.inChannels),
    fn,
    () => `inChannels must be a positive integer, got ${o.inChannels}`,
  );
  check(
    isPositiveInt(o.outChannels),
    fn,
    () => `outChannels must be a positive integer, got ${o.outChannels}`,
  );
  const weightNorm = o.weightNorm ?? true;
  const transposed = o.transposed ?? false;
  const vShape = transposed
    ? [ks[0], ks[1], o.outChannels, o.inChannels]
    : [ks[0], ks[1], o.inChannels, o.outChannels];
  const vars = makeVariables(vShape, o.outChannels, weightNorm, o.seed, o.name);
  return {
    ...vars,
    kernelSize: [ks[0], ks[1]],
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    weightNorm,
    transposed,
  };
}

/** Create the variables of a dense / 1x1 layer: `v [in, out] ~ N(0, 0.05)`, `g = 1`, `b = 0`. */
export function createDenseParams(o: CreateDenseParamsOptions): DenseParams {
  const fn = 'createDenseParams';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  check(isPositiveInt(o.inUnits), fn, () => `inUnits must be a positive integer, got ${o.inUnits}`);
  check(
    isPositiveInt(o.outUnits),
    fn,
    () => `outUnits must be a positive integer, got ${o.outUnits}`,
  );
  const weightNorm = o.weightNorm ?? true;
  const vars = makeVariables([o.inUnits, o.outUnits], o.outUnits, weightNorm, o.seed, o.name);
  return { ...vars, inUnits: o.inUnits, outUnits: o.outUnits, weightNorm };
}

/** The variables of `p` in a stable order: `v`, `g` (if weight-normalised), `b`. */
export function paramVariables(p: ConvParams | DenseParams): tf.Variable[] {
  return p.g ? [p.v, p.g, p.b] : [p.v, p.b];
}

/** Dispose every variable of `p`. */
export function disposeParams(p: ConvParams | DenseParams): void {
  for (const v of paramVariables(p)) v.dispose();
}
