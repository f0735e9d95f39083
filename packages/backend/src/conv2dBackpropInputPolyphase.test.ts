import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import {
  type ConvGeometry,
  conv2dInputGradRef,
  convLayout,
  type RefPad,
  randomValues,
  relativeError,
} from './testing/convReference';
import { describeBackends } from './testing/describeBackends';
import { setWasmConvAlgorithms, type WasmConvAlgorithms } from './wasmConvAlgorithms';

const TOL = 1e-5;

type TfPad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
const tfPad = (pad: RefPad): TfPad =>
  pad === 'same' || pad === 'valid' ? pad : [[0, 0], pad[0], pad[1], [0, 0]];

/** Conv2DBackpropInput (conv2dTranspose's forward pass) on the active backend. */
async function backpropInput(g: ConvGeometry, dyv: Float32Array, wv: Float32Array) {
  const { outH, outW } = convLayout(g);
  const dy = tf.tensor4d(dyv, [g.batch, outH, outW, g.outC]);
  const w = tf.tensor4d(wv, [g.kh, g.kw, g.inC, g.outC]);
  const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
    strides: g.stride,
    pad: tfPad(g.pad),
    dataFormat: 'NHWC',
    inputShape: [g.batch, g.inH, g.inW, g.inC],
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const out = { shape: dx.shape, values: await dx.data() };
  tf.dispose([dy, w, dx]);
  return out;
}

async function onCpu<T>(f: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return await f();
  } finally {
    await tf.setBackend(previous);
  }
}

/** Against cpu and the other formulation; with `reference`, also the float64 reference (slow). */
async function check(g: ConvGeometry, seed: number, reference = true) {
  const { outH, outW } = convLayout(g);
  const dyv = randomValues(g.batch * outH * outW * g.outC, seed);
  const wv = randomValues(g.kh * g.kw * g.inC * g.outC, seed + 1);
  setWasmConvAlgorithms({ backpropInput: 'polyphase' });
  const poly = await backpropInput(g, dyv, wv);
  setWasmConvAlgorithms({ backpropInput: 'zero-insertion' });
  const zeros = await backpropInput(g, dyv, wv);
  const cpu = await onCpu(() => backpropInput(g, dyv, wv));
  expect(poly.shape).toEqual([g.batch, g.inH, g.inW, g.inC]);
  expect(relativeError(poly.values, cpu.values)).toBeLessThanOrEqual(TOL);
  if (reference)
    expect(relativeError(poly.values, conv2dInputGradRef(g, dyv, wv))).toBeLessThanOrEqual(TOL);
  expect(relativeError(poly.values, zeros.values)).toBeLessThanOrEqual(TOL);
}

const geometry = (
  batch: number,
  inH: number,
  inW: number,
  ch: number,
  [kh, kw]: [number, number],
  pad: RefPad = 'valid',
  stride: [number, number] = [2, 2],
): ConvGeometry => ({
  batch,
  inH,
  inW,
  inC: ch,
  outC: ch,
  kh,
  kw,
  stride,
  dilation: [1, 1],
  pad,
});

/**
 * Every stride-2 Conv2DBackpropInput of the networks (28x28 images, receptive field [3, 3]):
 * the up pass's down(-right)-shifted deconvs from h x w to the VALID size [2h + kh - 1,
 * 2w + kw - 1] (kernels [2, 3] and [2, 2]), which are also the input gradients of the down
 * pass's stride-2 convs over the padded [H + kh - 1, W + kw - 1]; at 14x14 (both networks) and
 * 7x7 (TFP's third hierarchy), at the demo's 32 and TFP's 160 filters.
 */
const NETWORK_CASES: [string, ConvGeometry][] = [];
for (const [h, ch, batch] of [
  [14, 32, 2],
  [7, 32, 2],
  [14, 160, 1],
  [7, 160, 1],
] as const) {
  for (const k of [
    [2, 3],
    [2, 2],
  ] as [number, number][]) {
    NETWORK_CASES.push([
      `${h}x${h}x${ch} k${k.join('x')} (batch ${batch})`,
      geometry(batch, 2 * h + k[0] - 1, 2 * h + k[1] - 1, ch, k),
    ]);
  }
}

describeBackends(
  'Conv2DBackpropInput polyphase (wasm) against cpu, a float64 reference and zero insertion',
  () => {
    let previous: WasmConvAlgorithms | undefined;
    afterEach(() => {
      if (previous) setWasmConvAlgorithms(previous);
    });
    const remember = () => {
      previous ??= setWasmConvAlgorithms({});
    };

    for (const [name, g] of NETWORK_CASES) {
      it(`network shape ${name}`, async () => {
        remember();
        await check(g, 7, false); // cpu is the reference here: float64 JS is slow at these sizes
      });
    }

    it('same and explicit pads, kernel 1 at stride 2 (a zero phase), strides 1 and 3, mixed strides', async () => {
      remember();
      await check(geometry(2, 8, 9, 3, [3, 3], 'same'), 11);
      await check(geometry(2, 7, 7, 2, [4, 3], 'same'), 12);
      await check(geometry(1, 7, 8, 3, [1, 1]), 13);
      await check(geometry(2, 9, 10, 2, [3, 2], 'valid', [3, 3]), 14);
      await check(geometry(1, 9, 7, 3, [3, 3], 'same', [2, 1]), 15);
      await check(geometry(2, 8, 9, 3, [2, 3], 'valid', [1, 1]), 17); // stride 1: no interleave
      await check(geometry(1, 6, 7, 70, [2, 2], 'same', [1, 1]), 18);
      await check(
        geometry(
          1,
          8,
          8,
          2,
          [3, 3],
          [
            [2, 1],
            [0, 3],
          ],
        ),
        16,
      );
    });

    it('random geometries (property)', async () => {
      remember();
      const arb = fc
        .record({
          batch: fc.integer({ min: 1, max: 2 }),
          inH: fc.integer({ min: 2, max: 9 }),
          inW: fc.integer({ min: 2, max: 9 }),
          inC: fc.integer({ min: 1, max: 4 }),
          outC: fc.integer({ min: 1, max: 4 }),
          kh: fc.integer({ min: 1, max: 4 }),
          kw: fc.integer({ min: 1, max: 4 }),
          sh: fc.integer({ min: 1, max: 3 }),
          sw: fc.integer({ min: 1, max: 3 }),
          pad: fc.oneof(
            fc.constant<RefPad>('same'),
            fc.constant<RefPad>('valid'),
            fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)).map(
              ([a, b, c, d]): RefPad => [
                [a, b],
                [c, d],
              ],
            ),
          ),
          seed: fc.nat(),
        })
        .map(({ sh, sw, ...g }): ConvGeometry & { seed: number } => ({
          ...g,
          stride: [sh, sw],
          dilation: [1, 1],
        }))
        .filter((g) => {
          const { outH, outW } = convLayout(g);
          return outH >= 1 && outW >= 1;
        });
      await fc.assert(
        fc.asyncProperty(arb, (g) => check(g, g.seed)),
        { numRuns: 40, seed: 20261204 },
      );
    });
  },
  { only: ['wasm'] },
);
