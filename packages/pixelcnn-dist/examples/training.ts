import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@pixelcnn/backend';
import {
  PixelCNN,
  type PixelCNNConfig,
  Trainer,
  type TrainerOptions,
} from '@pixelcnn/pixelcnn-dist';
import { loadCheckpoint, saveCheckpoint } from '@pixelcnn/pixelcnn-dist/node';
import * as tf from '@tensorflow/tfjs-core';

// Train 6 steps straight, and 3 + checkpoint + 3: the resumed run repeats the first exactly.
export async function main() {
  await initBackend(); // the fastest backend available (wasm on a plain Node machine)
  const config: PixelCNNConfig = {
    imageShape: [8, 8, 1],
    high: 1,
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 8,
    numLogisticMix: 2,
    seed: 0, // dropout stays on (0.5): its masks repeat too
  };
  const options: TrainerOptions = {
    learningRate: 1e-2,
    schedule: { kind: 'exponential', decay: 0.995 },
    microBatchSize: 2, // accumulate two micro-batches of 2 per update
    emaDecay: 0.99,
    clipGradNorm: 10,
    seed: 1,
  };
  const images = tf.tensor4d(
    Array.from({ length: 4 * 64 }, (_, i) => (Math.floor(i / 8) + Math.floor(i / 64)) % 2),
    [4, 8, 8, 1],
  );

  const straightModel = new PixelCNN(config);
  const straightTrainer = new Trainer(straightModel, options);
  const straight: number[] = [];
  for (let i = 0; i < 6; i++) straight.push((await straightTrainer.trainStep(images)).loss);

  const first = new PixelCNN(config);
  const firstTrainer = new Trainer(first, options);
  const resumed: number[] = [];
  for (let i = 0; i < 3; i++) resumed.push((await firstTrainer.trainStep(images)).loss);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pixelcnn-'));
  const dir = path.join(root, 'step-3'); // model.json, weights.bin, trainer.json, trainer.bin
  await saveCheckpoint(dir, firstTrainer, { extra: { epoch: 0 } });
  firstTrainer.dispose();
  first.dispose();

  // later, in another process: PixelCNN.load(nodeFileIO(dir)) would open the model alone
  const { model, trainer, extra } = await loadCheckpoint(dir);
  for (let i = 0; i < 3; i++) resumed.push((await trainer.trainStep(images)).loss);
  const { bitsPerDim } = await trainer.evaluate(images); // with the EMA weights

  const result = { straight, resumed, extra, step: trainer.step, bitsPerDim };
  await fs.rm(root, { recursive: true });
  images.dispose();
  for (const d of [straightTrainer, straightModel, trainer, model]) d.dispose();
  return result;
}

// Runs when executed (node, tsx); the package's README test imports main() instead.
if (!process.env.VITEST) main();
