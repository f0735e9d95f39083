import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randn, randomizeGB } from '../test/helpers';
import { arr4, channelStats, maxRelDiff, weightNormRef } from '../test/reference';
import {
  type ConvParams,
  conv2d,
  createConvParams,
  createDenseParams,
  type DenseParams,
  deconv2d,
  dense,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShiftedConv2d,
  downShiftedDeconv2d,
  effectiveWeight,
  type LayerCallOptions,
  maskedConv2d,
  nin,
  pixelCnnMask,
  tfpMask,
  withEffectiveWeights,
} from './index';

type Params = ConvParams | DenseParams;
interface LayerCase {
  name: string;
  make: (weightNorm: boolean) => Params;
  input: () => tf.Tensor;
  call: (x: tf.Tensor, p: Params, o: LayerCallOptions) => tf.Tensor;
  masks?: tf.Tensor[];
}

const conv =
  (ks: [number, number], cin: number, cout: number, transposed = false) =>
  (wn: boolean) =>
    createConvParams({
      kernelSize: ks,
      inChannels: cin,
      outChannels: cout,
      transposed,
      weightNorm: wn,
      seed: 21,
    });

function cases(): LayerCase[] {
  const maskB = pixelCnnMask({ kernelSize: 3, type: 'B', inChannels: 3, outChannels: 4 });
  const up = tfpMask({ receptiveField: [3, 3], layer: 'verticalUpsample' });
  const x8 = () => randn([2, 4, 6, 3], 1);
  const x4 = () => randn([2, 2, 3, 3], 2);
  return [
    {
      name: 'conv2d same',
      make: conv([3, 3], 3, 4),
      input: x8,
      call: (x, p, o) => conv2d(x, p as ConvParams, o),
    },
    {
      name: 'conv2d valid stride 2',
      make: conv([2, 2], 3, 4),
      input: x8,
      call: (x, p, o) => conv2d(x, p as ConvParams, { ...o, strides: 2, padding: 'valid' }),
    },
    {
      name: 'deconv2d same stride 2',
      make: conv([3, 3], 3, 4, true),
      input: x4,
      call: (x, p, o) => deconv2d(x, p as ConvParams, { ...o, strides: 2 }),
    },
    {
      name: 'downShiftedConv2d',
      make: conv([2, 3], 3, 4),
      input: x8,
      call: (x, p, o) => downShiftedConv2d(x, p as ConvParams, o),
    },
    {
      name: 'downShiftedConv2d stride 2',
      make: conv([2, 3], 3, 4),
      input: x8,
      call: (x, p, o) => downShiftedConv2d(x, p as ConvParams, { ...o, strides: 2 }),
    },
    {
      name: 'downRightShiftedConv2d',
      make: conv([2, 2], 3, 4),
      input: x8,
      call: (x, p, o) => downRightShiftedConv2d(x, p as ConvParams, o),
    },
    {
      name: 'downRightShiftedConv2d stride 2',
      make: conv([2, 2], 3, 4),
      input: x8,
      call: (x, p, o) => downRightShiftedConv2d(x, p as ConvParams, { ...o, strides: 2 }),
    },
    {
      name: 'downShiftedDeconv2d',
      make: conv([2, 3], 3, 4, true),
      input: x4,
      call: (x, p, o) => downShiftedDeconv2d(x, p as ConvParams, o),
    },
    {
      name: 'downRightShiftedDeconv2d',
      make: conv([2, 2], 3, 4, true),
      input: x4,
      call: (x, p, o) => downRightShiftedDeconv2d(x, p as ConvParams, o),
    },
    {
      name: 'maskedConv2d (PixelCNN B)',
      make: conv([3, 3], 3, 4),
      input: x8,
      call: (x, p, o) => maskedConv2d(x, p as ConvParams, maskB, o),
      masks: [maskB],
    },
    {
      name: 'maskedConv2d transposed (TFP verticalUpsample)',
      make: conv(up.kernelSize, 3, 4, true),
      input: x4,
      call: (x, p, o) => maskedConv2d(x, p as ConvParams, up.mask, o),
      masks: [up.mask],
    },
    {
      name: 'dense [B, T, in]',
      make: (wn) => createDenseParams({ inUnits: 3, outUnits: 4, weightNorm: wn, seed: 21 }),
      input: () => randn([2, 5, 3], 3),
      call: (x, p, o) => dense(x, p as DenseParams, o),
    },
    {
      name: 'nin',
      make: (wn) => createDenseParams({ inUnits: 3, outUnits: 4, weightNorm: wn, seed: 21 }),
      input: x8,
      call: (x, p, o) => nin(x, p as DenseParams, o),
    },
  ];
}

async function stats(t: tf.Tensor) {
  return channelStats(await t.data(), t.shape[t.rank - 1]);
}

