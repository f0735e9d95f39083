import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { randn, randomizeGB } from '../test/helpers';
import { maxRelDiff } from '../test/reference';
import {
  type ConvParams,
  createConvParams,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShift,
  downShiftedConv2d,
  downShiftedDeconv2d,
  embedKernel,
  maskedConv2d,
  maskedCounterpart,
  pixelCnnMask,
  rightShift,
  type ShiftedConvKind,
  TFP_LAYERS,
  type TfpLayer,
  tfpMask,
} from './index';

/** Params of the big kernel holding `small`'s v embedded at `offset`, same g and b. */
function embedParams(
  small: ConvParams,
  layout: { kernelSize: [number, number]; offset: [number, number] },
): ConvParams {
  const big = createConvParams({
    kernelSize: layout.kernelSize,
    inChannels: small.inChannels,
    outChannels: small.outChannels,
    weightNorm: small.weightNorm,
    transposed: small.transposed,
  });
  tf.tidy(() => {
    big.v.assign(embedKernel(small.v, layout));
    if (small.g && big.g) big.g.assign(small.g);
    big.b.assign(small.b);
  });
  return big;
}

const shifted = {
  conv: { downShifted: downShiftedConv2d, downRightShifted: downRightShiftedConv2d },
  deconv: { downShifted: downShiftedDeconv2d, downRightShifted: downRightShiftedDeconv2d },
};

async function diff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  expect(a.shape).toEqual(b.shape);
  return maxRelDiff(await a.data(), await b.data());
}

