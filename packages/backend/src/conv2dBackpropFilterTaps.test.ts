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
 * The per-tap matmuls against the dilated-conv formulation, and (unless `cpu` is false) the cpu
 * backend and (with `reference`) a float64 reference. tfjs's cpu weight gradient takes seconds at the
 * networks' channel counts, so those are checked against the other wasm formulation (itself
 * checked against cpu in wasmKernels.test.ts) and, at fewer channels, against cpu.
 */
async function check(g: ConvGeometry, seed: number, { cpu = true, reference = true } = {}) {
  const { outH, outW } = convLayout(g);
  const xv = randomValues(g.batch * g.inH * g.inW * g.inC, seed);
  const dyv = randomValues(g.batch * outH * outW * g.outC, seed + 1);
  setWasmConvAlgorithms({ backpropFilter: 'taps' });
  const taps = await backpropFilter(g, xv, dyv);
  setWasmConvAlgorithms({ backpropFilter: 'conv' });
  const conv = await backpropFilter(g, xv, dyv);
  expect(taps.shape).toEqual([g.kh, g.kw, g.inC, g.outC]);
  expect(relativeError(taps.values, conv.values)).toBeLessThanOrEqual(TOL);
  if (cpu) {
    const onCpuValues = await onCpu(() => backpropFilter(g, xv, dyv));
    expect(relativeError(taps.values, onCpuValues.values)).toBeLessThanOrEqual(TOL);
  }
  if (reference)
    expect(relativeError(taps.values, conv2dFilterGradRef(g, xv, dyv))).toBeLessThanOrEqual(TOL);
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
 * Every conv weight gradient of the networks (28x28 images, receptive field [3, 3]): the
 * gated-resnet convs (concat_elu doubles the channels: 2F -> F and 2F -> 2F) down-shifted [2, 3]
 * (padding rows [kh - 1, 0], columns [1, 1]) and down-right-shifted [2, 2] (rows [1, 0], columns
 * [1, 0]) at every resolution, the stride-2 downsampling convs F -> F, the deconvs' (x = the
 * upstream gradient [2h, 2w], dy = the deconv's input h x w, stride 2, the crop as padding rows
 * [0, kh - 1] and columns [1, 1] or [0, kw - 1]) and the first layer's [2, 3], [1, 3] and [2, 1]
 * convs of the image (+ a constant channel); each as the explicitly padded conv the layers run
 * and as the VALID conv of a padded input. Demo: F = 32 at batch 2; TFP: F = 160 at batch 1 (and
 * 4: its micro-batches). Each geometry also runs at F = 4 against cpu.
 */
const NETWORK_CASES: [string, ConvGeometry][] = [];
const padded = (n: number, [kh, kw]: [number, number]): [number, number] => [
  n + kh - 1,
  n + kw - 1,
];
/** The shifted convs' padding: rows [kh - 1, 0]; columns centred ([1, 1]) for kw = 3, else left. */
const shiftPad = ([kh, kw]: [number, number]): RefPad => [
  [kh - 1, 0],
  kw === 3 ? [1, 1] : [kw - 1, 0],
];
/** The deconvs' crop as padding: rows [0, kh - 1]; columns [1, 1] for kw = 3, else [0, kw - 1]. */
const cropPad = ([kh, kw]: [number, number]): RefPad => [
  [0, kh - 1],
  kw === 3 ? [1, 1] : [0, kw - 1],
];
for (const [n, f, batch] of [
  [28, 32, 2],
  [14, 32, 2],
  [28, 160, 1],
  [14, 160, 1],
  [7, 160, 1],
  [28, 160, 4],
] as const) {
  for (const k of [
    [2, 3],
    [2, 2],
  ] as [number, number][]) {
    const at = `${n}x${n} k${k.join('x')} F${f} batch ${batch}`;
    const sq: [number, number] = [n, n];
    NETWORK_CASES.push([`resnet conv1 ${at}`, geometry(batch, sq, 2 * f, f, k, 1, shiftPad(k))]);
    NETWORK_CASES.push([
      `resnet conv2 ${at}`,
      geometry(batch, sq, 2 * f, 2 * f, k, 1, shiftPad(k)),
    ]);
    NETWORK_CASES.push([
      `resnet conv2 ${at}, VALID`,
      geometry(batch, padded(n, k), 2 * f, 2 * f, k),
    ]);
    if (n > 7) {
      // stride-2 down pass conv n -> n/2, and the deconv n/2 -> n (its filter's gradient)
      NETWORK_CASES.push([`downsample ${at}`, geometry(batch, sq, f, f, k, 2, shiftPad(k))]);
      NETWORK_CASES.push([`downsample ${at}, VALID`, geometry(batch, padded(n, k), f, f, k, 2)]);
      NETWORK_CASES.push([`deconv ${at}`, geometry(batch, sq, f, f, k, 2, cropPad(k))]);
      NETWORK_CASES.push([
        `deconv ${at}, VALID`,
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
  NETWORK_CASES.push([
    `first layer k${k.join('x')}`,
    geometry(2, [28, 28], 2, 32, k, 1, shiftPad(k)),
  ]);
}

describeBackends(
  'Conv2DBackpropFilter per-tap matmuls (wasm) against cpu, a float64 reference and the dilated conv',
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

    it("the demo's batch of 32 (the views span images: a shifted read wraps into the next one)", async () => {
      remember();
      await check(geometry(32, [28, 28], 64, 32, [2, 3], 1, shiftPad([2, 3])), 31, {
        cpu: false,
        reference: false,
      });
      await check(geometry(32, [14, 14], 4, 3, [2, 2], 2, shiftPad([2, 2])), 32, {
        reference: false,
      });
      await check(geometry(32, [8, 8], 3, 4, [2, 3], 1, shiftPad([2, 3])), 33);
    });

    it('same and explicit pads (taps reading the padding on every side)', async () => {
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
