import '@tensorflow/tfjs-backend-cpu';
import { expect, it } from 'vitest';
import {
  checkRandomGeometries,
  onCpu,
  restoresWasmConvAlgorithms,
  runConvGradient,
} from '../test/convKernels';
import {
  type ConvGeometry,
  conv2dInputGradRef,
  convLayout,
  type RefPad,
  randomValues,
  relativeError,
} from './testing/convReference';
import { describeBackends } from './testing/describeBackends';
import { setWasmConvAlgorithms } from './wasmConvAlgorithms';

const TOL = 1e-5;

/** Conv2DBackpropInput (conv2dTranspose's forward pass) on the active backend. */
const backpropInput = (g: ConvGeometry, dy: Float32Array, filter: Float32Array) =>
  runConvGradient('Conv2DBackpropInput', g, { dy, filter });

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
    const remember = restoresWasmConvAlgorithms();

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
      const max = { batch: 2, side: 9, inC: 4, outC: 4, kernel: 4, stride: 3, pad: 3 };
      await checkRandomGeometries(max, check);
    });
  },
  { only: ['wasm'] },
);
