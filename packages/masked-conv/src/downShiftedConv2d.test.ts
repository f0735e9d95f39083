import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { randn, randomizeGB } from '../test/helpers';
import {
  arr4,
  type Kind,
  maxRelDiff,
  shiftedConvRef,
  shiftedDeconvRef,
  weightNormRef,
} from '../test/reference';
import {
  createConvParams,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShiftedConv2d,
  downShiftedDeconv2d,
} from './index';

const convOf = { downShifted: downShiftedConv2d, downRightShifted: downRightShiftedConv2d };
const deconvOf = { downShifted: downShiftedDeconv2d, downRightShifted: downRightShiftedDeconv2d };

interface Case {
  kind: Kind;
  kh: number;
  kw: number;
  s: 1 | 2;
  h: number;
  w: number;
  cin: number;
  cout: number;
  weightNorm: boolean;
  seed: number;
}

async function checkConv(c: Case, transposed: boolean): Promise<number> {
  const p = createConvParams({
    kernelSize: [c.kh, c.kw],
    inChannels: c.cin,
    outChannels: c.cout,
    weightNorm: c.weightNorm,
    transposed,
    seed: c.seed,
  });
  try {
    randomizeGB(p, c.seed + 7);
    const x = randn([2, c.h, c.w, c.cin], c.seed + 3);
    const y = transposed
      ? deconvOf[c.kind](x, p, { strides: c.s })
      : convOf[c.kind](x, p, { strides: c.s });
    const v = await arr4(p.v);
    const g = p.g ? Array.from(await p.g.data()) : undefined;
    const w = g ? weightNormRef(v, g, transposed ? 2 : 3) : v;
    const bias = Array.from(await p.b.data());
    const ref = transposed
      ? shiftedDeconvRef(await arr4(x), w, bias, c.kind, c.s)
      : shiftedConvRef(await arr4(x), w, bias, c.kind, c.s);
    expect(y.shape).toEqual(ref.shape);
    return maxRelDiff(await y.data(), ref.data);
  } finally {
    disposeParams(p);
  }
}

const caseArb = (transposed: boolean) =>
  fc
    .record({
      kind: fc.constantFrom<Kind>('downShifted', 'downRightShifted'),
      kh: fc.integer({ min: 1, max: 3 }),
      kwHalf: fc.integer({ min: 0, max: 2 }),
      s: fc.constantFrom<1 | 2>(1, 2),
      hHalf: fc.integer({ min: 1, max: transposed ? 2 : 3 }),
      wHalf: fc.integer({ min: 1, max: transposed ? 2 : 3 }),
      cin: fc.integer({ min: 1, max: 3 }),
      cout: fc.integer({ min: 1, max: 3 }),
      weightNorm: fc.boolean(),
      seed: fc.integer({ min: 0, max: 10_000 }),
    })
    .map(
      (r): Case => ({
        ...r,
        // down-shifted needs an odd width; down-right-shifted takes any
        kw: r.kind === 'downShifted' ? 2 * r.kwHalf + 1 : r.kwHalf + 1,
        h: 2 * r.hHalf,
        w: 2 * r.wHalf,
      }),
    );

describeBackends('shifted convs match the index formulas (float64 reference)', () => {
  it('downShiftedConv2d [2, 3] and downRightShiftedConv2d [2, 2], PixelCNN++ sizes', async () => {
    for (const kind of ['downShifted', 'downRightShifted'] as const) {
      for (const s of [1, 2] as const) {
        const kw = kind === 'downShifted' ? 3 : 2;
        const c: Case = {
          kind,
          kh: 2,
          kw,
          s,
          h: 6,
          w: 4,
          cin: 3,
          cout: 4,
          weightNorm: true,
          seed: 11,
        };
        expect(await checkConv(c, false)).toBeLessThan(1e-5);
      }
    }
  });

  it('deconvs [2, 3] / [2, 2] double H and W', async () => {
    for (const kind of ['downShifted', 'downRightShifted'] as const) {
      const kw = kind === 'downShifted' ? 3 : 2;
      const c: Case = {
        kind,
        kh: 2,
        kw,
        s: 2,
        h: 3,
        w: 2,
        cin: 3,
        cout: 2,
        weightNorm: true,
        seed: 5,
      };
      expect(await checkConv(c, true)).toBeLessThan(1e-5);
    }
  });

  it('any kernel size, stride, weight norm on/off: conv (property)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(false), async (c) => (await checkConv(c, false)) < 1e-5),
      { numRuns: 25 },
    );
  });

  it('any kernel size, stride, weight norm on/off: transposed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(true), async (c) => (await checkConv(c, true)) < 1e-5),
      { numRuns: 25 },
    );
  });

  it('default strides: 1 for convs, 2 for deconvs', () => {
    const p = createConvParams({ kernelSize: [2, 3], inChannels: 1, outChannels: 2 });
    const q = createConvParams({
      kernelSize: [2, 3],
      inChannels: 1,
      outChannels: 2,
      transposed: true,
    });
    const x = tf.zeros([1, 4, 6, 1]);
    expect(downShiftedConv2d(x, p).shape).toEqual([1, 4, 6, 2]);
    expect(downRightShiftedConv2d(x, p).shape).toEqual([1, 4, 6, 2]);
    expect(downShiftedDeconv2d(x, q).shape).toEqual([1, 8, 12, 2]);
    expect(downRightShiftedDeconv2d(x, q).shape).toEqual([1, 8, 12, 2]);
    disposeParams(p);
    disposeParams(q);
  });
});