describeBackends('maskedConv2d: padded convs equal their masked-kernel counterparts', () => {
  it('every kind, stride and direction, any kernel size, weight norm on/off (property)', async () => {
    const arb = fc.record({
      kind: fc.constantFrom<ShiftedConvKind>('downShifted', 'downRightShifted'),
      transposed: fc.boolean(),
      s: fc.constantFrom<1 | 2>(1, 2),
      kh: fc.integer({ min: 1, max: 3 }),
      kwBase: fc.integer({ min: 0, max: 2 }),
      hHalf: fc.integer({ min: 1, max: 3 }),
      wHalf: fc.integer({ min: 1, max: 3 }),
      weightNorm: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const kw = c.kind === 'downShifted' ? 2 * c.kwBase + 1 : c.kwBase + 1;
        const small = createConvParams({
          kernelSize: [c.kh, kw],
          inChannels: 2,
          outChannels: 3,
          weightNorm: c.weightNorm,
          transposed: c.transposed,
          seed: c.seed,
        });
        randomizeGB(small, c.seed + 1);
        const cp = maskedCounterpart({
          kind: c.kind,
          kernelSize: [c.kh, kw],
          strides: c.s,
          transposed: c.transposed,
        });
        const big = embedParams(small, cp);
        try {
          const x = randn([2, 2 * c.hHalf, 2 * c.wHalf, 2], c.seed + 2);
          const f = c.transposed ? shifted.deconv[c.kind] : shifted.conv[c.kind];
          const a = f(x, small, { strides: c.s });
          const b = maskedConv2d(x, big, cp.mask, { strides: c.s });
          return (await diff(a, b)) < 1e-5;
        } finally {
          disposeParams(small);
          disposeParams(big);
          cp.mask.dispose();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('the mask matters: without it the big kernel gives a different output', async () => {
    const small = createConvParams({ kernelSize: [2, 3], inChannels: 1, outChannels: 1, seed: 1 });
    const cp = maskedCounterpart({ kind: 'downShifted', kernelSize: [2, 3] });
    const big = embedParams(small, cp);
    tf.tidy(() => big.v.assign(tf.add(big.v, tf.sub(1, cp.mask)))); // garbage in the masked-out taps
    const x = randn([1, 4, 4, 1], 3);
    const masked = maskedConv2d(x, big, cp.mask);
    expect(await diff(masked, downShiftedConv2d(x, small))).toBeLessThan(1e-5);
    const ones = tf.onesLike(cp.mask) as tf.Tensor4D;
    expect(await diff(maskedConv2d(x, big, ones), masked)).toBeGreaterThan(1e-2);
    for (const p of [small, big]) disposeParams(p);
    cp.mask.dispose();
  });

  it('TFP masks (receptive field [3, 3] and [4, 5]) are the counterparts of the shifted convs', async () => {
    for (const [rows, cols] of [
      [3, 3],
      [4, 5],
    ] as const) {
      const half = Math.floor(cols / 2);
      const expected: Partial<Record<TfpLayer, Parameters<typeof maskedCounterpart>[0]>> = {
        vertical: { kind: 'downShifted', kernelSize: [rows - 1, cols] },
        horizontal: { kind: 'downRightShifted', kernelSize: [2, half + 1] },
        verticalDownsample: { kind: 'downShifted', kernelSize: [rows - 1, cols], strides: 2 },
        horizontalDownsample: { kind: 'downRightShifted', kernelSize: [2, half + 1], strides: 2 },
        verticalUpsample: { kind: 'downShifted', kernelSize: [rows - 1, cols], transposed: true },
        horizontalUpsample: {
          kind: 'downRightShifted',
          kernelSize: [2, half + 1],
          transposed: true,
        },
      };
      for (const [layer, o] of Object.entries(expected)) {
        const t = tfpMask({ receptiveField: [rows, cols], layer: layer as TfpLayer });
        const cp = maskedCounterpart(o);
        expect(t.kernelSize, layer).toEqual(cp.kernelSize);
        expect(t.offset, layer).toEqual(cp.offset);
        expect(t.strides, layer).toBe(cp.strides);
        expect(t.transposed, layer).toBe(cp.transposed);
        expect(Array.from(await t.mask.data()), layer).toEqual(Array.from(await cp.mask.data()));
        t.mask.dispose();
        cp.mask.dispose();
      }
    }
  });

  it("TFP's initial layers equal PixelCNN++'s shifted first layers (zero bias)", async () => {
    const rf: [number, number] = [3, 3];
    const x = randn([2, 4, 6, 2], 9);
    const cases: [TfpLayer, ShiftedConvKind, [number, number], (t: tf.Tensor4D) => tf.Tensor4D][] =
      [
        ['verticalInit', 'downShifted', [2, 3], (t) => downShift(t)],
        ['horizontalInitAbove', 'downShifted', [1, 3], (t) => downShift(t)],
        ['horizontalInitLeft', 'downRightShifted', [2, 1], (t) => rightShift(t)],
      ];
    for (const [layer, kind, ks, shift] of cases) {
      const small = createConvParams({ kernelSize: ks, inChannels: 2, outChannels: 3, seed: 4 });
      const t = tfpMask({ receptiveField: rf, layer });
      const big = embedParams(small, t);
      const a = shift(shifted.conv[kind](x, small));
      const b = maskedConv2d(x, big, t.mask);
      expect(await diff(a, b), layer).toBeLessThan(1e-5);
      disposeParams(small);
      disposeParams(big);
      t.mask.dispose();
    }
  });

  it('PixelCNN masks A/B = rows above (down-shifted) + current row (down-right-shifted)', async () => {
    for (const k of [3, 5]) {
      for (const type of ['A', 'B'] as const) {
        const c = (k - 1) / 2;
        const big = createConvParams({
          kernelSize: [k, k],
          inChannels: 2,
          outChannels: 3,
          weightNorm: false,
          seed: k,
        });
        randomizeGB(big, 3);
        const mask = pixelCnnMask({ kernelSize: k, type, inChannels: 2, outChannels: 3 });
        const x = randn([2, 6, 6, 2], 8);
        const masked = maskedConv2d(x, big, mask);
        // The same weights as two shifted convs: rows above the centre, and the centre row up to
        // (B) or before (A) the centre.
        const top = createConvParams({
          kernelSize: [c, k],
          inChannels: 2,
          outChannels: 3,
          weightNorm: false,
        });
        const rowW = type === 'B' ? c + 1 : c;
        const row = createConvParams({
          kernelSize: [1, rowW],
          inChannels: 2,
          outChannels: 3,
          weightNorm: false,
        });
        tf.tidy(() => {
          top.v.assign(tf.slice(big.v, [0, 0, 0, 0], [c, k, -1, -1]));
          row.v.assign(tf.slice(big.v, [c, 0, 0, 0], [1, rowW, -1, -1]));
          top.b.assign(big.b);
        });
        const above = downShiftedConv2d(downShift(x), top);
        const left =
          type === 'B'
            ? downRightShiftedConv2d(x, row)
            : downRightShiftedConv2d(rightShift(x), row);
        expect(await diff(masked, tf.add(above, left)), `k=${k} ${type}`).toBeLessThan(1e-5);
        for (const p of [big, top, row]) disposeParams(p);
        mask.dispose();
      }
    }
  });

  it('pixelCnnMask with channel groups (RGB) follows van den Oord et al.', async () => {
    for (const type of ['A', 'B'] as const) {
      const k = 3;
      const [cin, cout, groups] = [3, 6, 3];
      const m = pixelCnnMask({
        kernelSize: k,
        type,
        inChannels: cin,
        outChannels: cout,
        channelGroups: groups,
      });
      expect(m.shape).toEqual([k, k, cin, cout]);
      const d = await m.data();
      for (let r = 0; r < k; r++)
        for (let c = 0; c < k; c++)
          for (let i = 0; i < cin; i++)
            for (let j = 0; j < cout; j++) {
              const gi = i; // 3 inputs in 3 groups
              const gj = Math.floor(j / 2); // 6 outputs: two per group
              const expected =
                r < 1 || (r === 1 && c < 1)
                  ? 1
                  : r === 1 && c === 1
                    ? Number(type === 'A' ? gi < gj : gi <= gj)
                    : 0;
              expect(d[((r * k + c) * cin + i) * cout + j], `${type} ${r},${c},${i},${j}`).toBe(
                expected,
              );
            }
      m.dispose();
    }
  });

  it('TFP masks have the documented geometry for every layer', async () => {
    for (const layer of TFP_LAYERS) {
      const t = tfpMask({ receptiveField: [3, 3], layer });
      const d = await t.mask.data();
      const [kh, kw] = t.kernelSize;
      let ones = 0;
      for (let r = 0; r < kh; r++)
        for (let c = 0; c < kw; c++) {
          const inside =
            r >= t.validRows[0] && r < t.validRows[1] && c >= t.validCols[0] && c < t.validCols[1];
          expect(d[r * kw + c]).toBe(inside ? 1 : 0);
          ones += d[r * kw + c];
        }
      expect(ones).toBeGreaterThan(0);
      t.mask.dispose();
    }
    const sizes = Object.fromEntries(
      TFP_LAYERS.map((layer) => {
        const t = tfpMask({ receptiveField: [3, 3], layer });
        t.mask.dispose();
        return [layer, [t.kernelSize, t.validRows, t.validCols]];
      }),
    );
    // (rows, cols) = (3, 3), straight from TFP's pixel_cnn.py formulas
    expect(sizes).toEqual({
      verticalInit: [
        [5, 3],
        [0, 2],
        [0, 3],
      ],
      horizontalInitAbove: [
        [3, 3],
        [0, 1],
        [0, 3],
      ],
      horizontalInitLeft: [
        [3, 3],
        [0, 2],
        [0, 1],
      ],
      vertical: [
        [3, 3],
        [0, 2],
        [0, 3],
      ],
      horizontal: [
        [3, 3],
        [0, 2],
        [0, 2],
      ],
      verticalDownsample: [
        [4, 4],
        [0, 2],
        [0, 3],
      ],
      horizontalDownsample: [
        [4, 4],
        [0, 2],
        [0, 2],
      ],
      verticalUpsample: [
        [2, 4],
        [0, 2],
        [0, 3],
      ],
      horizontalUpsample: [
        [2, 2],
        [0, 2],
        [0, 2],
      ],
    });
  });
});
