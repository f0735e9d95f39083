import fs from 'node:fs/promises';
import path from 'node:path';
import { writeDirAtomic } from '@pixelcnn/node-fs';
import {
  encodeCheckpoint,
  MODEL_JSON_FILE,
  type OpenedCheckpoint,
  openModelAndTrainer,
} from './checkpointFiles';
import { nodeFileIO } from './nodeFileIO';
import { PixelCNN } from './pixelCnn';
import { checkArtifacts } from './serialization';
import type { Trainer, TrainerOptions } from './trainer';
import { decodeTrainerState, TRAINER_BIN_FILE, TRAINER_JSON_FILE } from './trainerState';

/**
 * Save a trainer's model and whole training state into the directory `dir`: `model.json` +
 * `weights.bin` exactly as `trainer.dist.save(nodeFileIO(dir))` writes them (so
 * `PixelCNN.load(nodeFileIO(dir))` opens it), plus `trainer.json` + `trainer.bin` (the
 * {@link TrainerSnapshot}; `extra` is stored in trainer.json as is): the bytes of
 * {@link encodeCheckpoint}. Atomic (`writeDirAtomic` of @pixelcnn/node-fs): everything is written
 * and flushed into a temporary sibling directory that is then renamed to `dir` (replacing an older
 * `dir`), so a crash leaves the old checkpoint or the new one, never a half-written one (at worst
 * a stray `dir.tmp-*` / `dir.old-*` sibling).
 */
export async function saveCheckpoint(
  dir: string,
  trainer: Trainer,
  o: { extra?: Record<string, unknown> } = {},
): Promise<void> {
  await writeDirAtomic(dir, await encodeCheckpoint(trainer, o));
}

/** Read and check a checkpoint's training state (no tensors): what loadCheckpoint decodes first. */
async function readTrainerFiles(dir: string, fn: string) {
  const jsonPath = path.join(dir, TRAINER_JSON_FILE);
  const binPath = path.join(dir, TRAINER_BIN_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const hasModel = await fs.access(path.join(dir, MODEL_JSON_FILE)).then(
      () => true,
      () => false,
    );
    throw new Error(
      hasModel
        ? `Error in ${fn}: ${jsonPath} is missing: ${dir} is a model save without training state (open the model with PixelCNN.load(nodeFileIO(dir)); saveCheckpoint(dir, trainer) writes both)`
        : `Error in ${fn}: ${dir} is not a checkpoint: cannot read ${jsonPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); saveCheckpoint(dir, trainer) writes one`,
    );
  }
  let bin: Uint8Array;
  try {
    bin = new Uint8Array(await fs.readFile(binPath));
  } catch (e) {
    throw new Error(
      `Error in ${fn}: cannot read ${binPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): an incomplete checkpoint; resume from another one`,
    );
  }
  const { snapshot, extra } = decodeTrainerState(text, bin, {
    fn,
    jsonName: jsonPath,
    binName: binPath,
  });
  return { snapshot, extra };
}

/**
 * Check that `dir` is a whole, uncorrupted checkpoint without building the model: reads and
 * decodes trainer.json/.bin and model.json/weights.bin (sizes, checksums, config), throwing the
 * error {@link loadCheckpoint} would. Cheap next to a load, and needs no backend: no tensors.
 */
export async function verifyCheckpoint(dir: string): Promise<void> {
  const fn = 'verifyCheckpoint';
  await readTrainerFiles(dir, fn);
  try {
    checkArtifacts(fn, await nodeFileIO(dir).load());
  } catch (e) {
    throw new Error(`Error in ${fn}: cannot load the model of ${dir}: ${(e as Error).message}`);
  }
}

/**
 * Open a checkpoint directory written by {@link saveCheckpoint}: the model (as `PixelCNN.load`),
 * a {@link Trainer} on it with the state restored (training continues bit-exactly), and the
 * `extra` saved with it. The trainer is made with the options stored in trainer.json;
 * `o.trainer` overrides any of them (`learningRate` and `seed` then also replace the saved base
 * learning rate and dropout seed). A schedule that was a function must be passed again. The
 * caller disposes the trainer and the model.
 */
export async function loadCheckpoint(
  dir: string,
  o: { trainer?: TrainerOptions } = {},
): Promise<OpenedCheckpoint> {
  const fn = 'loadCheckpoint';
  const { snapshot, extra } = await readTrainerFiles(dir, fn);
  const load = () => PixelCNN.load(nodeFileIO(dir));
  return { ...(await openModelAndTrainer(fn, dir, load, snapshot, o.trainer)), extra };
}
