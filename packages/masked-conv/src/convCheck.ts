import type * as tf from '@tensorflow/tfjs-core';
import { check, checkRank4, fmt } from './errors';
import type { ConvParams } from './params';
import type { LayerCallOptions } from './weightNorm';

/** Validate a conv layer call: rank-4 x, params of the right kind, channels, call options. */
export function checkConvCall(
  fn: string,
  x: tf.Tensor,
  p: ConvParams,
  transposed: boolean,
  o: LayerCallOptions | undefined,
): void {
  checkRank4(x, fn);
  check(
    p != null && typeof p === 'object' && p.v != null && p.b != null,
    fn,
    () => 'p must be ConvParams (see createConvParams)',
  );
  check(p.transposed === transposed, fn, () =>
    transposed
      ? `expected transposed conv params (createConvParams({ transposed: true })), got v ${fmt(p.v)}`
      : `expected conv params, got transposed ones (v ${fmt(p.v)}); use a *Deconv2d function`,
  );
  check(
    x.shape[3] === p.inChannels,
    fn,
    () =>
      `input has ${x.shape[3]} channels but the weights expect ${p.inChannels} (x ${fmt(x)}, v ${fmt(p.v)})`,
  );
  checkCallOptions(fn, o);
}

export function checkCallOptions(fn: string, o: LayerCallOptions | undefined): void {
  if (o?.initScale !== undefined) {
    check(
      Number.isFinite(o.initScale) && o.initScale > 0,
      fn,
      () => `initScale must be a positive number, got ${o.initScale}`,
    );
  }
}

/** Strides option: 1 or 2 (the same for rows and columns). */
export function checkStrides12(fn: string, s: unknown): 1 | 2 {
  check(s === 1 || s === 2, fn, () => `strides must be 1 or 2, got ${JSON.stringify(s)}`);
  return s;
}

/** Stride 2 halves H and W: both must be even. */
export function checkEvenForStride2(fn: string, x: tf.Tensor, strides: 1 | 2): void {
  if (strides !== 2) return;
  const [, h, w] = x.shape as number[];
  check(
    h % 2 === 0 && w % 2 === 0,
    fn,
    () => `strides 2 needs an even height and width, got x ${fmt(x)}`,
  );
}
