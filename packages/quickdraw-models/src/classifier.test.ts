import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { DrawingClassifier } from './classifier';
import { trainClassifier } from './trainClassifier';

const SIDE = 16;
const SMALL = {
  imageSize: [SIDE, SIDE] as [number, number],
  filters: [4, 8, 8] as [number, number, number],
  hidden: 16,
};

/**
 * `n` synthetic drawings: a 3-pixel-wide ink bar at a random place, horizontal (class 0) or
 * vertical (class 1), with faint noise; a task a classifier must learn to ~100%.
 */
function bars(n: number, seed: number): { images: Uint8Array; labels: Int32Array } {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const images = new Uint8Array(n * SIDE * SIDE);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = label;
    const at = 2 + Math.floor(rnd() * (SIDE - 6));
    const from = Math.floor(rnd() * 4);
    const to = SIDE - Math.floor(rnd() * 4);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const [along, across] = label === 0 ? [x, y] : [y, x];
        const ink = along >= from && along < to && across >= at && across < at + 3;
        images[i * SIDE * SIDE + y * SIDE + x] = ink ? 255 : Math.floor(rnd() * 40);
      }
  }
  return { images, labels };
}

describeBackends('DrawingClassifier', ({ backend }) => {
  it('gives logits [B, K] and refuses drawings of another size', () => {
    const c = new DrawingClassifier({ classes: ['a', 'b', 'c'], ...SMALL });
    const x = tf.zeros([5, SIDE, SIDE, 1]) as tf.Tensor4D;
    expect(c.logits(x).shape).toEqual([5, 3]);
    expect(() => c.logits(tf.zeros([5, 28, 28, 1]) as tf.Tensor4D)).toThrow(
      'Error in DrawingClassifier: expected drawings [B, 16, 16, 1], got [5,28,28,1]',
    );
    // 3x3 convs 1->4->8->8, dense 2*2*8 -> 16 -> 3
    expect(c.numParameters).toBe(
      9 * 4 + 4 + 9 * 4 * 8 + 8 + 9 * 8 * 8 + 8 + 32 * 16 + 16 + 16 * 3 + 3,
    );
    c.dispose();
  });

  it('refuses bad configurations with the reason', () => {
    expect(() => new DrawingClassifier({ classes: ['a'] })).toThrow(
      'Error in DrawingClassifier: classes must name at least two classes, got ["a"]',
    );
    expect(() => new DrawingClassifier({ classes: ['a', 'a'] })).toThrow(
      'classes must be distinct',
    );
    expect(() => new DrawingClassifier({ classes: ['a', 'b'], imageSize: [4, 4] })).toThrow(
      'imageSize must be [H, W] with H, W >= 8, got [4,4]',
    );
    expect(() => new DrawingClassifier({ classes: ['a', 'b'], seed: -1 })).toThrow(
      'seed must be an integer in [0, 2^28), got -1',
    );
  });

  it(
    'learns bars to >= 97% on new drawings, the same weights from the same seed',
    async () => {
      const train = bars(256, 1);
      const test = bars(200, 2);
      const fit = (seed: number) =>
        trainClassifier(train, ['horizontal', 'vertical'], {
          ...SMALL,
          epochs: 6,
          batchSize: 32,
          learningRate: 3e-3,
          seed,
        });
      const a = await fit(7);
      const predicted = await a.predict(test.images);
      const right = predicted.filter((p, i) => p === test.labels[i]).length;
      expect(right / 200).toBeGreaterThanOrEqual(0.97);

      const b = await fit(7);
      const c = await fit(8);
      const w = async (m: DrawingClassifier) =>
        Array.from(await (m.variables.get('dense2/w') as tf.Variable).data());
      expect(await w(b)).toEqual(await w(a));
      expect(await w(c)).not.toEqual(await w(a));
      for (const m of [a, b, c]) m.dispose();
      // Three trainings of 48 steps: seconds on wasm, minutes on webgpu over SwiftShader (a CPU
      // emulation of a GPU, the only adapter here).
    },
    backend === 'webgpu' ? 900_000 : undefined,
  );

  it('round-trips through artifacts: same logits, metadata kept; damaged artifacts refused', async () => {
    const c = new DrawingClassifier({ classes: ['x', 'y'], ...SMALL, seed: 3 });
    const x = tf.tensor4d(bars(4, 5).images, [4, SIDE, SIDE, 1], 'float32');
    const artifacts = await c.toArtifacts({ note: 'kept' });
    const again = DrawingClassifier.fromArtifacts(artifacts);
    expect(Array.from(await again.logits(x).data())).toEqual(Array.from(await c.logits(x).data()));
    expect(again.classes).toEqual(['x', 'y']);
    expect(DrawingClassifier.metadata(artifacts)).toEqual({ note: 'kept' });

    const truncated = {
      ...artifacts,
      weightData: (artifacts.weightData as ArrayBuffer).slice(0, 100),
    };
    expect(() => DrawingClassifier.fromArtifacts(truncated)).toThrow(
      /weights hold 100 bytes, the manifest needs \d+ \(truncated file\?\)/,
    );
    const other = { ...artifacts, modelTopology: { class_name: 'PixelCNN' } };
    expect(() => DrawingClassifier.fromArtifacts(other)).toThrow(
      'not a saved DrawingClassifier (modelTopology.class_name "PixelCNN")',
    );
    c.dispose();
    again.dispose();
  });
});
