import {
  PIXELCNN_FORMAT,
  PIXELCNN_FORMAT_VERSION,
  type PixelCNNConfig,
} from '@pixelcnn/pixelcnn-dist';
import type * as tf from '@tensorflow/tfjs-core';

/** `format` of the trainer's `checkpoint.json` (apps/trainer/src/checkpoint.ts). */
export const TRAINER_CHECKPOINT_FORMAT = 'pixelcnn-trainer-checkpoint';

/** What a training run says about its data (the trainer's `DataSettings`). */
export interface RunDataSettings {
  /** Canonical QuickDraw class names; the model's label i is classes[i]. */
  classes: string[];
  tfdsLabels?: number[];
  /** First N rows of each class file were used (0 = all). */
  perClass?: number;
  /** Fraction of each class held out (by a hash of the row). */
  heldOut?: number;
}

/** The last held-out evaluation a checkpoint records. */
export interface LastEval {
  step: number;
  epoch: number;
  bitsPerDim: number;
  ci95: number;
  images: number;
}

/** The parts of the trainer's checkpoint `meta` the viewer reads. */
export interface TrainerCheckpointMeta {
  settings: {
    data: RunDataSettings;
    model: PixelCNNConfig;
    train?: Record<string, unknown>;
  };
  progress: { step: number; epoch: number; elapsedSeconds?: number; lastEval?: LastEval };
  backend?: string;
  createdAt?: string;
}

/** A parsed `checkpoint.json`: meta plus one tensor manifest per `<group>.bin` file. */
export interface TrainerCheckpoint {
  meta: TrainerCheckpointMeta;
  /** Tensor manifests by group ('weights', 'optimizer', 'ema'), in `<group>.bin` order. */
  tensors: Record<string, { name: string; shape: number[] }[]>;
}

/** Which weights to load: the raw ones or the trainer's Polyak average (what it samples with). */
export type WeightGroup = 'weights' | 'ema';

/** Suffix the trainer appends to the weight names in the `ema` group. */
const EMA_SUFFIX = '/ema';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Parse and check the text of a trainer `checkpoint.json`, throwing a message that says what is
 * wrong with it (not JSON, another format or version, no model settings, bad manifest).
 */
export function parseTrainerCheckpoint(
  text: string,
  source = 'checkpoint.json',
): TrainerCheckpoint {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message})`);
  }
  const f = file as Partial<{
    format: string;
    version: number;
    meta: TrainerCheckpointMeta;
    tensors: unknown;
  }>;
  if (f == null || typeof f !== 'object' || f.format !== TRAINER_CHECKPOINT_FORMAT) {
    throw new Error(
      `${source} is not a checkpoint of the trainer (format '${f?.format}', expected '${TRAINER_CHECKPOINT_FORMAT}')`,
    );
  }
  if (f.version !== 1) {
    throw new Error(`${source} has checkpoint version ${f.version}; this viewer reads version 1`);
  }
  const meta = f.meta;
  if (!meta?.settings?.model || typeof meta.settings.model !== 'object') {
    throw new Error(`${source} has no model settings (meta.settings.model)`);
  }
  if (!Array.isArray(meta.settings.data?.classes)) {
    throw new Error(`${source} has no class list (meta.settings.data.classes)`);
  }
  if (!meta.progress || typeof meta.progress.step !== 'number') {
    throw new Error(`${source} has no training progress (meta.progress.step)`);
  }
  const tensors = f.tensors as TrainerCheckpoint['tensors'];
  if (tensors == null || typeof tensors !== 'object' || !Array.isArray(tensors.weights)) {
    throw new Error(`${source} lists no weights (tensors.weights)`);
  }
  for (const [group, list] of Object.entries(tensors)) {
    if (!Array.isArray(list)) throw new Error(`${source}: tensors.${group} is not a list`);
    for (const t of list) {
      if (
        typeof t?.name !== 'string' ||
        !Array.isArray(t.shape) ||
        !t.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)
      ) {
        throw new Error(`${source}: tensors.${group} has a bad entry ${JSON.stringify(t)}`);
      }
    }
  }
  return { meta, tensors };
}

/** The weight groups a checkpoint can be loaded from, best for sampling first (EMA, then raw). */
export function availableWeightGroups(ck: TrainerCheckpoint): WeightGroup[] {
  return ck.tensors.ema?.length ? ['ema', 'weights'] : ['weights'];
}

/** Bytes `<group>.bin` must have. */
export function groupByteLength(ck: TrainerCheckpoint, group: WeightGroup): number {
  const list = ck.tensors[group];
  if (!list) throw new Error(`the checkpoint has no '${group}' tensors`);
  return 4 * list.reduce((a, t) => a + size(t.shape), 0);
}

/**
 * tfjs model artifacts in `@pixelcnn/pixelcnn-dist`'s format (for `PixelCNN.fromArtifacts`, which
 * checks the config and every weight name and shape) from a trainer checkpoint and the bytes of
 * its `<group>.bin` (little-endian float32, manifest order). EMA names lose their `/ema` suffix.
 * A file of the wrong length is reported as truncated or mismatched.
 */
export function checkpointToArtifacts(
  ck: TrainerCheckpoint,
  group: WeightGroup,
  data: ArrayBuffer,
  source = `${group}.bin`,
): tf.io.ModelArtifacts {
  const list = ck.tensors[group];
  if (!list?.length) throw new Error(`the checkpoint has no '${group}' tensors`);
  const need = groupByteLength(ck, group);
  if (data.byteLength !== need) {
    throw new Error(
      `${source} has ${data.byteLength} bytes but checkpoint.json lists ${need} ` +
        `(${data.byteLength < need ? 'truncated' : 'mismatched'} file; copied while the trainer was writing?)`,
    );
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = list.map((t) => ({
    name:
      group === 'ema' && t.name.endsWith(EMA_SUFFIX) ? t.name.slice(0, -EMA_SUFFIX.length) : t.name,
    shape: [...t.shape],
    dtype: 'float32',
  }));
  return {
    format: PIXELCNN_FORMAT,
    generatedBy: 'pixelcnn trainer checkpoint',
    convertedBy: '@pixelcnn/viewer',
    modelTopology: {
      class_name: 'PixelCNN',
      formatVersion: PIXELCNN_FORMAT_VERSION,
      config: JSON.parse(JSON.stringify(ck.meta.settings.model)),
    },
    weightSpecs,
    weightData: data,
    userDefinedMetadata: {
      initialized: true,
      metadata: { step: ck.meta.progress.step, group, classes: ck.meta.settings.data.classes },
    },
  };
}
