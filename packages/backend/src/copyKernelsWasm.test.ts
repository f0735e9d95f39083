import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { reducePermutation } from './copyKernelsWasm';
import { describeBackends } from './testing/describeBackends';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: number[]) => s.map((_, i) => prod(s.slice(i + 1)));

/** out[i] = x[begin + unravel(i, size)], by index arithmetic. */
function sliceRef(x: number[], shape: number[], begin: number[], size: number[]): number[] {
  const xs = stridesOf(shape);
  const os = stridesOf(size);
  return Array.from({ length: prod(size) }, (_, i) => {
    let off = 0;
    for (let a = 0; a < shape.length; a++)
      off += (begin[a] + (Math.floor(i / os[a]) % size[a])) * xs[a];
    return x[off];
  });
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 });

describeBackends('Slice, SplitV and Concat (wasm: in place, short rows by loop)', () => {
  it('slice any box of any rank like the index arithmetic says (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }))),
            fc.tuple(...shape.map((d) => fc.integer({ min: 1, max: d }))),
            fc.constantFrom<'float32' | 'int32'>('float32', 'int32'),
          ),
        ),
        async ([shape, b0, s0, dtype]) => {
          const begin = b0 as number[];
          const size = (s0 as number[]).map((s, a) => Math.min(s, shape[a] - begin[a]));
          const x = Array.from({ length: prod(shape) }, (_, i) => i * 3 - 7);
          const t = tf.tensor(x, shape, dtype);
          const y = tf.slice(t, begin, size);
          expect(y.shape).toEqual(size);
          expect(Array.from(await y.data())).toEqual(sliceRef(x, shape, begin, size));
          tf.dispose([t, y]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('split along any axis and concat back (property), with the gradients of both', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((shape) =>
          fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 })),
        ),
        async ([shape, axis]) => {
          const x = Array.from({ length: prod(shape) }, (_, i) => Math.sin(i) * 10);
          const t = tf.tensor(x, shape);
          const n = shape[axis];
          const sizes = n === 1 ? [1] : [1, n - 1];
          const parts = tf.split(t, sizes, axis);
          let at = 0;
          for (const [i, p] of parts.entries()) {
            const begin = shape.map((_, a) => (a === axis ? at : 0));
            const size = shape.map((d, a) => (a === axis ? sizes[i] : d));
            expect(Array.from(await p.data())).toEqual(
              sliceRef(x, shape, begin, size).map((v) => Math.fround(v)),
            );
            at += sizes[i];
          }
          const back = tf.concat(
            parts.length === 1 ? [parts[0], parts[0]] : [parts[1], parts[0]],
            axis,
          );
          // concat([b, a]) is the reference's rearrangement of x
          const want =
            parts.length === 1
              ? tf.concat([t, t], axis)
              : tf.concat(
                  [
                    tf.slice(
                      t,
                      shape.map((_, a) => (a === axis ? 1 : 0)),
                    ),
                    tf.slice(
                      t,
                      0,
                      shape.map((d, a) => (a === axis ? 1 : d)),
                    ),
                  ],
                  axis,
                );
          expect(Array.from(await back.data())).toEqual(Array.from(await want.data()));
          tf.dispose([t, ...parts, back, want]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('concatenates channels of activations and differentiates through concat (SplitV)', async () => {
    const a = tf.randomNormal([4, 5, 6, 3], 0, 1, 'float32', 1);
    const b = tf.randomNormal([4, 5, 6, 7], 0, 1, 'float32', 2);
    const w = tf.randomNormal([4, 5, 6, 10], 0, 1, 'float32', 3);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(tf.concat([x, y], 3), w)),
    )([a, b]);
    expect(Array.from(await ga.data())).toEqual(
      Array.from(await tf.slice(w, [0, 0, 0, 0], [-1, -1, -1, 3]).data()),
    );
    expect(Array.from(await gb.data())).toEqual(
      Array.from(await tf.slice(w, [0, 0, 0, 3], [-1, -1, -1, 7]).data()),
    );
    tf.dispose([a, b, w, ga, gb]);
  });
});

describeBackends('Identity (wasm: shares the buffer, reference counted)', () => {
  it('a clone keeps its values after the original is disposed, and the other way round', async () => {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    const c = tf.clone(b);
    const d = tf.add(c, 1);
    c.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    expect(Array.from(await d.data())).toEqual([2, 3, 4, 5]);
    tf.dispose([b, d]);
  });
});

/** out = x transposed by perm, by index arithmetic. */
function transposeRef(x: number[], shape: number[], perm: number[]): number[] {
  const out = perm.map((a) => shape[a]);
  const xs = stridesOf(shape);
  const os = stridesOf(out);
  return Array.from({ length: prod(shape) }, (_, i) => {
    let off = 0;
    for (let k = 0; k < out.length; k++) off += (Math.floor(i / os[k]) % out[k]) * xs[perm[k]];
    return x[off];
  });
}

it('reducePermutation merges neighbouring axes and drops size-1 ones', () => {
  expect(reducePermutation([32, 28, 28, 64], [3, 0, 1, 2])).toEqual({
    shape: [32 * 28 * 28, 64],
    perm: [1, 0],
  });
  expect(reducePermutation([2, 3, 4], [0, 2, 1])).toEqual({ shape: [2, 3, 4], perm: [0, 2, 1] });
  expect(reducePermutation([5, 1, 7], [1, 2, 0])).toEqual({ shape: [5, 7], perm: [1, 0] });
  expect(reducePermutation([2, 3, 4, 5], [0, 1, 2, 3])).toEqual({ shape: [120], perm: [0] });
  expect(reducePermutation([2, 3, 4], [2, 0, 1])).toEqual({ shape: [6, 4], perm: [1, 0] });
  expect(reducePermutation([2, 3, 4, 5], [3, 1, 2, 0])).toEqual({
    shape: [2, 12, 5],
    perm: [2, 1, 0],
  });
});

describeBackends('Transpose (wasm: batched 2-D swaps copied in JS)', () => {
  it('transposes any shape by any permutation like the index arithmetic says (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            ),
            fc.constantFrom<'float32' | 'int32' | 'bool'>('float32', 'int32', 'bool'),
          ),
        ),
        async ([shape, perm, dtype]) => {
          const x = Array.from({ length: prod(shape) }, (_, i) =>
            dtype === 'bool' ? (i % 3 === 0 ? 1 : 0) : i * 3 - 7,
          );
          const t = tf.tensor(x, shape, dtype);
          const y = tf.transpose(t, perm);
          expect(y.shape).toEqual(perm.map((a) => shape[a]));
          expect(Array.from(await y.data())).toEqual(transposeRef(x, shape, perm));
          tf.dispose([t, y]);
        },
      ),
      { numRuns: 200, seed: 20261206 },
    );
  });

  it('a large matrix (more rows than a block, odd sizes) and a batch of them', async () => {
    for (const [shape, perm] of [
      [
        [1000, 37],
        [1, 0],
      ],
      [
        [3, 101, 19],
        [0, 2, 1],
      ],
      [
        [2, 17, 33, 5],
        [3, 0, 1, 2],
      ],
    ] as [number[], number[]][]) {
      const x = Array.from({ length: prod(shape) }, (_, i) => Math.sin(i));
      const t = tf.tensor(x, shape);
      const y = tf.transpose(t, perm);
      expect(Array.from(await y.data())).toEqual(
        Array.from(new Float32Array(transposeRef(x, shape, perm))),
      );
      tf.dispose([t, y]);
    }
  });
});
