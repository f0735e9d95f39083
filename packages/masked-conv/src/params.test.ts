import { describeBackends } from '@pixelcnn/backend/testing';
import { expect, it } from 'vitest';
import { createConvParams, createDenseParams, disposeParams, paramVariables } from './index';

describeBackends('createConvParams / createDenseParams', () => {
  it('shapes, layouts and the stable variable order v, g, b', () => {
    const c = createConvParams({ kernelSize: [2, 3], inChannels: 4, outChannels: 5 });
    expect(c.v.shape).toEqual([2, 3, 4, 5]);
    expect(c.g!.shape).toEqual([5]);
    expect(c.b.shape).toEqual([5]);
    expect(c).toMatchObject({
      kernelSize: [2, 3],
      inChannels: 4,
      outChannels: 5,
      weightNorm: true,
      transposed: false,
    });
    expect(paramVariables(c)).toEqual([c.v, c.g, c.b]);
    const t = createConvParams({
      kernelSize: [2, 2],
      inChannels: 4,
      outChannels: 5,
      transposed: true,
      weightNorm: false,
    });
    expect(t.v.shape).toEqual([2, 2, 5, 4]);
    expect(t.g).toBeUndefined();
    expect(paramVariables(t)).toEqual([t.v, t.b]);
    const d = createDenseParams({ inUnits: 3, outUnits: 2 });
    expect(d.v.shape).toEqual([3, 2]);
    expect(paramVariables(d).map((v) => v.shape)).toEqual([[3, 2], [2], [2]]);
    for (const p of [c, t, d]) disposeParams(p);
    expect(c.v.isDisposed && c.g!.isDisposed && c.b.isDisposed).toBe(true);
  });

  it('init values: v ~ N(0, 0.05) reproducible by seed, g = 1, b = 0; names', async () => {
    const a = createConvParams({
      kernelSize: [4, 4],
      inChannels: 8,
      outChannels: 8,
      seed: 3,
      name: 'layerA',
    });
    const b = createConvParams({ kernelSize: [4, 4], inChannels: 8, outChannels: 8, seed: 3 });
    const va = Array.from(await a.v.data());
    expect(Array.from(await b.v.data())).toEqual(va);
    const mean = va.reduce((s, x) => s + x, 0) / va.length;
    const std = Math.sqrt(va.reduce((s, x) => s + (x - mean) ** 2, 0) / va.length);
    expect(Math.abs(mean)).toBeLessThan(0.01); // 1024 samples: sd of the mean 0.0016
    expect(Math.abs(std - 0.05)).toBeLessThan(0.006);
    expect(Array.from(await a.g!.data())).toEqual(new Array(8).fill(1));
    expect(Array.from(await a.b.data())).toEqual(new Array(8).fill(0));
    expect(paramVariables(a).map((v) => v.name)).toEqual(['layerA/v', 'layerA/g', 'layerA/b']);
    expect(a.v.trainable).toBe(true);
    disposeParams(a);
    disposeParams(b);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => createConvParams({ kernelSize: [0, 3], inChannels: 1, outChannels: 1 })).toThrow(
      'Error in createConvParams: kernelSize must be two positive integers, got [0,3]',
    );
    expect(() => createConvParams({ kernelSize: [2, 3], inChannels: 1.5, outChannels: 1 })).toThrow(
      'Error in createConvParams: inChannels must be a positive integer, got 1.5',
    );
    expect(() => createConvParams({ kernelSize: [2, 3], inChannels: 1, outChannels: 0 })).toThrow(
      'Error in createConvParams: outChannels must be a positive integer, got 0',
    );
    expect(() => createDenseParams({ inUnits: 0, outUnits: 1 })).toThrow(
      'Error in createDenseParams: inUnits must be a positive integer, got 0',
    );
    expect(() => createDenseParams({ inUnits: 1, outUnits: -2 })).toThrow(
      'Error in createDenseParams: outUnits must be a positive integer, got -2',
    );
  });
});
