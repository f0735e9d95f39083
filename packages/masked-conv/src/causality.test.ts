import { describeBackends, gradientPattern } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  convDeps,
  type DepMap,
  deconvDeps,
  identityDeps,
  type Kind,
  shiftDeps,
  unionDeps,
} from '../test/reference';
import {
  type ConvParams,
  createConvParams,
  disposeParams,
  downRightShiftedConv2d,
  downRightShiftedDeconv2d,
  downShift,
  downShiftedConv2d,
  downShiftedDeconv2d,
  rightShift,
} from './index';

// A PixelCNN++-like pair of stacks built only from this package's layers: the vertical stack
// u = downShift(downShiftedConv(x)), then `depth` residual down-shifted layers; the horizontal
// stack ul = downShift(downShiftedConv [1,3](x)) + rightShift(downRightShiftedConv [2,1](x)),
// then residual down-right-shifted layers that also add u; optionally a stride-2 down/up round
// trip in each stack. The expected dependency sets come from the index formulas (reference.ts).
const C = 2;
const F = 3;

interface Net {
  params: ConvParams[];
  run: (x: tf.Tensor4D) => { u: tf.Tensor4D; ul: tf.Tensor4D };
  deps: (h: number, w: number) => { u: DepMap; ul: DepMap };
}

function makeNet(depth: number, roundTrip: boolean, seed: number): Net {
  const params: ConvParams[] = [];
  const mk = (ks: [number, number], cin: number, transposed = false) => {
    const p = createConvParams({
      kernelSize: ks,
      inChannels: cin,
      outChannels: F,
      transposed,
      seed: seed + params.length,
    });
    params.push(p);
    return p;
  };
  const u0 = mk([2, 3], C);
  const ulTop = mk([1, 3], C);
  const ulLeft = mk([2, 1], C);
  const layers = Array.from({ length: depth }, () => ({ v: mk([2, 3], F), h: mk([2, 2], F) }));
  const trip = roundTrip
    ? { vd: mk([2, 3], F), vu: mk([2, 3], F, true), hd: mk([2, 2], F), hu: mk([2, 2], F, true) }
    : undefined;

  const run = (x: tf.Tensor4D) => {
    let u = downShift(downShiftedConv2d(x, u0));
    let ul = tf.add(
      downShift(downShiftedConv2d(x, ulTop)),
      rightShift(downRightShiftedConv2d(x, ulLeft)),
    ) as tf.Tensor4D;
    for (const l of layers) {
      u = tf.add(u, tf.tanh(downShiftedConv2d(tf.elu(u), l.v))) as tf.Tensor4D;
      ul = tf.add(ul, tf.tanh(tf.add(downRightShiftedConv2d(tf.elu(ul), l.h), u))) as tf.Tensor4D;
    }
    if (trip) {
      const ud = downShiftedConv2d(u, trip.vd, { strides: 2 });
      const uld = tf.add(downRightShiftedConv2d(ul, trip.hd, { strides: 2 }), ud) as tf.Tensor4D;
      u = tf.add(u, downShiftedDeconv2d(tf.elu(ud), trip.vu)) as tf.Tensor4D;
      ul = tf.add(ul, tf.add(downRightShiftedDeconv2d(tf.elu(uld), trip.hu), u)) as tf.Tensor4D;
    }
    return { u, ul };
  };

  const deps = (h: number, w: number) => {
    const x = identityDeps(h, w);
    const c = (d: DepMap, k: Kind, ks: [number, number], s: 1 | 2 = 1) => convDeps(d, k, ks, s);
    let u = shiftDeps(c(x, 'downShifted', [2, 3]), 1, 0);
    let ul = unionDeps(
      shiftDeps(c(x, 'downShifted', [1, 3]), 1, 0),
      shiftDeps(c(x, 'downRightShifted', [2, 1]), 0, 1),
    );
    for (let i = 0; i < depth; i++) {
      u = unionDeps(u, c(u, 'downShifted', [2, 3]));
      ul = unionDeps(ul, unionDeps(c(ul, 'downRightShifted', [2, 2]), u));
    }
    if (roundTrip) {
      const ud = c(u, 'downShifted', [2, 3], 2);
      const uld = unionDeps(c(ul, 'downRightShifted', [2, 2], 2), ud);
      u = unionDeps(u, deconvDeps(ud, 'downShifted', [2, 3], 2));
      ul = unionDeps(ul, unionDeps(deconvDeps(uld, 'downRightShifted', [2, 2], 2), u));
    }
    return { u, ul };
  };
  return { params, run, deps };
}

const arb = fc.record({
  hHalf: fc.integer({ min: 1, max: 3 }),
  wHalf: fc.integer({ min: 1, max: 3 }),
  depth: fc.integer({ min: 1, max: 3 }),
  roundTrip: fc.boolean(),
  r: fc.nat(),
  c: fc.nat(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describeBackends('causality of stacked shifted convs (gradients w.r.t. the input)', () => {
  const laws = [
    {
      stream: 'u',
      title:
        'vertical stack: zero gradient at rows >= r, non-zero exactly on the expected earlier set (property)',
      // the law: rows >= r are never seen, whatever the reference says
      future: (i: number, w: number, r: number) => Math.floor(i / w) >= r,
    },
    {
      stream: 'ul',
      title:
        'horizontal stack: zero gradient at and after (r, c) in raster order, non-zero on the expected set (property)',
      future: (i: number, w: number, r: number, c: number) => i >= r * w + c,
    },
  ] as const;
  for (const { stream, title, future } of laws) {
    it(title, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (a) => {
          const [h, w] = [2 * a.hHalf, 2 * a.wHalf];
          const [r, c] = [a.r % h, a.c % w];
          const net = makeNet(a.depth, a.roundTrip, a.seed);
          try {
            const x = tf.randomNormal([2, h, w, C], 0, 1, 'float32', a.seed) as tf.Tensor4D;
            const { img0, img1Max } = await gradientPattern((xx) => net.run(xx)[stream], x, r, c);
            const expected = net.deps(h, w)[stream].sets[r * w + c];
            for (let i = 0; i < h * w; i++) {
              if (future(i, w, r, c)) expect(img0[i]).toBe(0);
              expect(img0[i] > 0, `pixel ${i} of ${h}x${w} from (${r},${c})`).toBe(
                expected[i] === 1,
              );
            }
            expect(img1Max).toBe(0); // no dependence across the batch
            x.dispose();
          } finally {
            for (const p of net.params) disposeParams(p);
          }
        }),
        { numRuns: 15 },
      );
    });
  }

  it('no blind spot: with enough layers every earlier pixel reaches the horizontal stack', async () => {
    const [h, w] = [4, 4];
    const net = makeNet(2, false, 7);
    const x = tf.randomNormal([2, h, w, C], 0, 1, 'float32', 1) as tf.Tensor4D;
    for (const [r, c] of [
      [3, 3],
      [3, 0],
      [2, 1],
      [0, 3],
    ]) {
      const { img0 } = await gradientPattern((xx) => net.run(xx).ul, x, r, c);
      for (let i = 0; i < h * w; i++)
        expect(img0[i] > 0, `(${r},${c}) <- ${i}`).toBe(i < r * w + c);
    }
    for (const p of net.params) disposeParams(p);
  });
});
