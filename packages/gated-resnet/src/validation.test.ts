import { describeBackends } from '@pixelcnn/backend/testing';
import { downShiftedConv2d } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  type ConvFn,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnet,
} from './index';

describeBackends(
  'gatedResnet: bad input gives clear errors naming the function and the shapes',
  () => {
    it('x: rank and channels', () => {
      const p = createGatedResnetParams({ channels: 4, kernelSize: [2, 3] });
      const conv = downShiftedConv2d;
      expect(() => gatedResnet(tf.zeros([8, 8]) as unknown as tf.Tensor4D, p, { conv })).toThrow(
        'Error in gatedResnet: expected rank 4, got [8, 8]',
      );
      expect(() => gatedResnet(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, p, { conv })).toThrow(
        'Error in gatedResnet: x has 3 channels but the block has 4 (x [1, 4, 4, 3])',
      );
      expect(() =>
        gatedResnet(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, p, {} as { conv: ConvFn }),
      ).toThrow(
        'Error in gatedResnet: options.conv must be a conv function, e.g. downShiftedConv2d',
      );
      expect(() =>
        gatedResnet(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, {} as GatedResnetParams, { conv }),
      ).toThrow('Error in gatedResnet: p must be GatedResnetParams (see createGatedResnetParams)');
      disposeGatedResnetParams(p);
    });

    it('skip and h must match the params and x', () => {
      const conv = downShiftedConv2d;
      const x = tf.zeros([2, 4, 4, 4]) as tf.Tensor4D;
      const plain = createGatedResnetParams({ channels: 4, kernelSize: [2, 3] });
      const full = createGatedResnetParams({
        channels: 4,
        kernelSize: [2, 3],
        skipChannels: 2,
        conditionalUnits: 3,
      });
      const skip = tf.zeros([2, 4, 4, 2]) as tf.Tensor4D;
      const h = tf.zeros([2, 3]) as tf.Tensor2D;
      expect(() => gatedResnet(x, plain, { conv, skip })).toThrow(
        'Error in gatedResnet: got a skip input but the block has no skip layer (createGatedResnetParams({ skipChannels }))',
      );
      expect(() => gatedResnet(x, full, { conv, h })).toThrow(
        'Error in gatedResnet: the block has a skip layer but no skip input was given',
      );
      expect(() =>
        gatedResnet(x, full, { conv, skip: tf.zeros([2, 2, 4, 2]) as tf.Tensor4D, h }),
      ).toThrow(
        'Error in gatedResnet: skip [2, 2, 4, 2] must match x [2, 4, 4, 4] in batch, height and width',
      );
      expect(() =>
        gatedResnet(x, full, { conv, skip: tf.zeros([2, 4, 4, 3]) as tf.Tensor4D, h }),
      ).toThrow(
        "Error in gatedResnet: skip has 3 channels but the block's skip layer takes 2 (skip [2, 4, 4, 3])",
      );
      expect(() => gatedResnet(x, plain, { conv, h })).toThrow(
        'Error in gatedResnet: got h but the block has no conditioning layer (createGatedResnetParams({ conditionalUnits }))',
      );
      expect(() => gatedResnet(x, full, { conv, skip })).toThrow(
        'Error in gatedResnet: the block has a conditioning layer but no h was given',
      );
      expect(() =>
        gatedResnet(x, full, { conv, skip, h: tf.zeros([3, 3]) as tf.Tensor2D }),
      ).toThrow('Error in gatedResnet: h must be [2 or 1, 3], got [3, 3]');
      expect(() =>
        gatedResnet(x, full, { conv, skip, h: tf.zeros([2, 5]) as tf.Tensor2D }),
      ).toThrow('Error in gatedResnet: h must be [2 or 1, 3], got [2, 5]');
      disposeGatedResnetParams(plain);
      disposeGatedResnetParams(full);
    });

    it('dropoutP range; a conv that changes the size', () => {
      const p = createGatedResnetParams({ channels: 4, kernelSize: [2, 3] });
      const x = tf.zeros([1, 4, 4, 4]) as tf.Tensor4D;
      expect(() =>
        gatedResnet(x, p, { conv: downShiftedConv2d, dropoutP: 1, training: true }),
      ).toThrow('Error in gatedResnet: dropoutP must be in [0, 1), got 1');
      const strided: ConvFn = (t, q, o) => downShiftedConv2d(t, q, { ...o, strides: 2 });
      expect(() => gatedResnet(x, p, { conv: strided })).toThrow(
        'Error in gatedResnet: conv returned [1, 2, 2, 4] for x [1, 4, 4, 4]; it must keep the size and give 4 channels',
      );
      disposeGatedResnetParams(p);
    });

    it('createGatedResnetParams options', () => {
      expect(() => createGatedResnetParams({ channels: 0, kernelSize: [2, 3] })).toThrow(
        'Error in createGatedResnetParams: channels must be a positive integer, got 0',
      );
      expect(() =>
        createGatedResnetParams({ channels: 2, kernelSize: [2] as unknown as [number, number] }),
      ).toThrow(
        'Error in createGatedResnetParams: kernelSize must be two positive integers, got [2]',
      );
      expect(() =>
        createGatedResnetParams({ channels: 2, kernelSize: [2, 3], skipChannels: -1 }),
      ).toThrow(
        'Error in createGatedResnetParams: skipChannels must be a positive integer, got -1',
      );
      expect(() =>
        createGatedResnetParams({ channels: 2, kernelSize: [2, 3], conditionalUnits: 1.5 }),
      ).toThrow(
        'Error in createGatedResnetParams: conditionalUnits must be a positive integer, got 1.5',
      );
      expect(() =>
        createGatedResnetParams({ channels: 2, kernelSize: [2, 3], activation: 'tanh' as 'elu' }),
      ).toThrow(
        `Error in createGatedResnetParams: unknown activation "tanh" (expected 'concat_elu', 'elu' or 'relu')`,
      );
    });
  },
);
