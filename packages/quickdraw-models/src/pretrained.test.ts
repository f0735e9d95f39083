import fs from 'node:fs';
import path from 'node:path';
import { describeBackends, quickdrawDir } from '@pixelcnn/backend/testing';
import { loadQuickDraw } from '@pixelcnn/quickdraw-data/node';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES, MODELS } from './models';
import { loadClassifier, loadModel, modelDir } from './node';
import { recognitionShare } from './recognition';

// Each shipped model against its record (src/models.ts), on the real drawings of the shared
// QuickDraw mirror: the held-out bits/dim of the shipped weights and the share of its samples the
// shipped classifier recognises. wasm only: the network's forward passes over every held-out
// drawing and the sampling take minutes on tfjs's cpu backend.
// A forward pass over every held-out drawing (1628 for shapes4) or 256 samples of a 64-filter
// network: about a minute each on one wasm thread, several on the shared 2-core machine.
const TIMEOUT = 900_000;

for (const name of MODEL_NAMES) {
  const info = MODELS[name];
  describeBackends(
    `pretrained model '${name}'`,
    () => {
      it(
        'reproduces the recorded held-out bits/dim',
        async () => {
          const { perClass, heldOut } = info.record.data;
          const data = await loadQuickDraw({
            classes: [...info.classes],
            maxPerClass: perClass || undefined,
            labels: 'index',
            testFraction: heldOut,
            baseUrl: quickdrawDir(),
          });
          const model = await loadModel(name);
          try {
            const order = data.examples('test', { shuffle: false });
            const n = order.row.length;
            expect(n).toBe(info.record.heldOut.images);
            let total = 0;
            for (let start = 0; start < n; start += 64) {
              const raw = await data.read(order, start, Math.min(n, start + 64));
              const lp = tf.tidy(() =>
                model.logProb(tf.tensor4d(Float32Array.from(raw.images), [raw.size, 28, 28, 1]), {
                  conditionalInput: tf.tensor1d(raw.labels, 'int32'),
                }),
              );
              for (const v of await lp.data()) total += -v / (784 * Math.LN2);
              lp.dispose();
            }
            // Recorded by `pixelcnn eval` on the same weights, drawings and backend: the same
            // float32 arithmetic in another batching; 1e-4 bits/dim is ~1e-5 relative, the
            // rounding of float32 sums over 784 pixels and the batch.
            expect(Math.abs(total / n - info.record.heldOut.bitsPerDim)).toBeLessThan(1e-4);
          } finally {
            model.dispose();
            await data.close();
          }
        },
        TIMEOUT,
      );

      it(
        'reproduces the recorded share of samples the shipped classifier recognises',
        async () => {
          const { perClass, seed, temperature } = info.record.recognised.sampling;
          const model = await loadModel(name);
          const classifier = await loadClassifier(name);
          try {
            expect(classifier.classes).toEqual(info.classes);
            const labels = info.classes.flatMap((_, c) => new Array<number>(perClass).fill(c));
            const cond = tf.tensor1d(labels, 'int32');
            const drawings = (await model.sample(labels.length, {
              conditionalInput: cond,
              seed,
              temperature,
            })) as tf.Tensor4D;
            const predicted = await classifier.predict(drawings);
            tf.dispose([cond, drawings]);
            const got = recognitionShare(predicted, labels, info.classes);
            const want = info.record.recognised.generated;
            expect(got.n).toBe(want.n);
            // The same seed on the same backend draws the same samples, so the count is expected
            // to match exactly. Another wasm build or CPU could round a few operations otherwise and
            // change some samples: the bound is 3 standard deviations of the difference of two
            // independent draws of the share, sqrt(2 p (1 - p) / n) (a false alarm in 0.3%).
            const p = want.share;
            expect(Math.abs(got.share - p)).toBeLessThanOrEqual(
              3 * Math.sqrt((2 * p * (1 - p)) / want.n),
            );
            console.log(
              `${name}: ${got.hits}/${got.n} recognised (recorded ${want.hits}/${want.n})`,
            );
          } finally {
            model.dispose();
            classifier.dispose();
          }
        },
        TIMEOUT,
      );
    },
    { only: ['wasm'] },
  );
}

describe('the shipped models', () => {
  it("ship the 2-hour model 'shapes4' (the README example, the viewer and the CLI open it)", () => {
    expect(MODEL_NAMES).toContain('shapes4');
  });

  it('have their files and a record for each', () => {
    for (const name of MODEL_NAMES) {
      const info = MODELS[name];
      expect(info.name).toBe(name);
      for (const f of [
        'model.json',
        'weights.bin',
        'classifier/model.json',
        'classifier/weights.bin',
        'sheet.png',
      ])
        expect(fs.existsSync(path.join(modelDir(name), f)), `${name}/${f}`).toBe(true);
      expect(info.record.recognised.generated.n).toBe(
        info.classes.length * info.record.recognised.sampling.perClass,
      );
    }
  });
});
