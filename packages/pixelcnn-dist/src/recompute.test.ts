import { describeBackends } from '@pixelcnn/backend/testing';
import { withEffectiveWeights } from '@pixelcnn/masked-conv';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { PixelCNNConfig } from './config';
import { normalizedLayers } from './network';
import { PixelCNN } from './pixelCnn';
import { recomputeInBackward } from './recompute';

const config = (o: Partial<PixelCNNConfig> = {}): PixelCNNConfig => ({
  imageShape: [6, 6, 1],
  high: 7,
  conditionalShape: [],
  numClasses: 3,
  numResnet: 2,
  numHierarchies: 2,
  numFilters: 6,
  numLogisticMix: 2,
  dropoutP: 0.3,
  seed: 5,
  ...o,
});

const images = () =>
  tf.tidy(() => tf.cast(tf.randomUniformInt([3, 6, 6, 1], 0, 8, 11), 'float32')) as tf.Tensor4D;
const labels = [0, 2, 1];

/** max |a - b| / max |b| over every pair of gradients. */
async function relativeError(a: tf.Tensor[], b: tf.Tensor[]): Promise<number> {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [await a[i].data(), await b[i].data()];
    for (let j = 0; j < x.length; j++) {
      num = Math.max(num, Math.abs(x[j] - y[j]));
      den = Math.max(den, Math.abs(y[j]));
    }
  }
  return num / den;
}

describeBackends('recomputeInBackward (gradient checkpointing)', () => {
  it('gives the gradient of the plain function, for inputs and closure parameters', async () => {
    const w = tf.variable(tf.tensor1d([0.5, -1.5, 2]), true, 'recompute-w');
    const x = tf.tensor1d([1, 2, -3]);
    let calls = 0;
    const f = (t: tf.Tensor) => {
      calls++;
      return tf.sum(tf.mul(tf.exp(tf.mul(t, w)), tf.sin(t)));
    };
    const before = calls;
    const { value, grads } = tf.variableGrads(() => {
      const y = recomputeInBackward((t) => f(t), [tf.mul(x, 1)], [w]);
      return tf.mul(y, 1) as tf.Scalar;
    });
    expect(calls - before).toBe(2); // forward, and once more in the backward pass
    const dw = grads[w.name];
    // closed form: d/dw sum exp(t w) sin t = t exp(t w) sin t
    const t = await x.data();
    const wv = await w.data();
    const want = Array.from(t, (ti, i) => ti * Math.exp(ti * wv[i]) * Math.sin(ti));
    const got = await dw.data();
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    tf.dispose([value, dw, x, w]);
  });

  for (const dropoutP of [0, 0.3]) {
    it(`a network's loss gradient is the same with and without recomputed blocks (dropout ${dropoutP})`, async () => {
      const dist = new PixelCNN(config({ dropoutP }));
      const x = images();
      dist.initialize(x, { conditionalInput: labels });
      const vars = dist.trainableVariables;
      const loss = (recomputeBlocks: boolean) => () =>
        tf.neg(
          tf.mean(
            dist.logProb(x, { conditionalInput: labels, training: true, seed: 9, recomputeBlocks }),
          ),
        ) as tf.Scalar;
      const a = tf.variableGrads(loss(false), vars);
      const b = tf.variableGrads(loss(true), vars);
      expect((await b.value.data())[0]).toBeCloseTo((await a.value.data())[0], 5);
      const names = vars.map((v) => v.name);
      expect(
        await relativeError(
          names.map((n) => b.grads[n]),
          names.map((n) => a.grads[n]),
        ),
      ).toBeLessThan(1e-5);
      tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), x]);
      dist.dispose();
    });
  }

  it('differentiates with respect to effective weights given by withEffectiveWeights (the Trainer)', async () => {
    const dist = new PixelCNN(config({ dropoutP: 0 }));
    const x = images();
    dist.initialize(x, { conditionalInput: labels });
    const layers = normalizedLayers(dist.params);
    const { effectiveWeight } = await import('@pixelcnn/masked-conv');
    const eff = tf.tidy(() => layers.map((l) => effectiveWeight(l.params, l.outAxis)));
    const overrides = new Map(layers.map((l, k) => [l.params, eff[k]] as const));
    const grad = (recomputeBlocks: boolean) =>
      tf
        .engine()
        .gradients(
          () =>
            withEffectiveWeights(overrides, () =>
              tf.neg(
                tf.mean(
                  dist.logProb(x, { conditionalInput: labels, training: true, recomputeBlocks }),
                ),
              ),
            ) as tf.Scalar,
          eff,
        );
    const a = grad(false);
    const b = grad(true);
    expect(await relativeError(b.grads, a.grads)).toBeLessThan(1e-5);
    tf.dispose([a.value, b.value, ...a.grads, ...b.grads, ...eff, x]);
    dist.dispose();
  });
});
