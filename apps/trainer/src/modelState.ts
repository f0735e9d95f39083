import fs from 'node:fs';
import path from 'node:path';
import { PixelCNN, Trainer } from '@pixelcnn/pixelcnn-dist';
import { loadCheckpoint, saveCheckpoint } from '@pixelcnn/pixelcnn-dist/node';
import {
  CHECKPOINT_FILE,
  checkpointName,
  LEGACY_CHECKPOINT_FILE,
  legacyCheckpointMessage,
  parseCheckpointMeta,
  RUN_LAYOUT,
  type CheckpointMeta as RunCheckpointMeta,
  type RunProgress,
} from '@pixelcnn/pixelcnn-dist/run';
import { pruneCheckpoints, writeLatest } from './checkpoint';
import { type RunSettings, trainerOptions } from './settings';

/** Where training stands: enough to continue exactly (the run-directory contract's). */
export type TrainProgress = RunProgress;

/** What the CLI keeps in a checkpoint beside the trainer's state (trainer.json's `extra`). */
export interface CheckpointMeta extends RunCheckpointMeta {
  settings: RunSettings;
  progress: TrainProgress;
  /** The backend that wrote it (informational). */
  backend: string;
  createdAt: string;
}

/** A fresh model for `settings` and the Trainer that trains it. */
export function createTrainer(settings: RunSettings): Trainer {
  const model = new PixelCNN(settings.model);
  try {
    return new Trainer(model, trainerOptions(settings.train));
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Dispose a trainer and its model. */
export function disposeTrainer(trainer: Trainer): void {
  trainer.dispose();
  trainer.dist.dispose();
}

/**
 * Write `<runDir>/checkpoints/step-N/` with pixelcnn-dist's saveCheckpoint (a PixelCNN.save of
 * the model plus the trainer's whole state, atomically; the run's settings and progress in
 * trainer.json's `extra`), point latest.json at it and prune old ones. Returns its path.
 */
export async function saveRunCheckpoint(
  runDir: string,
  trainer: Trainer,
  meta: Omit<CheckpointMeta, 'createdAt'>,
  keep: number,
): Promise<string> {
  const dir = path.join(runDir, RUN_LAYOUT.checkpoints);
  const name = checkpointName(meta.progress.step);
  const full: CheckpointMeta = { ...meta, createdAt: new Date().toISOString() };
  await saveCheckpoint(path.join(dir, name), trainer, {
    extra: full as unknown as Record<string, unknown>,
  });
  writeLatest(dir, name, { step: meta.progress.step, epoch: meta.progress.epoch });
  pruneCheckpoints(dir, keep);
  return path.join(dir, name);
}

/** Read a checkpoint's meta (cheap: trainer.json only), with a clear error for 0.1 checkpoints. */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) {
    if (fs.existsSync(path.join(dir, LEGACY_CHECKPOINT_FILE)))
      throw new Error(legacyCheckpointMessage(dir));
    throw new Error(`not a checkpoint: ${dir} has no ${CHECKPOINT_FILE}`);
  }
  return parseCheckpointMeta(fs.readFileSync(file, 'utf8'), file) as CheckpointMeta;
}

/**
 * Open a checkpoint with pixelcnn-dist's loadCheckpoint: the model and its Trainer with the whole
 * state restored (training continues bit-exactly), `microBatch` (a resume may change it) applied.
 */
export async function openCheckpoint(
  dir: string,
  microBatch?: number | 'auto',
): Promise<{ meta: CheckpointMeta; trainer: Trainer }> {
  const meta = readCheckpointMeta(dir);
  const { trainer } = await loadCheckpoint(dir, {
    trainer: microBatch === undefined ? {} : { microBatchSize: microBatch },
  });
  return { meta, trainer };
}
