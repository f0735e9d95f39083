import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import {
  broadcastShapes,
  prepareLogProbInputs,
  prepareSampleConditional,
  sampleShapeOf,
} from './inputs';

describe('broadcastShapes', () => {
  it('follows numpy rules (property, against a direct definition)', () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(fc.array(dim, { maxLength: 4 }), fc.array(dim, { maxLength: 4 }), (a, b) => {
        const n = Math.max(a.length, b.length);
        const pa = [...Array(n - a.length).fill(1), ...a];
        const pb = [...Array(n - b.length).fill(1), ...b];
        const ok = pa.every((x, i) => x === pb[i] || x === 1 || pb[i] === 1);
        const want = ok ? pa.map((x, i) => Math.max(x, pb[i])) : null;
        expect(broadcastShapes(a, b)).toEqual(want);
      }),
    );
  });
});

describe('sampleShapeOf', () => {
  it('accepts a count, a shape, or none / [] (one sample, as TFP) and rejects n < 1', () => {
    expect(sampleShapeOf('sample', 3)).toEqual([3]);
    expect(sampleShapeOf('sample', [2, 3])).toEqual([2, 3]);
    expect(sampleShapeOf('sample', [])).toEqual([]);
    expect(sampleShapeOf('sample', undefined)).toEqual([]);
    expect(() => sampleShapeOf('sample', 0)).toThrow(
      'Error in sample: n must be an integer >= 1 or an array of them (a sample shape; [] or none for one sample), got 0',
    );
    expect(() => sampleShapeOf('sample', [2, 0])).toThrow(/n must be an integer >= 1/);
    expect(() => sampleShapeOf('sample', 1.5)).toThrow(/n must be an integer >= 1/);
  });
});

