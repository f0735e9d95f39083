import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Adam, type AdamSettings, globalNorm, learningRateAt, WeightAverage } from './optimizer';

const settings: AdamSettings = {
  learningRate: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  epsilon: 1e-8,
  lrDecay: 0.9,
  warmupSteps: 0,
  gradClipNorm: 0,
};

/** Float64 reference of the same Adam on one scalar, written out from the paper's formulas. */
function adamReference(w0: number, grads: number[], s: AdamSettings): number[] {
  let w = w0;
  let m = 0;
  let v = 0;
  return grads.map((g, k) => {
    const t = k + 1;
    const lr = s.learningRate * s.lrDecay ** k;
    m = s.beta1 * m + (1 - s.beta1) * g;
    v = s.beta2 * v + (1 - s.beta2) * g * g;
    w -= (lr * (m / (1 - s.beta1 ** t))) / (Math.sqrt(v / (1 - s.beta2 ** t)) + s.epsilon);
    return w;
  });
}

it('learning-rate schedule: decay per step and linear warm-up', () => {
  expect(learningRateAt(settings, 0)).toBe(0.1);
  expect(learningRateAt(settings, 2)).toBeCloseTo(0.1 * 0.81, 15);
  const warm = { ...settings, lrDecay: 1, warmupSteps: 4 };
  const expected = [0.025, 0.05, 0.075, 0.1, 0.1];
  [0, 1, 2, 3, 10].forEach((step, i) => {
    expect(learningRateAt(warm, step)).toBeCloseTo(expected[i], 15);
  });
});

describeBackends('Adam and WeightAverage', () => {
  it('Adam matches a float64 reference step by step', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam([w], settings);
    const gs = [0.5, -1, 2, 0.25];
    const ref0 = adamReference(1, gs, settings);
    const ref1 = adamReference(
      -2,
      gs.map((g) => 3 * g),
      settings,
    );
    gs.forEach((g, k) => {
      const grad = tf.tensor1d([g, 3 * g]);
      adam.apply([grad]);
      grad.dispose();
      const [a, b] = w.dataSync();
      expect(a).toBeCloseTo(ref0[k], 5);
      expect(b).toBeCloseTo(ref1[k], 5);
    });
    expect(adam.step).toBe(4);
    adam.dispose();
    w.dispose();
  });

  it('saved and restored Adam state continues exactly', () => {
    const mk = () =>
      tf.variable(
        tf.tensor2d([
          [0.3, -0.7],
          [1.1, 0.05],
        ]),
      );
    const grads = [0.2, -0.4, 0.9, 0.1].map((g) =>
      tf.tensor2d([
        [g, -g],
        [2 * g, g * g],
      ]),
    );
    const wA = mk();
    const a = new Adam([wA], settings);
    for (const g of grads) a.apply([g]);
    const wB = mk();
    const b1 = new Adam([wB], settings);
    b1.apply([grads[0]]);
    b1.apply([grads[1]]);
    const state = b1.exportState(['w']);
    expect(state.map((e) => e.name)).toEqual(['w/adam_m', 'w/adam_v']);
    const b2 = new Adam([wB], settings);
    b2.importState(state, b1.step);
    b2.apply([grads[2]]);
    b2.apply([grads[3]]);
    expect([...wB.dataSync()]).toEqual([...wA.dataSync()]);
    expect(() => b2.importState(state.slice(1), 2)).toThrow(
      /optimizer state has 1 tensors, this model needs 2/,
    );
    tf.dispose([...grads, wA, wB]);
    for (const x of [a, b1, b2]) x.dispose();
  });

  it('gradient clipping scales to the global norm', () => {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const g = tf.tensor1d([3, 4]);
    const norm = globalNorm([g]);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 6);
    const adam = new Adam([w], { ...settings, gradClipNorm: 1, lrDecay: 1 });
    adam.apply([g], 5);
    // First Adam step moves each weight by ~lr * sign(g) regardless of scale.
    const [a, b] = w.dataSync();
    expect(a).toBeCloseTo(-0.1, 5);
    expect(b).toBeCloseTo(-0.1, 5);
    expect([...adam.m[0].dataSync()].map((x) => x / 0.1)).toEqual([
      expect.closeTo(0.6, 5),
      expect.closeTo(0.8, 5),
    ]);
    tf.dispose([w, g, norm]);
    adam.dispose();
  });

  it('WeightAverage follows d = min(decay, (1+t)/(10+t)) and swaps weights in and out', async () => {
    const w = tf.variable(tf.scalar(0));
    const ema = new WeightAverage([w], 0.5);
    expect(ema.decayAt(1)).toBeCloseTo(2 / 11, 15);
    expect(ema.decayAt(100)).toBe(0.5);
    let ref = 0;
    for (let t = 1; t <= 12; t++) {
      w.assign(tf.scalar(t));
      ema.update(t);
      const d = Math.min(0.5, (1 + t) / (10 + t));
      ref = d * ref + (1 - d) * t;
    }
    expect(ema.shadow[0].dataSync()[0]).toBeCloseTo(ref, 4);
    const inside = await ema.withAveraged(() => w.dataSync()[0]);
    expect(inside).toBeCloseTo(ref, 4);
    expect(w.dataSync()[0]).toBe(12);
    const state = ema.exportState(['w']);
    const again = new WeightAverage([w], 0.5);
    again.importState(state);
    expect(again.shadow[0].dataSync()[0]).toBe(ema.shadow[0].dataSync()[0]);
    again.reset();
    expect(again.shadow[0].dataSync()[0]).toBe(12);
    ema.dispose();
    again.dispose();
    w.dispose();
  });
});
