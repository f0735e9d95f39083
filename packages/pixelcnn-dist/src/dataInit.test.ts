import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { TINY } from '../test/tiny';
import type { PixelCNNConfig } from './config';
import { PixelCNN } from './pixelCnn';

const config: PixelCNNConfig = {
  ...TINY,
  dropoutP: 0,
  seed: 5,
};

const batch = () =>
  tf.tensor4d(
    Array.from({ length: 64 }, (_, i) => (i * 5 + Math.floor(i / 16)) % 4),
    [4, 4, 4, 1],
  );

async function weights(dist: PixelCNN): Promise<number[][]> {
  return Promise.all(dist.trainableVariables.map(async (v) => Array.from(await v.data())));
}

/** One step of a TFP-style custom loop: minimize(-mean(logProb(x, training))). */
function customStep(dist: PixelCNN, opt: tf.Optimizer, x: tf.Tensor): void {
  const loss = opt.minimize(
    () => tf.neg(tf.mean(dist.logProb(x, { training: true }))) as tf.Scalar,
    false,
    dist.trainableVariables,
  );
  loss?.dispose();
}

describeBackends('data-dependent init in a custom loop', () => {
  it('the first training-mode call runs it (TFP lazy init): same step as explicit initialize()', async () => {
    const x = batch();
    const lazy = new PixelCNN(config);
    expect(lazy.initialized).toBe(false);
    tf.dispose(lazy.logProb(x)); // evaluation mode: no init
    expect(lazy.initialized).toBe(false);
    const untouched = await weights(lazy);

    const explicit = new PixelCNN(config);
    explicit.initialize(x);
    const initialised = await weights(explicit);
    expect(initialised).not.toEqual(untouched); // the init really changes g and b

    const optA = tf.train.sgd(0.05);
    const optB = tf.train.sgd(0.05);
    customStep(lazy, optA, x);
    customStep(explicit, optB, x);
    expect(lazy.initialized).toBe(true);
    const a = await weights(lazy);
    const b = await weights(explicit);
    let worst = 0;
    a.forEach((w, i) => {
      w.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - b[i][j]));
      });
    });
    expect(worst).toBeLessThan(1e-5);

    // and only once: a second call trains on, it does not re-initialise
    customStep(lazy, optA, x);
    customStep(explicit, optB, x);
    const a2 = await weights(lazy);
    const b2 = await weights(explicit);
    a2.forEach((w, i) => {
      w.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - b2[i][j]));
      });
    });
    expect(worst).toBeLessThan(1e-5);
    x.dispose();
    optA.dispose();
    optB.dispose();
    lazy.dispose();
    explicit.dispose();
  });

  it('a saved uninitialised model loads uninitialised, and inits on its first training call', async () => {
    const x = batch();
    const fresh = new PixelCNN(config);
    const loaded = PixelCNN.fromArtifacts(await fresh.toArtifacts());
    expect(loaded.initialized).toBe(false);
    tf.dispose(loaded.logProb(x, { training: true }));
    expect(loaded.initialized).toBe(true);
    fresh.initialize(x);
    expect(await weights(loaded)).toEqual(await weights(fresh)); // the same init, same batch
    const again = PixelCNN.fromArtifacts(await loaded.toArtifacts());
    expect(again.initialized).toBe(true);
    x.dispose();
    for (const d of [fresh, loaded, again]) d.dispose();
  });

  it('does nothing without data init (useDataInit false)', async () => {
    const x = batch();
    const dist = new PixelCNN({ ...config, useDataInit: false });
    const before = await weights(dist);
    const lp = dist.logProb(x, { training: true });
    expect(await weights(dist)).toEqual(before);
    tf.dispose([x, lp]);
    dist.dispose();
  });
});