describeBackends('prepareLogProbInputs', () => {
  const uncond = resolveConfig({ imageShape: [2, 2, 1], high: 3, numHierarchies: 1 });
  const vec = resolveConfig({
    imageShape: [2, 2, 1],
    high: 3,
    numHierarchies: 1,
    conditionalShape: [2],
  });
  const label = resolveConfig({
    imageShape: [2, 2, 1],
    high: 3,
    numHierarchies: 1,
    conditionalShape: [],
    numClasses: 3,
  });

  it('flattens image batch dims (unconditional)', () => {
    const p = prepareLogProbInputs('logProb', tf.zeros([2, 3, 2, 2, 1]), undefined, uncond, true);
    expect(p.batchShape).toEqual([2, 3]);
    expect(p.images.shape).toEqual([6, 2, 2, 1]);
    expect(p.h).toBeUndefined();
    const single = prepareLogProbInputs('logProb', tf.zeros([2, 2, 1]), undefined, uncond, true);
    expect(single.batchShape).toEqual([]);
    expect(single.images.shape).toEqual([1, 2, 2, 1]);
  });

  it("broadcasts image and conditional batch dims (TFP's _log_prob)", async () => {
    const imgs = tf.tensor4d([0, 1, 2, 3, 3, 2, 1, 0], [2, 2, 2, 1]); // [2] batch
    const cond = tf.tensor3d([1, 2, 3, 4, 5, 6], [3, 1, 2]); // batch [3, 1]
    const p = prepareLogProbInputs('logProb', imgs, cond, vec, true);
    expect(p.batchShape).toEqual([3, 2]);
    expect(p.images.shape).toEqual([6, 2, 2, 1]);
    expect(p.h!.shape).toEqual([6, 2]);
    expect(Array.from(await p.h!.data())).toEqual([1, 2, 1, 2, 3, 4, 3, 4, 5, 6, 5, 6]);
    const im = await p.images.data();
    expect(Array.from(im.slice(0, 8))).toEqual([0, 1, 2, 3, 3, 2, 1, 0]);
  });

  it('one-hot encodes scalar labels with numClasses', async () => {
    const p = prepareLogProbInputs('logProb', tf.zeros([2, 2, 2, 1]), [2, 0], label, true);
    expect(Array.from(await p.h!.data())).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('gives a NaN row for a label tensor outside [0, numClasses) (no data read)', async () => {
    const p = prepareLogProbInputs(
      'logProb',
      tf.zeros([3, 2, 2, 1]),
      tf.tensor1d([1, 3, 0.5]),
      label,
      true,
    );
    const h = Array.from(await p.h!.data());
    expect(h.slice(0, 3)).toEqual([0, 1, 0]);
    expect(h.slice(3).every(Number.isNaN)).toBe(true);
    const off = prepareLogProbInputs(
      'logProb',
      tf.zeros([1, 2, 2, 1]),
      tf.tensor1d([3]),
      label,
      false,
    );
    expect(Array.from(await off.h!.data())).toEqual([0, 0, 0]); // validate off: tf.oneHot's zeros
  });

  it('throws clear errors', () => {
    expect(() =>
      prepareLogProbInputs('logProb', tf.zeros([2, 3, 1]), undefined, uncond, true),
    ).toThrow(
      'Error in logProb: expected images of shape [..., 2, 2, 1] (imageShape), got [2, 3, 1]',
    );
    // Pixel values are not read here (logProb gives NaN; the trainer checks each batch once).
    expect(() =>
      prepareLogProbInputs('logProb', tf.fill([2, 2, 1], 4), undefined, uncond, true),
    ).not.toThrow();
    expect(() =>
      prepareLogProbInputs('logProb', tf.zeros([2, 2, 1]), [1, 2], uncond, true),
    ).toThrow('Error in logProb: got a conditionalInput but this PixelCNN has no conditionalShape');
    expect(() =>
      prepareLogProbInputs('logProb', tf.zeros([2, 2, 1]), undefined, vec, true),
    ).toThrow(/this PixelCNN is conditional \(conditionalShape \[2\]\); pass conditionalInput/);
    expect(() =>
      prepareLogProbInputs('logProb', tf.zeros([2, 2, 1]), [1, 2, 3], vec, true),
    ).toThrow(
      'Error in logProb: conditionalInput must have shape [...batch, 2] (conditionalShape [2]), got [3]',
    );
    expect(() =>
      prepareLogProbInputs('logProb', tf.zeros([2, 2, 2, 1]), tf.zeros([3, 2]), vec, true),
    ).toThrow(
      'Error in logProb: image batch shape [2] and conditional batch shape [3] do not broadcast',
    );
    expect(() => prepareLogProbInputs('logProb', tf.zeros([2, 2, 1]), 3, label, true)).toThrow(
      'Error in logProb: class labels must be integers in [0, 2] (numClasses 3); found 3',
    );
  });
});

describeBackends('prepareSampleConditional', () => {
  const vec = resolveConfig({ imageShape: [2, 2, 1], numHierarchies: 1, conditionalShape: [2] });
  it('repeats a conditional batch as the fastest sample dims (TFP _sample_n)', async () => {
    const h = prepareSampleConditional(
      'sample',
      [2, 3],
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      vec,
    )!;
    expect(h.shape).toEqual([6, 2]);
    expect(Array.from(await h.data())).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    const one = prepareSampleConditional('sample', [4], [5, 6], vec)!;
    expect(Array.from(await one.data())).toEqual([5, 6, 5, 6, 5, 6, 5, 6]);
    // TFP's rule is divisibility only: 6 samples of 3 conditions tile them twice
    const six = prepareSampleConditional(
      'sample',
      [6],
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      vec,
    )!;
    expect(Array.from(await six.data())).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  });
  it('requires the sample count to be a multiple of the conditional batch', () => {
    expect(() =>
      prepareSampleConditional(
        'sample',
        [4],
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
        vec,
      ),
    ).toThrow(
      'Error in sample: 4 samples (sample shape [4]) is not a multiple of the 3 conditional inputs (batch shape [3]); TFP tiles the conditional inputs, so ask for a multiple of 3',
    );
  });
});
