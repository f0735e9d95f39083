import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { randomValues, relativeError } from './testing/convReference';
import { describeBackends } from './testing/describeBackends';

const SHAPES = {
  w1: [3, 3, 3, 4],
  w2: [2, 2, 8, 4],
  w3: [3, 3, 4, 4],
  emb: [5, 4],
} as const;

/**
 * A miniature PixelCNN++-like loss touching every op family a training step differentiates:
 * strided and 'same'/'valid' convs, conv2dTranspose, concat_elu, gated sigmoid, softplus,
 * exp/log/log1p/expm1, logSumExp, max, slice/pad shifts, dropout, where(greater), mean/sum,
 * and an embedding lookup (gather).
 */
function loss(params: Record<keyof typeof SHAPES, tf.Tensor>, x: tf.Tensor4D, labels: tf.Tensor1D) {
  const w1 = params.w1 as tf.Tensor4D;
  const w2 = params.w2 as tf.Tensor4D;
  const w3 = params.w3 as tf.Tensor4D;
  let h = tf.conv2d(x, w1, 1, 'same'); // [2, 8, 8, 4]
  h = tf.add(h, tf.reshape(tf.gather(params.emb, labels), [2, 1, 1, 4]));
  h = tf.elu(tf.concat([h, tf.neg(h)], 3)); // concat_elu: [2, 8, 8, 8]
  // down-shift: drop the last row, pad a zero row on top
  h = tf.pad(tf.slice(h, [0, 0, 0, 0], [2, 7, 8, 8]), [
    [0, 0],
    [1, 0],
    [0, 0],
    [0, 0],
  ]);
  const d = tf.conv2d(h as tf.Tensor4D, w2, 2, 'same'); // [2, 4, 4, 4]
  const gated = tf.mul(tf.softplus(d), tf.sigmoid(tf.neg(d)));
  const u = tf.conv2dTranspose(gated as tf.Tensor4D, w3, [2, 8, 8, 4], 2, 'same'); // [2, 8, 8, 4]
  const dropped = tf.dropout(u, 0.25, undefined, 7);
  const leaky = tf.where(tf.greater(dropped, 0), dropped, tf.mul(dropped, 0.1));
  const t = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(leaky)))), tf.expm1(tf.mul(leaky, 0.1)));
  const lse = tf.logSumExp(t, 3); // [2, 8, 8]
  const peak = tf.max(t, [1, 2]); // [2, 4]
  return tf.add(tf.mean(lse), tf.mul(tf.sum(tf.log(tf.add(tf.square(peak), 1))), 0.01));
}

async function gradients(): Promise<{ value: number; grads: Record<string, Float32Array> }> {
  const params = Object.fromEntries(
    Object.entries(SHAPES).map(([k, shape], i) => [
      k,
      tf.tensor(
        randomValues(
          shape.reduce((a, b) => a * b, 1),
          10 + i,
        ),
        [...shape],
      ),
    ]),
  ) as Record<keyof typeof SHAPES, tf.Tensor>;
  const x = tf.tensor4d(randomValues(2 * 8 * 8 * 3, 99), [2, 8, 8, 3]);
  const labels = tf.tensor1d([3, 1], 'int32');
  const names = Object.keys(SHAPES) as (keyof typeof SHAPES)[];
  const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) =>
    loss(Object.fromEntries(names.map((n, i) => [n, ts[i]])) as typeof params, x, labels),
  )(names.map((n) => params[n]));
  const out = {
    value: (await value.data())[0],
    grads: Object.fromEntries(
      await Promise.all(names.map(async (n, i) => [n, await grads[i].data()])),
    ),
  };
  tf.dispose([value, ...grads, x, labels, ...Object.values(params)]);
  return out as { value: number; grads: Record<string, Float32Array> };
}

describeBackends('a PixelCNN++-like training step', ({ backend }) => {
  it('has finite, non-zero gradients for every parameter', async () => {
    const { value, grads } = await gradients();
    expect(Number.isFinite(value)).toBe(true);
    for (const [name, g] of Object.entries(grads)) {
      expect(g.every(Number.isFinite), name).toBe(true);
      expect(
        g.some((v) => v !== 0),
        name,
      ).toBe(true);
    }
  });

  it.runIf(backend !== 'cpu')('agrees with the cpu backend', async () => {
    const here = await gradients();
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    const cpu = await gradients().finally(() => tf.setBackend(previous));
    expect(Math.abs(here.value - cpu.value) / Math.abs(cpu.value)).toBeLessThan(1e-5);
    for (const name of Object.keys(SHAPES)) {
      expect(relativeError(here.grads[name], cpu.grads[name]), name).toBeLessThan(1e-4);
    }
  });
});