describeBackends('weight norm and data-dependent init', () => {
  it('effective kernel = g * v / ||v|| (norm over all axes but the output channel)', async () => {
    for (const transposed of [false, true]) {
      const p = createConvParams({
        kernelSize: [2, 3],
        inChannels: 3,
        outChannels: 4,
        transposed,
        seed: 2,
      });
      randomizeGB(p, 5);
      const w = effectiveWeight(p, transposed ? 2 : 3);
      const ref = weightNormRef(await arr4(p.v), await p.g!.data(), transposed ? 2 : 3);
      expect(maxRelDiff(await w.data(), ref.data)).toBeLessThan(1e-6);
      disposeParams(p);
    }
    const d = createDenseParams({ inUnits: 3, outUnits: 2, seed: 1 });
    randomizeGB(d, 2);
    const v = (await d.v.array()) as number[][];
    const g = await d.g!.data();
    const norms = [0, 1].map((j) => Math.hypot(...v.map((row) => row[j])));
    const expected = v.flatMap((row) => row.map((vij, j) => (g[j] * vij) / norms[j]));
    expect(maxRelDiff(await effectiveWeight(d, 1).data(), expected)).toBeLessThan(1e-6);
    disposeParams(d);
  });

  it('init: mean 0, variance 1 per channel on the init batch (tol 1e-4), for every layer', async () => {
    for (const c of cases()) {
      for (const wn of [true, false]) {
        const p = c.make(wn);
        const y = c.call(c.input(), p, { init: true });
        const { mean, variance } = await stats(y);
        for (const m of mean) expect(Math.abs(m), `${c.name} wn=${wn} mean`).toBeLessThan(1e-4);
        for (const v of variance)
          expect(Math.abs(v - 1), `${c.name} wn=${wn} var`).toBeLessThan(1e-4);
        disposeParams(p);
      }
      for (const m of c.masks ?? []) m.dispose();
    }
  });

  it('init assigns g = initScale / sqrt(var + 1e-10), b = -mean * g from the unnormalised output', async () => {
    for (const c of cases()) {
      const p = c.make(true);
      // g = 1, b = 0 at creation: the plain output is the normalised direction's output
      const { mean, variance } = await stats(c.call(c.input(), p, {}));
      c.call(c.input(), p, { init: true, initScale: 0.1 });
      const g = await p.g!.data();
      const b = await p.b.data();
      const gRef = variance.map((v) => 0.1 / Math.sqrt(v + 1e-10));
      expect(maxRelDiff(g, gRef), c.name).toBeLessThan(1e-4);
      expect(
        maxRelDiff(
          b,
          mean.map((m, i) => -m * gRef[i]),
        ),
        c.name,
      ).toBeLessThan(1e-4);
      disposeParams(p);
      for (const m of c.masks ?? []) m.dispose();
    }
  });

  it('after init, a plain call returns what the init call returned; initScale sets the std', async () => {
    for (const c of cases()) {
      for (const wn of [true, false]) {
        const p = c.make(wn);
        const yInit = c.call(c.input(), p, { init: true, initScale: 0.5 });
        const y = c.call(c.input(), p, {});
        expect(maxRelDiff(await y.data(), await yInit.data()), `${c.name} wn=${wn}`).toBeLessThan(
          1e-5,
        );
        const { variance } = await stats(y);
        for (const v of variance) expect(Math.abs(v - 0.25), c.name).toBeLessThan(1e-4);
        if (!wn) expect(p.g).toBeUndefined();
        disposeParams(p);
      }
      for (const m of c.masks ?? []) m.dispose();
    }
  });

  it('init leaves no tensors behind and only touches this layer', async () => {
    const p = createConvParams({ kernelSize: [2, 3], inChannels: 3, outChannels: 4 });
    const x = randn([2, 4, 4, 3], 4);
    const before = tf.memory().numTensors;
    tf.dispose(downShiftedConv2d(x, p, { init: true }));
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(p);
  });
});

describeBackends('withEffectiveWeights', () => {
  it('makes layer calls use the given kernel, innermost scope first, and not for masked layers', async () => {
    const p = createConvParams({ kernelSize: [1, 1], inChannels: 2, outChannels: 1, seed: 3 });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const w3 = tf.tensor4d([3, 0], [1, 1, 2, 1]);
    const w5 = tf.tensor4d([0, 5], [1, 1, 2, 1]);
    const y = withEffectiveWeights(new Map([[p, w3]]), () => [
      conv2d(x, p),
      withEffectiveWeights(new Map([[p, w5]]), () => conv2d(x, p)),
      effectiveWeight(p, 3) === w3,
    ]);
    expect(Array.from(await (y[0] as tf.Tensor).data())).toEqual([3, 9]); // 3*x0 + b (b = 0)
    expect(Array.from(await (y[1] as tf.Tensor).data())).toEqual([10, 20]); // 5*x1
    expect(y[2]).toBe(true);
    const outside = effectiveWeight(p, 3);
    expect(outside).not.toBe(w3); // the scope ended: computed from v and g again
    const masked = withEffectiveWeights(new Map([[p, w3]]), () =>
      effectiveWeight(p, 3, tf.ones([1, 1, 2, 1])),
    );
    expect(masked).not.toBe(w3);
    tf.dispose([x, w3, w5, y[0] as tf.Tensor, y[1] as tf.Tensor, outside, masked]);
    disposeParams(p);
  });
});
