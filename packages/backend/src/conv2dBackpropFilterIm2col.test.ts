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
  conv2dFilterGradRef,
  convLayout,
  type RefPad,
  randomValues,
  relativeError,
} from './testing/convReference';
import { describeBackends } from './testing/describeBackends';
import { setWasmConvAlgorithms } from './wasmConvAlgorithms';

const TOL = 1e-5;

/** Conv2DBackpropFilter on the active backend. */
const backpropFilter = (g: ConvGeometry, x: Float32Array, dy: Float32Array) =>
  runConvGradient('Conv2DBackpropFilter', g, { x, dy });

/**
 * im2col against the dilated-conv formulation, and (unless `cpu` is false) the cpu backend and
 * (with `reference`) a float64 reference. tfjs's cpu weight gradient takes seconds at the
 * networks' channel counts, so those are checked against the other wasm formulation (itself
 * checked against cpu in wasmKernels.test.ts) and, at fewer channels, against cpu.
 */
async function check(g: ConvGeometry, seed: number, { cpu = true, reference = true } = {}) {
  const { outH, outW } = convLayout(g);
  const xv = randomValues(g.batch * g.inH * g.inW * g.inC, seed);
  const dyv = randomValues(g.batch * outH * outW * g.outC, seed + 1);
  setWasmConvAlgorithms({ backpropFilter: 'im2col' });
  const im2col = await backpropFilter(g, xv, dyv);
  setWasmConvAlgorithms({ backpropFilter: 'conv' });
  const conv = await backpropFilter(g, xv, dyv);
  expect(im2col.shape).toEqual([g.kh, g.kw, g.inC, g.outC]);
  expect(relativeError(im2col.values, conv.values)).toBeLessThanOrEqual(TOL);
  if (cpu) {
    const onCpuValues = await onCpu(() => backpropFilter(g, xv, dyv));
    expect(relativeError(im2col.values, onCpuValues.values)).toBeLessThanOrEqual(TOL);
  }
  if (reference)
    expect(relativeError(im2col.values, conv2dFilterGradRef(g, xv, dyv))).toBeLessThanOrEqual(TOL);
}

const geometry = (
  batch: number,
  [inH, inW]: [number, number],
  inC: number,
  outC: number,
  [kh, kw]: [number, number],
  stride: 1 | 2 = 1,
  pad: RefPad = 'valid',
): ConvGeometry => ({
  batch,
  inH,
  inW,
  inC,
  outC,
  kh,
  kw,
  stride: [stride, stride],
  dilation: [1, 1],
  pad,
});

/**
 * Every conv weight gradient of the networks (28x28 images, receptive field [3, 3]; the layers
 * pad explicitly and convolve VALID): the gated-resnet convs (concat_elu doubles the channels:
 * 2F -> F and 2F -> 2F) down-shifted [2, 3] and down-right-shifted [2, 2] at every resolution,
 * the stride-2 downsampling convs F -> F, the deconvs' (x = the upstream gradient
 * [2h + kh - 1, 2w + kw - 1], dy = the deconv's input h x w, stride 2) and the first layer's
 * [2, 3], [1, 3] and [2, 1] convs of the image (+ a constant channel). Demo: F = 32 at batch 2;
 * TFP: F = 160 at batch 1 (its micro-batch). Each geometry also runs at F = 4 against cpu.
 */
const NETWORK_CASES: [string, ConvGeometry][] = [];
const padded = (n: number, [kh, kw]: [number, number]): [number, number] => [
  n + kh - 1,
  n + kw - 1,
];
for (const [n, f, batch] of [
  [28, 32, 2],
  [14, 32, 2],
  [28, 160, 1],
  [14, 160, 1],
  [7, 160, 1],
] as const) {
  for (const k of [
    [2, 3],
    [2, 2],
  ] as [number, number][]) {
    const at = `${n}x${n} k${k.join('x')} F${f}`;
    NETWORK_CASES.push([`resnet conv1 ${at}`, geometry(batch, padded(n, k), 2 * f, f, k)]);
    NETWORK_CASES.push([`resnet conv2 ${at}`, geometry(batch, padded(n, k), 2 * f, 2 * f, k)]);
    if (n > 7) {
      // stride-2 down pass conv n -> n/2, and the deconv n/2 -> n (its filter's gradient)
      NETWORK_CASES.push([`downsample ${at}`, geometry(batch, padded(n, k), f, f, k, 2)]);
      NETWORK_CASES.push([
        `deconv ${at}`,
        geometry(batch, [n + k[0] - 1, n + k[1] - 1], f, f, k, 2),
      ]);
    }
  }
}
for (const k of [
  [2, 3],
  [1, 3],
  [2, 1],
] as [number, number][]) {
  NETWORK_CASES.push([`first layer k${k.join('x')}`, geometry(2, padded(28, k), 2, 32, k)]);
}

describeBackends(
  'Conv2DBackpropFilter im2col (wasm) against cpu, a float64 reference and the dilated conv',
  () => {
    const remember = restoresWasmConvAlgorithms();

    for (const [name, g] of NETWORK_CASES) {
      it(`network shape ${name}`, async () => {
        remember();
        await check(g, 3, { cpu: false, reference: false });
        const few = { ...g, inC: g.inC === 2 ? 2 : (4 * g.inC) / g.outC, outC: 4 };
        await check(few, 4, { reference: false });
      });
    }

    it('same and explicit pads (patches reading the padding on every side)', async () => {
      remember();
      await check(geometry(2, [7, 8], 3, 2, [3, 3], 1, 'same'), 21);
      await check(geometry(2, [8, 7], 2, 3, [4, 3], 2, 'same'), 22);
      await check(
        geometry(1, [6, 6], 2, 2, [3, 3], 2, [
          [2, 1],
          [0, 3],
        ]),
        23,
      );
      await check(geometry(1, [5, 5], 70, 3, [2, 2], 1, 'same'), 24); // long rows (set)
    });

    it('random geometries (property)', async () => {
      remember();
      const max = { batch: 3, side: 8, inC: 5, outC: 4, kernel: 4, stride: 3, pad: 3 };
      await checkRandomGeometries(max, check);
    });
  },
  { only: ['wasm'] },
);
