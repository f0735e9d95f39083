import * as tf from '@tensorflow/tfjs-core';
import { check, isPositiveInt } from './errors';

export interface PixelCnnMaskOptions {
  /** Odd kernel size k (the kernel is k x k, centred on the current pixel). */
  kernelSize: number;
  /** 'A' (first layer: excludes the current pixel) or 'B' (later layers: includes it). */
  type: 'A' | 'B';
  inChannels: number;
  outChannels: number;
  /**
   * Colour groups (van den Oord et al. 2016, e.g. 3 for RGB; default 1). Channel `c` of `n` belongs
   * to group `floor(c * G / n)`. At the centre tap, output group `j` sees input group `i` iff
   * `i < j` (type A) or `i <= j` (type B).
   */
  channelGroups?: number;
}

/**
 * PixelCNN mask (van den Oord et al. 2016, "Pixel Recurrent Neural Networks"), a `[k, k, inC, outC]`
 * 0/1 tensor for {@link maskedConv2d}: every tap in a row above the centre, the taps left of the
 * centre in its row, and the centre tap according to `type` and `channelGroups`.
 */
export function pixelCnnMask(o: PixelCnnMaskOptions): tf.Tensor4D {
  const fn = 'pixelCnnMask';
  check(o != null && typeof o === 'object', fn, () => 'expected an options object');
  const { kernelSize: k, type, inChannels: cin, outChannels: cout } = o;
  const groups = o.channelGroups ?? 1;
  check(
    isPositiveInt(k) && k % 2 === 1,
    fn,
    () => `kernelSize must be a positive odd integer, got ${k}`,
  );
  check(
    type === 'A' || type === 'B',
    fn,
    () => `unknown mask type ${JSON.stringify(type)} (expected 'A' or 'B')`,
  );
  check(isPositiveInt(cin), fn, () => `inChannels must be a positive integer, got ${cin}`);
  check(isPositiveInt(cout), fn, () => `outChannels must be a positive integer, got ${cout}`);
  check(
    isPositiveInt(groups) && groups <= cin && groups <= cout,
    fn,
    () =>
      `channelGroups must be a positive integer <= inChannels and outChannels, got ${groups} (inChannels ${cin}, outChannels ${cout})`,
  );
  const centre = (k - 1) / 2;
  const data = new Float32Array(k * k * cin * cout);
  const groupOf = (c: number, n: number) => Math.floor((c * groups) / n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < cin; i++) {
        for (let j = 0; j < cout; j++) {
          let on: boolean;
          if (r < centre || (r === centre && c < centre)) on = true;
          else if (r === centre && c === centre) {
            const gi = groupOf(i, cin);
            const gj = groupOf(j, cout);
            on = type === 'A' ? gi < gj : gi <= gj;
          } else on = false;
          if (on) data[((r * k + c) * cin + i) * cout + j] = 1;
        }
      }
    }
  }
  return tf.tensor4d(data, [k, k, cin, cout]);
}
