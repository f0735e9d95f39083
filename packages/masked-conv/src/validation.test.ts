import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConvParams,
  conv2d,
  createConvParams,
  deconv2d,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShiftedConv2d,
  downShiftedDeconv2d,
  embedKernel,
  maskedConv2d,
  maskedCounterpart,
  pixelCnnMask,
  type TfpLayer,
  tfpMask,
} from './index';

describeBackends('bad input: clear errors naming the function and the shapes', () => {
  let p: ConvParams; // [2, 3], 3 -> 4
  let pt: ConvParams; // transposed [2, 3], 3 -> 4
  let p22: ConvParams; // [2, 2], 3 -> 4
  beforeAll(() => {
    p = createConvParams({ kernelSize: [2, 3], inChannels: 3, outChannels: 4 });
    pt = createConvParams({ kernelSize: [2, 3], inChannels: 3, outChannels: 4, transposed: true });
    p22 = createConvParams({ kernelSize: [2, 2], inChannels: 3, outChannels: 4 });
  });
  afterAll(() => {
    for (const q of [p, pt, p22]) disposeParams(q);
  });

  it('wrong rank', () => {
    const x = tf.zeros([28, 28]);
    for (const [name, f] of [
      ['downShiftedConv2d', () => downShiftedConv2d(x, p)],
      ['downRightShiftedConv2d', () => downRightShiftedConv2d(x, p)],
      ['downShiftedDeconv2d', () => downShiftedDeconv2d(x, pt)],
      ['downRightShiftedDeconv2d', () => downRightShiftedDeconv2d(x, pt)],
      ['conv2d', () => conv2d(x, p)],
      ['deconv2d', () => deconv2d(x, pt)],
      ['maskedConv2d', () => maskedConv2d(x, p, tf.ones([2, 3, 1, 1]))],
    ] as const) {
      expect(f, name).toThrow(`Error in ${name}: expected rank 4, got [28, 28]`);
    }
  });

  it('channels not matching the weights', () => {
    const x = tf.zeros([1, 4, 4, 5]);
    expect(() => downShiftedConv2d(x, p)).toThrow(
      'Error in downShiftedConv2d: input has 5 channels but the weights expect 3 (x [1, 4, 4, 5], v [2, 3, 3, 4])',
    );
    expect(() => downRightShiftedDeconv2d(x, pt)).toThrow(
      'Error in downRightShiftedDeconv2d: input has 5 channels but the weights expect 3 (x [1, 4, 4, 5], v [2, 3, 4, 3])',
    );
    expect(() => maskedConv2d(x, p, tf.ones([2, 3, 1, 1]))).toThrow(
      'Error in maskedConv2d: input has 5 channels but the weights expect 3',
    );
  });

  it('odd sizes with stride 2, strides other than 1 or 2', () => {
    const x = tf.zeros([1, 7, 8, 3]);
    expect(() => downShiftedConv2d(x, p, { strides: 2 })).toThrow(
      'Error in downShiftedConv2d: strides 2 needs an even height and width, got x [1, 7, 8, 3]',
    );
    expect(() => downRightShiftedConv2d(tf.zeros([1, 8, 5, 3]), p22, { strides: 2 })).toThrow(
      'Error in downRightShiftedConv2d: strides 2 needs an even height and width, got x [1, 8, 5, 3]',
    );
    const m = maskedCounterpart({ kind: 'downShifted', kernelSize: [2, 3], strides: 2 });
    const pm = createConvParams({ kernelSize: m.kernelSize, inChannels: 3, outChannels: 4 });
    expect(() => maskedConv2d(x, pm, m.mask, { strides: 2 })).toThrow(
      'Error in maskedConv2d: strides 2 needs an even height and width, got x [1, 7, 8, 3]',
    );
    disposeParams(pm);
    m.mask.dispose();
    const even = tf.zeros([1, 4, 4, 3]);
    expect(() => downShiftedConv2d(even, p, { strides: 3 as 2 })).toThrow(
      'Error in downShiftedConv2d: strides must be 1 or 2, got 3',
    );
    expect(() => downShiftedDeconv2d(even, pt, { strides: [2, 2] as unknown as 2 })).toThrow(
      'Error in downShiftedDeconv2d: strides must be 1 or 2, got [2,2]',
    );
    expect(() => conv2d(even, p, { strides: 0 })).toThrow(
      'Error in conv2d: strides must be a positive integer or two of them, got 0',
    );
    expect(() => conv2d(even, p, { padding: 'causal' as 'same' })).toThrow(
      `Error in conv2d: padding must be 'same' or 'valid', got "causal"`,
    );
  });

  it('kernel shapes: even width for down-shifted, conv vs transposed params, mask shape', () => {
    const x = tf.zeros([1, 4, 4, 3]);
    expect(() => downShiftedConv2d(x, p22)).toThrow(
      'Error in downShiftedConv2d: kernel width must be odd (centred columns), got kernelSize [2, 2]',
    );
    const pt22 = createConvParams({
      kernelSize: [2, 2],
      inChannels: 3,
      outChannels: 4,
      transposed: true,
    });
    expect(() => downShiftedDeconv2d(x, pt22)).toThrow(
      'Error in downShiftedDeconv2d: kernel width must be odd (centred columns), got kernelSize [2, 2]',
    );
    disposeParams(pt22);
    expect(() => downShiftedConv2d(x, pt)).toThrow(
      'Error in downShiftedConv2d: expected conv params, got transposed ones (v [2, 3, 4, 3]); use a *Deconv2d function',
    );
    expect(() => downShiftedDeconv2d(x, p)).toThrow(
      'Error in downShiftedDeconv2d: expected transposed conv params (createConvParams({ transposed: true })), got v [2, 3, 3, 4]',
    );
    expect(() => downShiftedConv2d(x, {} as ConvParams)).toThrow(
      'Error in downShiftedConv2d: p must be ConvParams (see createConvParams)',
    );
    expect(() => maskedConv2d(x, p, tf.ones([3, 3, 1, 1]))).toThrow(
      'Error in maskedConv2d: mask [3, 3, 1, 1] does not fit the kernel v [2, 3, 3, 4]',
    );
    expect(() => maskedConv2d(x, p, tf.ones([2, 3, 2, 1]))).toThrow(
      'Error in maskedConv2d: mask [2, 3, 2, 1] does not fit the kernel v [2, 3, 3, 4]',
    );
    expect(() => downShiftedConv2d(x, p, { init: true, initScale: -1 })).toThrow(
      'Error in downShiftedConv2d: initScale must be a positive number, got -1',
    );
  });

  it('masks: unknown types / layers / kinds, bad sizes', () => {
    const o = { kernelSize: 3, inChannels: 3, outChannels: 3 };
    expect(() => pixelCnnMask({ ...o, type: 'C' as 'A' })).toThrow(
      `Error in pixelCnnMask: unknown mask type "C" (expected 'A' or 'B')`,
    );
    expect(() => pixelCnnMask({ ...o, kernelSize: 4, type: 'A' })).toThrow(
      'Error in pixelCnnMask: kernelSize must be a positive odd integer, got 4',
    );
    expect(() => pixelCnnMask({ ...o, type: 'B', channelGroups: 4 })).toThrow(
      'Error in pixelCnnMask: channelGroups must be a positive integer <= inChannels and outChannels, got 4 (inChannels 3, outChannels 3)',
    );
    expect(() => tfpMask({ receptiveField: [3, 3], layer: 'diagonal' as TfpLayer })).toThrow(
      'Error in tfpMask: unknown layer "diagonal" (expected one of verticalInit, ',
    );
    expect(() => tfpMask({ receptiveField: [3, 4], layer: 'vertical' })).toThrow(
      'Error in tfpMask: receptiveField cols must be odd, got [3, 4]',
    );
    expect(() => tfpMask({ receptiveField: [1, 3], layer: 'vertical' })).toThrow(
      'Error in tfpMask: receptiveField rows must be >= 2, got [1, 3]',
    );
    expect(() => tfpMask({ receptiveField: [2, 3], layer: 'verticalUpsample' })).toThrow(
      "Error in tfpMask: layer 'verticalUpsample' has an empty kernel for receptiveField [2, 3]",
    );
    expect(() => maskedCounterpart({ kind: 'up' as 'downShifted', kernelSize: [2, 3] })).toThrow(
      `Error in maskedCounterpart: unknown kind "up" (expected 'downShifted' or 'downRightShifted')`,
    );
    expect(() => maskedCounterpart({ kind: 'downShifted', kernelSize: [2, 2] })).toThrow(
      "Error in maskedCounterpart: kernel width must be odd for 'downShifted', got kernelSize [2, 2]",
    );
    expect(() =>
      embedKernel(tf.zeros([3, 3, 1, 1]), { kernelSize: [3, 3], offset: [1, 0] }),
    ).toThrow(
      'Error in embedKernel: a kernel [3, 3, 1, 1] at offset [1, 0] does not fit in [3, 3]',
    );
  });
});
