import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeBackends } from './testing/describeBackends';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Sum of x over `axes` by index arithmetic, in float64: out in the order of the kept axes. */
function sumRef(x: number[], shape: number[], axes: number[]): number[] {
  const kept = shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const out = new Array(prod(kept.map((a) => shape[a]))).fill(0);
  const strides = shape.map((_, a) => prod(shape.slice(a + 1)));
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (const a of kept) o = o * shape[a] + (Math.floor(i / strides[a]) % shape[a]);
    out[o] += x[i];
  }
  return out;
}

/** |a - b| relative to the sum of magnitudes the result came from (float32 summation). */
function expectSums(actual: ArrayLike<number>, expected: number[], magnitude: number[]) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-6 * magnitude[i] + 1e-30);
}

describeBackends('Sum (wasm: leading axes as column sums in JS)', () => {
  it('sums any shape over any axes, with and without keepDims, like index arithmetic in float64 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              fc.subarray(shape.map((_, i) => i)),
              fc.boolean(),
              fc.constantFrom<'float32' | 'int32'>('float32', 'float32', 'int32'),
            ),
          ),
        async ([shape, axes, keepDims, dtype]) => {
          const x = Array.from({ length: prod(shape) }, (_, i) =>
            dtype === 'int32' ? (i % 7) - 3 : Math.fround(Math.sin(i + 1) * 10 ** ((i % 5) - 2)),
          );
          const t = tf.tensor(x, shape, dtype);
          const y = tf.sum(t, axes, keepDims);
          const kept = shape.filter((_, a) => !axes.includes(a));
          expect(y.shape).toEqual(
            keepDims ? shape.map((d, a) => (axes.includes(a) ? 1 : d)) : kept,
          );
          expect(y.dtype).toBe(dtype);
          const mag = sumRef(
            x.map((v) => Math.abs(v)),
            shape,
            axes,
          );
          expectSums(await y.data(), sumRef(x, shape, axes), mag);
          tf.dispose([t, y]);
        },
      ),
      { numRuns: 200, seed: 20261206 },
    );
  });

  it("the networks' bias, broadcast and weight-norm sums (long columns, float64 accumulation)", async () => {
    for (const [shape, axes] of [
      [
        [32, 28, 28, 64],
        [0, 1, 2],
      ], // a bias gradient: 25088 rows
      [[25088, 15], [0]],
      [[4, 300, 7], [1]], // batched columns
      [
        [2, 3, 64, 64],
        [0, 1, 2],
      ], // the weight norm's per-output-channel sum
    ] as [number[], number[]][]) {
      const n = prod(shape);
      // a column of 1 + tiny values: float32 sequential summation would lose the tiny parts
      const x = Array.from({ length: n }, (_, i) =>
        i % 2 === 0 ? 1 : Math.fround(1e-7 * (i % 13)),
      );
      const t = tf.tensor(x, shape);
      const y = tf.sum(t, axes);
      const expected = sumRef(x, shape, axes);
      const got = await y.data();
      for (let i = 0; i < expected.length; i++)
        expect(Math.abs(got[i] - expected[i])).toBeLessThanOrEqual(
          4 * 2 ** -24 * Math.abs(expected[i]),
        );
      tf.dispose([t, y]);
    }
  });

  it('differentiates a broadcast add (its gradient is a sum over the broadcast axes)', async () => {
    const x = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 1);
    const b = tf.randomNormal([6], 0, 1, 'float32', 2);
    const w = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 3);
    const db = tf.grad((bb: tf.Tensor) => tf.sum(tf.mul(tf.add(x, bb), w)))(b);
    const wv = Array.from(await w.data());
    expectSums(
      await db.data(),
      sumRef(wv, [3, 5, 4, 6], [0, 1, 2]),
      sumRef(
        wv.map((v) => Math.abs(v)),
        [3, 5, 4, 6],
        [0, 1, 2],
      ),
    );
  });
});
