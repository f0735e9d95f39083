import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@pixelcnn/backend';
import {
  PixelCNN,
  type PixelCNNConfig,
  Trainer,
  type TrainingData,
  trainLoop,
} from '@pixelcnn/pixelcnn-dist';
import { loadCheckpoint, saveCheckpoint } from '@pixelcnn/pixelcnn-dist/node';
import type { RunProgress } from '@pixelcnn/pixelcnn-dist/run';

// 24 8x8 images, bytes 0..255: even ones horizontal stripes (class 0), odd ones vertical
// (class 1), shifted every other image. The first 16 train, the last 8 are held out.
const images = Uint8Array.from({ length: 24 * 64 }, (_, i) => {
  const [n, r, c] = [Math.floor(i / 64), Math.floor(i / 8) % 8, i % 8];
  return ((n % 2 ? c : r) + (n >> 2)) % 2 ? 255 : 0;
});
// A data source: each split's order of examples, and their pixels and labels. This one visits
// its images in order; @pixelcnn/quickdraw-data's QuickDrawDataset shuffles by seed and epoch.
const data: TrainingData = {
  size: (split) => (split === 'train' ? 16 : 8),
  examples(split) {
    const first = split === 'train' ? 0 : 16;
    const row = Uint32Array.from({ length: this.size(split) }, (_, i) => first + i);
    return { row, classIndex: Uint16Array.from(row, (n) => n % 2) };
  },
  async read(order, start = 0, end = order.row.length) {
    const rows = order.row.subarray(start, end);
    const pixels = new Uint8Array(rows.length * 64);
    for (const [i, n] of rows.entries()) pixels.set(images.subarray(n * 64, n * 64 + 64), i * 64);
    const labels = Int32Array.from(order.classIndex.subarray(start, end));
    return { size: rows.length, images: pixels, labels };
  },
};

// Train 2 epochs of 4 steps; then again, stopped after step 3 (its checkpoint is written) and
// continued from that checkpoint by a new Trainer: the same 8 losses, to the last bit.
export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pixelcnn-'));
  const dir = path.join(root, 'checkpoint');
  const train = async (trainer: Trainer, progress: RunProgress, stopAfter = 0) => {
    const losses: number[] = [];
    const stop = new AbortController();
    const outcome = await trainLoop({
      trainer,
      data,
      progress, // where training stands; updated as it goes
      plan: { batchSize: 4, epochs: 2, seed: 1, evalImages: 0, evalBatch: 8 },
      checkpoint: {
        everySteps: 2, // and at each epoch's end, the end and a stop
        save: (_reason, p) => saveCheckpoint(dir, trainer, { extra: { progress: p } }),
      },
      events: {
        step: ({ result, progress: p }) => {
          losses.push(result.loss);
          if (p.step === stopAfter) stop.abort();
        },
      },
      control: { signal: stop.signal },
    });
    return { losses, kind: outcome.kind, heldOut: outcome.progress.lastEval?.bitsPerDim };
  };
  const config: PixelCNNConfig = {
    imageShape: [8, 8, 1],
    high: 1, // two levels: 0 and 1
    conditionalShape: [], // a class label ...
    numClasses: 2, // ... one-hot encoded
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 8,
    numLogisticMix: 2,
    dropoutP: 0,
    seed: 0,
  };
  const model = () => new PixelCNN(config);
  const fresh = (): RunProgress => ({ step: 0, epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 });
  const options = { learningRate: 1e-2, emaDecay: 0.99, seed: 1 };

  const straightTrainer = new Trainer(model(), options);
  const straight = await train(straightTrainer, fresh());
  const firstTrainer = new Trainer(model(), options);
  const first = await train(firstTrainer, fresh(), 3);

  // later, in another process: the checkpoint's trainer (its whole state) and progress
  const { trainer, extra } = await loadCheckpoint(dir);
  const rest = await train(trainer, extra.progress as RunProgress);

  await fs.rm(root, { recursive: true });
  for (const t of [straightTrainer, firstTrainer, trainer]) {
    t.dispose();
    t.dist.dispose();
  }
  return {
    straight: straight.losses,
    resumed: [...first.losses, ...rest.losses],
    kinds: [straight.kind, first.kind, rest.kind],
    heldOut: [straight.heldOut, rest.heldOut],
  };
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
