import { describeBackends, gradientPattern } from '@pixelcnn/backend/testing';
import {
  type ConvParams,
  createConvParams,
  disposeParams,
  downRightShiftedConv2d,
  downShift,
  downShiftedConv2d,
  rightShift,
} from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  type Deps,
  downRightShiftedTaps,
  downShiftedTaps,
  gather,
  identityDeps,
  union,
} from '../test/reference';
import {
  ACTIVATIONS,
  type Activation,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnet,
} from './index';

// PixelCNN++ (model.py) at one resolution:
//   u  = downShift(downShiftedConv(x, [2, 3]))
//   ul = downShift(downShiftedConv(x, [1, 3])) + rightShift(downRightShiftedConv(x, [2, 1]))
//   repeat: u = gatedResnet(u, conv = downShiftedConv [2, 3])
//           ul = gatedResnet(ul, conv = downRightShiftedConv [2, 2], skip = u)
// with a conditioning vector h in every block (it must not break causality).
const C = 2;
const F = 3;
const UNITS = 2;

interface Net {
  run: (x: tf.Tensor4D) => { u: tf.Tensor4D; ul: tf.Tensor4D };
  deps: (h: number, w: number) => { u: Deps; ul: Deps };
  dispose: () => void;
}

function makeNet(depth: number, activation: Activation, seed: number): Net {
  const convs: ConvParams[] = [];
  const mk = (ks: [number, number]) => {
    const p = createConvParams({
      kernelSize: ks,
      inChannels: C,
      outChannels: F,
      seed: seed + convs.length,
    });
    convs.push(p);
    return p;
  };
  const [pu, pTop, pLeft] = [mk([2, 3]), mk([1, 3]), mk([2, 1])];
  const blocks: { v: GatedResnetParams; h: GatedResnetParams }[] = [];
  for (let i = 0; i < depth; i++) {
    const common = { channels: F, activation, conditionalUnits: UNITS };
    blocks.push({
      v: createGatedResnetParams({ ...common, kernelSize: [2, 3], seed: seed + 100 + 10 * i }),
      h: createGatedResnetParams({
        ...common,
        kernelSize: [2, 2],
        skipChannels: F,
        seed: seed + 105 + 10 * i,
      }),
    });
  }
  const cond = tf.randomNormal([2, UNITS], 0, 1, 'float32', seed) as tf.Tensor2D;

  const run = (x: tf.Tensor4D) => {
    let u = downShift(downShiftedConv2d(x, pu));
    let ul = tf.add(
      downShift(downShiftedConv2d(x, pTop)),
      rightShift(downRightShiftedConv2d(x, pLeft)),
    ) as tf.Tensor4D;
    for (const b of blocks) {
      u = gatedResnet(u, b.v, { conv: downShiftedConv2d, h: cond });
      ul = gatedResnet(ul, b.h, { conv: downRightShiftedConv2d, skip: u, h: cond });
    }
    return { u, ul };
  };

  const deps = (h: number, w: number) => {
    const x = identityDeps(h, w);
    const shift = (d: Deps, dr: number, dc: number) => gather(d, h, w, [[-dr, -dc]]);
    const vConv = (d: Deps, kh: number, kw: number) => gather(d, h, w, downShiftedTaps(kh, kw));
    const hConv = (d: Deps, kh: number, kw: number) =>
      gather(d, h, w, downRightShiftedTaps(kh, kw));
    let u = shift(vConv(x, 2, 3), 1, 0);
    let ul = union(shift(vConv(x, 1, 3), 1, 0), shift(hConv(x, 2, 1), 0, 1));
    for (let i = 0; i < depth; i++) {
      // out = x + gate(conv(act(conv(act(x)) [+ skip])))
      u = union(u, vConv(vConv(u, 2, 3), 2, 3));
      ul = union(ul, hConv(union(hConv(ul, 2, 2), u), 2, 2));
    }
    return { u, ul };
  };

  const dispose = () => {
    for (const p of convs) disposeParams(p);
    for (const b of blocks) {
      disposeGatedResnetParams(b.v);
      disposeGatedResnetParams(b.h);
    }
    cond.dispose();
  };
  return { run, deps, dispose };
}

const arb = fc.record({
  h: fc.integer({ min: 1, max: 6 }),
  w: fc.integer({ min: 1, max: 6 }),
  depth: fc.integer({ min: 1, max: 3 }),
  activation: fc.constantFrom(...ACTIVATIONS),
  r: fc.nat(),
  c: fc.nat(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describeBackends('causality of gated resnet stacks (PixelCNN++ vertical + horizontal)', () => {
  for (const stream of ['u', 'ul'] as const) {
    const law =
      stream === 'u'
        ? 'vertical stack u: zero gradient for rows >= r'
        : 'horizontal stack ul: zero gradient at and after (r, c) in raster order';
    it(`${law}; non-zero exactly on the expected earlier set; no dependence across the batch (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (a) => {
          const [r, c] = [a.r % a.h, a.c % a.w];
          const net = makeNet(a.depth, a.activation, a.seed);
          try {
            const x = tf.randomNormal([2, a.h, a.w, C], 0, 1, 'float32', a.seed + 1) as tf.Tensor4D;
            const { img0, img1Max } = await gradientPattern((xx) => net.run(xx)[stream], x, r, c);
            const expected = net.deps(a.h, a.w)[stream][r * a.w + c];
            for (let i = 0; i < a.h * a.w; i++) {
              const future = stream === 'u' ? Math.floor(i / a.w) >= r : i >= r * a.w + c;
              if (future) expect(img0[i], `future pixel ${i}`).toBe(0);
              const where = `pixel ${i} of ${a.h}x${a.w} from (${r},${c}), ${a.activation}`;
              // elu and concat_elu have positive derivatives: every expected path shows up. A relu
              // unit can be off on this input, so for relu only "non-zero => expected" holds.
              if (a.activation === 'relu')
                expect(img0[i] === 0 || expected[i] === 1, where).toBe(true);
              else expect(img0[i] > 0, where).toBe(expected[i] === 1);
            }
            expect(img1Max).toBe(0);
            x.dispose();
          } finally {
            net.dispose();
          }
        }),
        { numRuns: 12 },
      );
    });
  }

  it('no blind spot: with 2 blocks on 5x5, ul at (r, c) depends on every earlier pixel', async () => {
    const [h, w] = [5, 5];
    const net = makeNet(2, 'concat_elu', 3);
    const x = tf.randomNormal([2, h, w, C], 0, 1, 'float32', 4) as tf.Tensor4D;
    for (const [r, c] of [
      [4, 4],
      [4, 0],
      [2, 3],
      [1, 0],
      [0, 4],
    ]) {
      const { img0 } = await gradientPattern((xx) => net.run(xx).ul, x, r, c);
      for (let i = 0; i < h * w; i++)
        expect(img0[i] > 0, `(${r},${c}) <- ${i}`).toBe(i < r * w + c);
      const expected = net.deps(h, w).ul[r * w + c];
      for (let i = 0; i < h * w; i++) expect(expected[i]).toBe(i < r * w + c ? 1 : 0);
    }
    x.dispose();
    net.dispose();
  });
});
