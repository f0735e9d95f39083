import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { FUSED_KERNELS, gate, negConcat } from './index';

/** max |a - b| / max |b|. */
async function relErr(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  expect(x.length).toBe(y.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / den;
}

const randn = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** The stock-op definitions the fused kernels replace. */
const stockNegConcat = (x: tf.Tensor) => tf.concat([x, tf.neg(x)], -1);
const stockGate = (x: tf.Tensor, c2: tf.Tensor) => {
  const [a, b] = tf.split(c2, 2, -1);
  return tf.add(x, tf.mul(a, tf.sigmoid(b)));
};

// float32 results of the same formulas, differently rounded (the fused kernels compute in double
// and round once): a few float32 ulps, far below 1e-5.
const TOL = 1e-6;

describeBackends(
  'fused elementwise kernels (fused where registered, stock ops elsewhere)',
  ({ backend }) => {
    it('are registered on wasm by @pixelcnn/backend under the names this package looks up', () => {
      const names = Object.values(FUSED_KERNELS);
      const have = names.filter((n) => tf.getKernel(n, backend) !== undefined);
      expect(have).toEqual(backend === 'wasm' ? names : []);
    });

    for (const shape of [
      [2, 5, 7, 3],
      [3, 4, 64],
      [1, 80],
    ]) {
      it(`negConcat and its gradient equal concat([x, -x]) and its gradient, x [${shape}]`, async () => {
        const x = randn(shape, 1);
        const dy = randn([...shape.slice(0, -1), 2 * shape[shape.length - 1]], 2);
        const y = negConcat(x);
        const want = stockNegConcat(x);
        expect(y.shape).toEqual(want.shape);
        expect(await relErr(y, want)).toBeLessThanOrEqual(TOL);
        const g = tf.grad((t: tf.Tensor) => negConcat(t))(x, dy);
        const gWant = tf.grad((t: tf.Tensor) => stockNegConcat(t))(x, dy);
        expect(await relErr(g, gWant)).toBeLessThanOrEqual(TOL);
        // closed form: dx = dy[..., :C] - dy[..., C:]
        const [d1, d2] = tf.split(dy, 2, -1);
        const closed = tf.sub(d1, d2);
        expect(await relErr(g, closed)).toBeLessThanOrEqual(TOL);
        tf.dispose([x, dy, y, want, g, gWant, d1, d2, closed]);
      });

      it(`the gate and its gradients equal x + a * sigmoid(b) with stock ops, x [${shape}]`, async () => {
        const F = shape[shape.length - 1];
        const x = randn(shape, 3);
        const c2 = tf.mul(randn([...shape.slice(0, -1), 2 * F], 4), 3); // saturating sigmoids too
        const dy = randn(shape, 5);
        const y = gate(x, c2);
        const want = stockGate(x, c2);
        expect(await relErr(y, want)).toBeLessThanOrEqual(TOL);
        const [gx, gc] = tf.grads((a: tf.Tensor, b: tf.Tensor) => gate(a, b))([x, c2], dy);
        const [wx, wc] = tf.grads((a: tf.Tensor, b: tf.Tensor) => stockGate(a, b))([x, c2], dy);
        expect(await relErr(gx, wx)).toBeLessThanOrEqual(TOL);
        expect(await relErr(gc, wc)).toBeLessThanOrEqual(TOL);
        expect(await relErr(gx, dy)).toBe(0); // d/dx (x + ...) = dy exactly
        tf.dispose([x, c2, dy, y, want, gx, gc, wx, wc]);
      });
    }

    if (backend === 'wasm') {
      it('the wasm kernels refuse mismatched shapes and non-float inputs by name', () => {
        const x = tf.zeros([2, 3]);
        const c2 = tf.zeros([2, 5]);
        const i = tf.zeros([2, 3], 'int32');
        expect(() => tf.engine().runKernel(FUSED_KERNELS.gate, { x, c2, s: c2 })).toThrow(
          'Error in PixelCnnGate (wasm): expected shapes [..., 3] and [..., 6] with the same leading dims, got [2,3] and [2,5]',
        );
        expect(() => tf.engine().runKernel(FUSED_KERNELS.negConcat, { x: i })).toThrow(
          'Error in PixelCnnNegConcat (wasm): x must be float32, got int32',
        );
        expect(() => tf.engine().runKernel(FUSED_KERNELS.negConcatGrad, { dy: x })).toThrow(
          "Error in PixelCnnNegConcatGrad (wasm): dy's last axis must be even, got [2,3]",
        );
        tf.dispose([x, c2, i]);
      });
    }
  },
);
