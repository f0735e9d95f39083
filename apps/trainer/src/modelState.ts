import path from 'node:path';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import { checkpointName, RUN_LAYOUT } from '@pixelcnn/pixelcnn-dist/run';
import * as tf from '@tensorflow/tfjs-core';
import {
  pruneCheckpoints,
  readCheckpoint,
  type TensorEntry,
  writeCheckpoint,
  writeLatest,
} from './checkpoint';
import { Adam, WeightAverage } from './optimizer';
import type { RunSettings } from './settings';

/** Where training stands: enough to continue exactly. */
export interface TrainProgress {
  /** Optimizer steps done. */
  step: number;
  /** 0-based epoch in progress (or about to start). */
  epoch: number;
  /** Batches of `epoch` already consumed (the data cursor; the order is a function of seed and epoch). */
  batchInEpoch: number;
  /** Training wall time so far, over all resumed runs. */
  elapsedSeconds: number;
  /** The last held-out evaluation. */
  lastEval?: { step: number; epoch: number; bitsPerDim: number; ci95: number; images: number };
}

/** checkpoint.json's `meta`. */
export interface CheckpointMeta {
  settings: RunSettings;
  progress: TrainProgress;
  /** The backend that wrote it (informational). */
  backend: string;
  createdAt: string;
}

/** A model with its optimizer and weight average. */
export interface ModelState {
  model: PixelCNN;
  names: string[];
  adam: Adam;
  ema?: WeightAverage;
  dispose(): void;
}

/** Build the model, Adam and (if enabled) the weight average for `settings`. */
export function createModelState(settings: RunSettings): ModelState {
  const model = new PixelCNN(settings.model);
  const named = model.namedVariables();
  const vars = named.map((n) => n.variable);
  const adam = new Adam(vars, settings.train);
  const ema = settings.train.ema > 0 ? new WeightAverage(vars, settings.train.ema) : undefined;
  return {
    model,
    names: named.map((n) => n.name),
    adam,
    ema,
    dispose() {
      ema?.dispose();
      adam.dispose();
      model.dispose();
    },
  };
}

function weightEntries(state: ModelState): TensorEntry[] {
  return state.model.namedVariables().map((n) => ({
    name: n.name,
    shape: [...n.variable.shape],
    data: n.variable.dataSync() as Float32Array,
  }));
}

/**
 * Write `<runDir>/checkpoints/step-N/` atomically (weights, Adam moments, weight average,
 * settings and progress), point `latest.json` at it and prune old ones. Returns its path.
 */
export function saveCheckpoint(
  runDir: string,
  state: ModelState,
  meta: Omit<CheckpointMeta, 'createdAt'>,
  keep: number,
): string {
  const dir = path.join(runDir, RUN_LAYOUT.checkpoints);
  const name = checkpointName(meta.progress.step);
  const groups: Record<string, TensorEntry[]> = {
    weights: weightEntries(state),
    optimizer: state.adam.exportState(state.names),
  };
  if (state.ema) groups.ema = state.ema.exportState(state.names);
  const full: CheckpointMeta = { ...meta, createdAt: new Date().toISOString() };
  writeCheckpoint(path.join(dir, name), full, groups);
  writeLatest(dir, name, { step: meta.progress.step, epoch: meta.progress.epoch });
  pruneCheckpoints(dir, keep);
  return path.join(dir, name);
}

/** Read a checkpoint's meta (cheap: no tensors). */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  const { meta } = readCheckpoint<CheckpointMeta>(dir);
  if (!meta?.settings?.model || !meta.progress) {
    throw new Error(`not a training checkpoint: ${dir} has no settings/progress`);
  }
  return meta;
}

function assignEntries(
  fn: string,
  entries: readonly TensorEntry[],
  names: string[],
  vars: tf.Variable[],
): void {
  if (entries.length !== vars.length) {
    throw new Error(
      `${fn}: the checkpoint has ${entries.length} weights, the model ${vars.length} (a checkpoint from another configuration?)`,
    );
  }
  entries.forEach((e, i) => {
    if (e.name !== names[i] || e.shape.join(',') !== vars[i].shape.join(',')) {
      throw new Error(
        `${fn}: checkpoint weight ${i} is '${e.name}' [${e.shape}], the model's is '${names[i]}' [${vars[i].shape}] (a checkpoint from another configuration?)`,
      );
    }
  });
  entries.forEach((e, i) => {
    tf.tidy(() => vars[i].assign(tf.tensor(e.data, e.shape, 'float32')));
  });
}

/**
 * Load a checkpoint into a fresh model state built from its own settings, checking that every
 * tensor matches the network those settings make.
 */
export function loadCheckpoint(dir: string): { meta: CheckpointMeta; state: ModelState } {
  const { meta, groups } = readCheckpoint<CheckpointMeta>(dir);
  if (!meta?.settings?.model || !meta.progress) {
    throw new Error(`not a training checkpoint: ${dir} has no settings/progress`);
  }
  const state = createModelState(meta.settings);
  try {
    const vars = state.model.trainableVariables;
    assignEntries(`checkpoint ${dir}`, groups.weights ?? [], state.names, vars);
    state.model.markInitialized();
    state.adam.importState(groups.optimizer ?? [], meta.progress.step);
    if (state.ema) {
      if (!groups.ema)
        throw new Error(`checkpoint ${dir}: settings ask for an EMA but ema.bin is missing`);
      state.ema.importState(groups.ema);
    }
    return { meta, state };
  } catch (e) {
    state.dispose();
    throw e;
  }
}
