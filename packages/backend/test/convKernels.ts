// What the conv-gradient kernel tests share: running a kernel on the active backend and on cpu,
// tfjs's pad for a reference geometry, random geometries, and restoring the wasm algorithms.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach } from 'vitest';
import { type ConvGeometry, convLayout, type RefPad } from '../src/testing/convReference';
import { setWasmConvAlgorithms, type WasmConvAlgorithms } from '../src/wasmConvAlgorithms';

/** The pad argument of tfjs's conv ops and kernels. */
export type TfPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** tfjs's pad for a reference geometry's (explicit pads gain the batch and channel axes). */
export const tfPad = (pad: RefPad): TfPad =>
  pad === 'same' || pad === 'valid' ? pad : [[0, 0], pad[0], pad[1], [0, 0]];

/** Run `f` with the cpu backend active, then switch back. */
export async function onCpu<T>(f: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return await f();
  } finally {
    await tf.setBackend(previous);
  }
}

/**
 * One of conv2d's gradient kernels on the active backend, for geometry `g` (NHWC):
 * `Conv2DBackpropFilter` of x `[B, H, W, inC]` and dy `[B, outH, outW, outC]`, or
 * `Conv2DBackpropInput` (conv2dTranspose's forward pass) of dy and the filter `[kh, kw, inC, outC]`.
 */
export async function runConvGradient(
  kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput',
  g: ConvGeometry,
  values: { x: Float32Array; dy: Float32Array } | { dy: Float32Array; filter: Float32Array },
): Promise<{ shape: number[]; values: Float32Array }> {
  const { outH, outW } = convLayout(g);
  const dy = tf.tensor4d(values.dy, [g.batch, outH, outW, g.outC]);
  const other: tf.NamedTensorMap =
    'x' in values
      ? { x: tf.tensor4d(values.x, [g.batch, g.inH, g.inW, g.inC]) }
      : { filter: tf.tensor4d(values.filter, [g.kh, g.kw, g.inC, g.outC]) };
  const shapeAttr =
    kernel === 'Conv2DBackpropFilter'
      ? { filterShape: [g.kh, g.kw, g.inC, g.outC] }
      : { inputShape: [g.batch, g.inH, g.inW, g.inC] };
  const result = tf.engine().runKernel(kernel, { dy, ...other }, {
    strides: g.stride,
    pad: tfPad(g.pad),
    dataFormat: 'NHWC',
    ...shapeAttr,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const out = { shape: result.shape, values: (await result.data()) as Float32Array };
  tf.dispose([dy, ...Object.values(other), result]);
  return out;
}

/**
 * Random conv geometries (fast-check) with a seed: every size, channel count, kernel side and
 * stride from 1 (sides from 2) to the given bounds, 'same', 'valid' or explicit pads up to
 * `pad`, and at least one output pixel.
 */
export function randomGeometries(max: {
  batch: number;
  side: number;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  pad: number;
}): fc.Arbitrary<ConvGeometry & { seed: number }> {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: max.batch }),
      inH: fc.integer({ min: 2, max: max.side }),
      inW: fc.integer({ min: 2, max: max.side }),
      inC: fc.integer({ min: 1, max: max.inC }),
      outC: fc.integer({ min: 1, max: max.outC }),
      kh: fc.integer({ min: 1, max: max.kernel }),
      kw: fc.integer({ min: 1, max: max.kernel }),
      sh: fc.integer({ min: 1, max: max.stride }),
      sw: fc.integer({ min: 1, max: max.stride }),
      pad: randomPad(max.pad),
      seed: fc.nat(),
    })
    .map(({ sh, sw, ...g }): ConvGeometry & { seed: number } => ({
      ...g,
      stride: [sh, sw],
      dilation: [1, 1],
    }))
    .filter(hasOutput);
}

/** `check(g, seed)` on 40 {@link randomGeometries} (a fixed seed: the same cases every run). */
export async function checkRandomGeometries(
  max: Parameters<typeof randomGeometries>[0],
  check: (g: ConvGeometry, seed: number) => Promise<void>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(randomGeometries(max), (g) => check(g, g.seed)),
    { numRuns: 40, seed: 20261204 },
  );
}

/** 'same', 'valid', or explicit [[top, bottom], [left, right]] pads up to `max`. */
export const randomPad = (max: number): fc.Arbitrary<RefPad> =>
  fc.oneof(
    fc.constant<RefPad>('same'),
    fc.constant<RefPad>('valid'),
    fc.tuple(fc.nat(max), fc.nat(max), fc.nat(max), fc.nat(max)).map(
      ([a, b, c, d]): RefPad => [
        [a, b],
        [c, d],
      ],
    ),
  );

/** Whether a geometry has at least one output pixel. */
export function hasOutput(g: ConvGeometry): boolean {
  const { outH, outW } = convLayout(g);
  return outH >= 1 && outW >= 1;
}

/**
 * In a describe block: the returned function, called before a test changes the wasm conv
 * algorithms, has them restored after that test.
 */
export function restoresWasmConvAlgorithms(): () => void {
  let previous: WasmConvAlgorithms | undefined;
  afterEach(() => {
    if (previous) setWasmConvAlgorithms(previous);
  });
  return () => {
    previous ??= setWasmConvAlgorithms({});
  };
}
