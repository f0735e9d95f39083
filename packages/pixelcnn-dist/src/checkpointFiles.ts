// A checkpoint without a file system: its four files as bytes (what `saveCheckpoint` writes in
// Node, what a browser zips for download), and the same checkpoint through tfjs IO handlers
// (`indexeddb://...` in a browser). One encoding, one decoding: the Node entry builds on these.
import * as tf from '@tensorflow/tfjs-core';
import { PixelCNN, resolveHandler } from './pixelCnn';
import { artifactsToModelJSON, modelJSONToArtifacts, WEIGHTS_FILE } from './serialization';
import { Trainer, type TrainerOptions } from './trainer';
import {
  decodeTrainerState,
  encodeTrainerState,
  TRAINER_BIN_FILE,
  TRAINER_JSON_FILE,
  TRAINER_STATE_FORMAT,
  type TrainerSnapshot,
  type TrainerStateJSON,
} from './trainerState';

/** The model's file in a save or checkpoint directory (its weights: {@link WEIGHTS_FILE}). */
export const MODEL_JSON_FILE = 'model.json';

/**
 * The files of a checkpoint directory, by name, byte for byte as `saveCheckpoint` writes them:
 * a `PixelCNN.save` (model.json + weights.bin) and the trainer's state (trainer.json +
 * trainer.bin). Write them into one directory and `loadCheckpoint(dir)`, `PixelCNN.load` and the
 * `pixelcnn` CLI open it.
 */
export interface CheckpointFiles {
  'model.json': string;
  'weights.bin': Uint8Array;
  'trainer.json': string;
  'trainer.bin': Uint8Array;
}

/** The file names of a checkpoint directory, in the order `saveCheckpoint` writes them. */
export const CHECKPOINT_FILE_NAMES = [
  MODEL_JSON_FILE,
  WEIGHTS_FILE,
  TRAINER_BIN_FILE,
  TRAINER_JSON_FILE,
] as const satisfies readonly (keyof CheckpointFiles)[];

/** What opening a checkpoint gives: the model, its trainer with the state restored, `extra`. */
export interface OpenedCheckpoint {
  model: PixelCNN;
  trainer: Trainer;
  extra: Record<string, unknown>;
}

/**
 * A trainer's model and whole training state as the files of a checkpoint directory
 * ({@link CheckpointFiles}); `extra` goes into trainer.json as is. Reads tensors asynchronously.
 */
export async function encodeCheckpoint(
  trainer: Trainer,
  o: { extra?: Record<string, unknown> } = {},
): Promise<CheckpointFiles> {
  const snapshot = await trainer.exportState();
  const { json, bin } = encodeTrainerState(snapshot, o.extra);
  const artifacts = await trainer.dist.toArtifacts();
  return {
    'model.json': JSON.stringify(artifactsToModelJSON(artifacts, WEIGHTS_FILE)),
    'weights.bin': new Uint8Array(artifacts.weightData as ArrayBuffer),
    'trainer.json': `${JSON.stringify(json, null, 2)}\n`,
    'trainer.bin': bin,
  };
}

/**
 * A {@link Trainer} on `model` made with the options a snapshot recorded (`over` replaces any of
 * them; a `learningRate` or `seed` there also replaces the saved base learning rate and dropout
 * seed), its state restored so training continues bit-exactly. Disposes nothing on failure but
 * the trainer it made.
 */
