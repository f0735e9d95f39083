import { PIXELCNN_FORMAT, PIXELCNN_FORMAT_VERSION } from '@pixelcnn/pixelcnn-dist';
import {
  CHECKPOINT_FILE,
  CHECKPOINT_FORMAT,
  type CheckpointMeta,
  checkCheckpointMeta,
} from '@pixelcnn/pixelcnn-dist/run';
import type * as tf from '@tensorflow/tfjs-core';

/** A parsed `checkpoint.json`: meta plus one tensor manifest per `<group>.bin` file. */
export interface TrainerCheckpoint {
  meta: CheckpointMeta;
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
export function parseTrainerCheckpoint(text: string, source = CHECKPOINT_FILE): TrainerCheckpoint {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message})`);
  }
  const f = file as Partial<{
    format: string;
    version: number;
    meta: unknown;
    tensors: unknown;
  }>;
  if (f == null || typeof f !== 'object' || f.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${source} is not a checkpoint of the trainer (format '${f?.format}', expected '${CHECKPOINT_FORMAT}')`,
    );
  }
  if (f.version !== 1) {
    throw new Error(`${source} has checkpoint version ${f.version}; this viewer reads version 1`);
  }
  const meta = checkCheckpointMeta(f.meta, source);
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
