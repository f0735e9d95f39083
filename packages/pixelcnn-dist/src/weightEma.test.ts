import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { WeightEMA } from './weightEma';

describeBackends('WeightEMA', () => {
  it('tracks shadow = d*shadow + (1-d)*w with the TF warm-up decay, and swaps', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const ema = new WeightEMA([v], { decay: 0.9 });
    // reference in float64
    let s = [1, 2];
    const values = [
      [3, 4],
      [5, -6],
      [0, 0],
    ];
    for (let n = 0; n < values.length; n++) {
      v.assign(tf.tensor1d(values[n]));
      const d = Math.min(0.9, (1 + n) / (10 + n));
      expect(ema.currentDecay()).toBeCloseTo(d, 12);
      ema.update();
      s = s.map((x, i) => d * x + (1 - d) * values[n][i]);
    }
    const shadow = await ema.shadows[0].data();
    for (const [i, x] of s.entries()) expect(shadow[i]).toBeCloseTo(x, 5);
    const seen = await ema.apply(async () => Array.from(await v.data()));
    for (const [i, x] of seen.entries()) expect(x).toBeCloseTo(s[i], 5);
    expect(Array.from(await v.data())).toEqual([0, 0]);
    ema.dispose();
    v.dispose();
  });

  it('rejects a decay outside (0, 1)', () => {
    expect(() => new WeightEMA([], { decay: 1 })).toThrow(
      'Error in WeightEMA: decay must be in (0, 1), got 1',
    );
  });
});
