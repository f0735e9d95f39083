import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { applyGradientsInChunks } from './optimizerUpdate';

let made = 0;

/** Variables of sizes 3, 7, 1, 12, 5 with fixed values, and a fixed gradient per step. */
function problem() {
  const sizes = [3, 7, 1, 12, 5];
  const id = made++;
  const vars = sizes.map((n, i) =>
    tf.variable(tf.randomNormal([n], 0, 1, 'float32', 10 + i), true, `chunks${id}/v${i}`),
  );
  const grads = (step: number) =>
    vars.map((v, i) => ({
      name: v.name,
      tensor: tf.randomNormal(v.shape, 0, 1, 'float32', 1000 + 100 * step + i), // seed 0 is no seed
    }));
  return { vars, grads };
}

describeBackends('applyGradientsInChunks', () => {
  it("gives Adam's update to the bit, and the same state (moments in order, beta powers, iterations)", async () => {
    const whole = problem();
    const chunked = problem();
    const optA = tf.train.adam(0.01, 0.9, 0.99, 1e-7);
    const optB = tf.train.adam(0.01, 0.9, 0.99, 1e-7);
    for (let step = 0; step < 4; step++) {
      const ga = whole.grads(step);
      const gb = chunked.grads(step);
      optA.applyGradients(ga);
      applyGradientsInChunks(optB, gb, 8); // chunks of sizes [3], [7, 1], [12], [5]
      tf.dispose([...ga.map((g) => g.tensor), ...gb.map((g) => g.tensor)]);
    }
    for (let i = 0; i < whole.vars.length; i++) {
      expect(await chunked.vars[i].data()).toEqual(await whole.vars[i].data());
    }
    expect(optB.iterations).toBe(optA.iterations);
    const [wa, wb] = [await optA.getWeights(), await optB.getWeights()];
    expect(wb.map((w) => w.name.replace(/chunks\d+/, ''))).toEqual(
      wa.map((w) => w.name.replace(/chunks\d+/, '')),
    );
    for (let i = 0; i < wa.length; i++) {
      expect(await wb[i].tensor.data()).toEqual(await wa[i].tensor.data());
    }
    const beta = (o: tf.Optimizer) =>
      (o as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable }).accBeta1.data();
    expect(await beta(optB)).toEqual(await beta(optA));
    tf.dispose([...wa.map((w) => w.tensor), ...wb.map((w) => w.tensor)]);
    optA.dispose();
    optB.dispose();
    tf.dispose([...whole.vars, ...chunked.vars]);
  });

  it('gives other optimizers one call (same result as applyGradients)', async () => {
    const a = problem();
    const b = problem();
    // (not momentum: tfjs's leaks its learning-rate scalar on dispose)
    const optA = tf.train.rmsprop(0.1, 0.9);
    const optB = tf.train.rmsprop(0.1, 0.9);
    for (let step = 0; step < 2; step++) {
      const ga = a.grads(step);
      const gb = b.grads(step);
      optA.applyGradients(ga);
      applyGradientsInChunks(optB, gb, 4);
      tf.dispose([...ga.map((g) => g.tensor), ...gb.map((g) => g.tensor)]);
    }
    for (let i = 0; i < a.vars.length; i++) {
      expect(await b.vars[i].data()).toEqual(await a.vars[i].data());
    }
    expect(optB.iterations).toBe(2);
    optA.dispose();
    optB.dispose();
    tf.dispose([...a.vars, ...b.vars]);
  });
});