async function restoreTrainer(
  fn: string,
  model: PixelCNN,
  snapshot: TrainerSnapshot,
  over: TrainerOptions = {},
): Promise<Trainer> {
  const saved = snapshot.options;
  const options: TrainerOptions = {
    learningRate: snapshot.baseLearningRate,
    microBatchSize: saved.microBatchSize,
    recomputeBlocks: saved.recomputeBlocks,
    emaDecay: saved.emaDecay,
    clipGradNorm: saved.clipGradNorm,
    seed: snapshot.seed,
    validate: saved.validate,
  };
  if (over.schedule === undefined && over.lrDecay === undefined) {
    if (saved.schedule.kind === 'custom') {
      throw new Error(
        `Error in ${fn}: the checkpoint's learning-rate schedule was a function, which cannot be saved: pass it again, ${fn}(dir, { trainer: { schedule } })`,
      );
    }
    options.schedule = saved.schedule;
  }
  const { className, config } = snapshot.optimizer;
  if (over.optimizer === undefined) {
    if (className === 'Adam') {
      // the trainer makes (and owns) its Adam, with the saved betas and epsilon
      options.beta1 = config.beta1 as number;
      options.beta2 = config.beta2 as number;
      options.epsilon = config.epsilon as number;
    } else {
      const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
      if (!entry) {
        throw new Error(
          `Error in ${fn}: the checkpoint's optimizer '${className}' is not a registered tfjs class: pass one, ${fn}(dir, { trainer: { optimizer } })`,
        );
      }
      options.optimizer = entry[1](entry[0], config as tf.serialization.ConfigDict) as tf.Optimizer;
      options.disposeOptimizer = true;
    }
  }
  const trainer = new Trainer(model, { ...options, ...over });
  try {
    await trainer.importState({
      ...snapshot,
      baseLearningRate: over.learningRate ?? snapshot.baseLearningRate,
      seed: over.seed ?? snapshot.seed,
    });
    return trainer;
  } catch (e) {
    trainer.dispose();
    throw e;
  }
}

/**
 * A checkpoint's model and its trainer: `load()` makes the model (a failure becomes `Error in
 * <fn>: cannot load the model of <where>: ...`), then {@link restoreTrainer} puts the trainer on
 * it; the model is disposed when that fails.
 */
export async function openModelAndTrainer(
  fn: string,
  where: string,
  load: () => PixelCNN | Promise<PixelCNN>,
  snapshot: TrainerSnapshot,
  over?: TrainerOptions,
): Promise<{ model: PixelCNN; trainer: Trainer }> {
  let model: PixelCNN;
  try {
    model = await load();
  } catch (e) {
    throw new Error(`Error in ${fn}: cannot load the model of ${where}: ${(e as Error).message}`);
  }
  try {
    return { model, trainer: await restoreTrainer(fn, model, snapshot, over) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

const arrayBufferOf = (b: Uint8Array): ArrayBuffer =>
  b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
    ? (b.buffer as ArrayBuffer)
    : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);

/**
 * Open a checkpoint from its files ({@link CheckpointFiles}, e.g. unzipped in a browser): the
 * model (as `PixelCNN.load` would), a {@link Trainer} with the state restored, and `extra`. Every
 * file is checked first (JSON, sizes, CRC-32, config); errors name the file, prefixed with
 * `where` (a directory or URL). `o.trainer` overrides saved trainer options.
 */
export async function decodeCheckpoint(
  files: CheckpointFiles,
  o: { trainer?: TrainerOptions; where?: string; fn?: string } = {},
): Promise<OpenedCheckpoint> {
  const fn = o.fn ?? 'decodeCheckpoint';
  const at = (name: string) => (o.where ? `${o.where}/${name}` : name);
  const { snapshot, extra } = decodeTrainerState(files['trainer.json'], files['trainer.bin'], {
    fn,
    jsonName: at(TRAINER_JSON_FILE),
    binName: at(TRAINER_BIN_FILE),
  });
  const load = () =>
    PixelCNN.fromArtifacts(
      modelJSONToArtifacts(fn, files['model.json'], arrayBufferOf(files['weights.bin'])),
    );
  const where = o.where ?? 'the checkpoint';
  return { ...(await openModelAndTrainer(fn, where, load, snapshot, o.trainer)), extra };
}

// ------------------------------------------------------------------ through tfjs IO handlers

/** Appended to a checkpoint's URL for its trainer state (`indexeddb://run` -> `indexeddb://run/trainer`). */
export const TRAINER_STATE_URL_SUFFIX = '/trainer';

/** Where a checkpoint goes through tfjs IO handlers: the model's, and the trainer state's. */
export interface CheckpointHandlers {
  model: tf.io.IOHandler;
  state: tf.io.IOHandler;
}

/** The model's and the trainer state's URLs of a checkpoint at `url`, e.g. to remove them. */
export function checkpointUrls(url: string): { model: string; state: string } {
  return { model: url, state: `${url}${TRAINER_STATE_URL_SUFFIX}` };
}

function handlersFor(kind: 'save' | 'load', target: string | CheckpointHandlers) {
  if (typeof target !== 'string') return target;
  const urls = checkpointUrls(target);
  return { model: resolveHandler(kind, urls.model), state: resolveHandler(kind, urls.state) };
}

/**
 * Save a checkpoint through tfjs IO handlers, e.g. `saveCheckpointTo('indexeddb://my-run',
 * trainer)` in a browser: the model exactly as `PixelCNN.save` stores it at the URL, and the
 * trainer state as a second record at `<url>/trainer` (artifacts whose `modelTopology` is
 * trainer.json and whose weight data is trainer.bin, the same content as the files). The state
 * records the CRC-32 of the model's weights, so {@link loadCheckpointFrom} refuses a pair from
 * two different saves (one cut off between its two writes).
 */
export async function saveCheckpointTo(
  target: string | CheckpointHandlers,
  trainer: Trainer,
  o: { extra?: Record<string, unknown> } = {},
): Promise<void> {
  const fn = 'saveCheckpointTo';
  const h = handlersFor('save', target);
  if (!h.model.save || !h.state.save)
    throw new Error(`Error in ${fn}: these IO handlers cannot save`);
  const { json, bin } = encodeTrainerState(await trainer.exportState(), o.extra);
  const model = await trainer.dist.toArtifacts();
  const weightsCrc32 = (model.userDefinedMetadata as { weightsCrc32: number }).weightsCrc32;
  await h.model.save(model);
  await h.state.save({
    format: TRAINER_STATE_FORMAT,
    generatedBy: '@pixelcnn/pixelcnn-dist saveCheckpointTo',
    modelTopology: json as unknown as Record<string, unknown>,
    weightSpecs: [],
    weightData: arrayBufferOf(bin),
    userDefinedMetadata: { modelWeightsCrc32: weightsCrc32 },
  });
}

/**
 * Open a checkpoint saved by {@link saveCheckpointTo} (a URL such as `indexeddb://my-run`, or the
 * two handlers): the model, its trainer with the state restored, and `extra`, as
 * `loadCheckpoint` gives for a directory. Refuses, naming the URL, a missing record, a corrupt
 * one, or a model and state from different saves.
 */
export async function loadCheckpointFrom(
  target: string | CheckpointHandlers,
  o: { trainer?: TrainerOptions } = {},
): Promise<OpenedCheckpoint> {
  const fn = 'loadCheckpointFrom';
  const where = typeof target === 'string' ? target : 'the checkpoint';
  const h = handlersFor('load', target);
  if (!h.model.load || !h.state.load)
    throw new Error(`Error in ${fn}: these IO handlers cannot load`);
  const read = async (handler: tf.io.IOHandler, what: string) => {
    try {
      return await handler.load!();
    } catch (e) {
      throw new Error(
        `Error in ${fn}: cannot read the ${what} of ${where}: ${(e as Error).message}`,
      );
    }
  };
  const stateArtifacts = await read(h.state, 'trainer state');
  const modelArtifacts = await read(h.model, 'model');
  if (stateArtifacts.format !== TRAINER_STATE_FORMAT) {
    throw new Error(
      `Error in ${fn}: the trainer state of ${where} has format '${stateArtifacts.format}', expected '${TRAINER_STATE_FORMAT}'`,
    );
  }
  const paired = (stateArtifacts.userDefinedMetadata as { modelWeightsCrc32?: number } | undefined)
    ?.modelWeightsCrc32;
  const actual = (modelArtifacts.userDefinedMetadata as { weightsCrc32?: number } | undefined)
    ?.weightsCrc32;
  if (paired === undefined || paired !== actual) {
    throw new Error(
      `Error in ${fn}: the model and the trainer state of ${where} are from different saves (a save was cut off between them); open another checkpoint, or the model alone with PixelCNN.load`,
    );
  }
  const data = stateArtifacts.weightData;
  const bin = new Uint8Array(
    data === undefined
      ? new ArrayBuffer(0)
      : Array.isArray(data)
        ? tf.io.CompositeArrayBuffer.join(data)
        : data,
  );
  const { snapshot, extra } = decodeTrainerState(
    stateArtifacts.modelTopology as unknown as TrainerStateJSON,
    bin,
    {
      fn,
      jsonName: `${where}${TRAINER_STATE_URL_SUFFIX} (trainer.json)`,
      binName: `${where}${TRAINER_STATE_URL_SUFFIX} (trainer.bin)`,
    },
  );
  const load = () => PixelCNN.fromArtifacts(modelArtifacts);
  return { ...(await openModelAndTrainer(fn, where, load, snapshot, o.trainer)), extra };
}
