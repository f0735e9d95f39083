// The run settings of `pixelcnn train`, as far as they need no file system: their types, the
// builders from option values (the option schema says where each option lands), and the Trainer
// options they imply (the training loop and its epoch rules are pixelcnn-dist's trainLoop). Browser-safe (no node: import), so a page builds runs the
// CLI continues (see settingsEntry.ts); settings.ts adds what needs paths and checkpoints.
import type { LearningRateSchedule, PixelCNNConfig, TrainerOptions } from '@pixelcnn/pixelcnn-dist';
import {
  classLabel,
  closestClassNames,
  isClassName,
  resolveClassName,
} from '@pixelcnn/quickdraw-data';
import { camelCase, type OptionValue, UsageError } from './args';
import { landsAt, PRESETS, trainOptions } from './options';

/** Which images a run uses: QuickDraw classes, or an `--images` array. */
export interface DataSettings {
  /**
   * Class names by label: canonical QuickDraw names (the model's label i is classes[i]), or the
   * names of an `--images` run's labels (empty without labels).
   */
  classes: string[];
  /** TFDS `quickdraw_bitmap` label of each class (QuickDraw runs). */
  tfdsLabels: number[];
  /** First N rows of each class file (0 = all; QuickDraw runs). */
  perClass: number;
  /** Fraction held out (by row hash). */
  heldOut: number;
  /** `--images` runs: the absolute path of the uint8 [N, H, W(, C)] .npy array ... */
  images?: string;
  /** ... and of its integer labels [N]. */
  labels?: string;
}

/**
 * How a run trains: the options pixelcnn-dist's Trainer gets ({@link trainerOptions}), and its
 * trainLoop plan (batchSize, epochs, steps, seed, evalImages, evalBatch: a `TrainingPlan`).
 */
export interface TrainSettings {
  learningRate: number;
  /** Adam's. */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Multiply the learning rate by this every step (PixelCNN++: 0.999995; 1 = constant). */
  lrDecay: number;
  /** Linear warm-up of the learning rate over this many steps (0 = none). */
  warmupSteps: number;
  /** Clip gradients to this global L2 norm (0 = no clipping). */
  gradClipNorm: number;
  batchSize: number;
  /** 0 = whole batch. */
  microBatch: number;
  epochs: number;
  /** Total optimizer steps; null = epochs x steps per epoch. */
  steps: number | null;
  /** 0 = no weight averaging. */
  ema: number;
  seed: number;
  evalImages: number;
  evalBatch: number;
  checkpointEvery: number;
  keepCheckpoints: number;
}

/** Everything that defines a run; saved in every checkpoint. */
export interface RunSettings {
  data: DataSettings;
  model: PixelCNNConfig & { imageShape: [number, number, number] };
  train: TrainSettings;
}

/** Parsed option values with a preset's values under the explicit ones. */
export function applyPreset(
  values: Record<string, OptionValue>,
  explicit: ReadonlySet<string>,
  preset: string | undefined,
): Record<string, OptionValue> {
  if (!preset) return values;
  const p = PRESETS[preset];
  if (!p)
    throw new UsageError(`unknown preset '${preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
  const out = { ...values };
  for (const [k, v] of Object.entries(p)) {
    if (!explicit.has(k)) out[k] = (Array.isArray(v) ? [...v] : v) as OptionValue;
  }
  return out;
}

/**
 * The fields of one settings section that the train options set directly, from the schema
 * (options.ts `lands`): option value, or null for an absent option without a default.
 */
export function landed(
  section: keyof RunSettings,
  v: Record<string, OptionValue>,
): Record<string, OptionValue | null> {
  const out: Record<string, OptionValue | null> = {};
  for (const spec of trainOptions) {
    for (const path of landsAt(spec)) {
      const [sec, key] = path.split('.');
      if (sec === section) out[key] = v[camelCase(spec.name)] ?? null;
    }
  }
  return out;
}

/**
 * The PixelCNN config for the option values and the data: images of `imageShape`, labels one-hot
 * over `numClasses` (0 = no labels: unconditional). One class is unconditional too: a label that
 * never varies carries no information (and tfjs's oneHot refuses a depth of 1).
 */
export function modelConfigFrom(
  v: Record<string, OptionValue>,
  numClasses: number,
  imageShape: readonly [number, number, number],
): RunSettings['model'] {
  const rf = v.receptiveFieldDims as number[];
  if (rf.length !== 2) {
    throw new UsageError(`option --receptive-field-dims: expected ROWS,COLS, got ${rf.join(',')}`);
  }
  const hier = v.numHierarchies as number;
  const factor = 2 ** (hier - 1);
  const [H, W] = imageShape;
  if (H % factor !== 0 || W % factor !== 0) {
    let fits = 1;
    while (H % 2 ** fits === 0 && W % 2 ** fits === 0) fits++;
    throw new UsageError(
      `option --num-hierarchies ${hier}: ${H}x${W} images need sides divisible by 2^(numHierarchies-1) = ${factor}; use 1${fits > 1 ? ` to ${fits}` : ''}`,
    );
  }
  const conditional = v.conditional === true && numClasses > 1;
  return {
    ...(landed('model', v) as unknown as RunSettings['model']),
    imageShape: [imageShape[0], imageShape[1], imageShape[2]],
    conditionalShape: conditional ? [] : null,
    numClasses: conditional ? numClasses : 0,
    receptiveFieldDims: [rf[0], rf[1]],
    low: 0,
  };
}

export function trainSettingsFrom(v: Record<string, OptionValue>): TrainSettings {
  const train = landed('train', v) as unknown as TrainSettings;
  if (train.microBatch > train.batchSize) {
    throw new UsageError(
      `option --micro-batch ${train.microBatch} is larger than --batch-size ${train.batchSize}`,
    );
  }
  return train;
}

/** Canonical class names for a list of names or TFDS labels; unknown names fail with suggestions. */
export function resolveClasses(list: readonly string[]): {
  classes: string[];
  tfdsLabels: number[];
} {
  if (list.length === 0) throw new UsageError('option --classes: give at least one class');
  const classes: string[] = [];
  for (const item of list) {
    let name: string;
    if (/^\d+$/.test(item)) {
      try {
        name = resolveClassName(Number(item));
      } catch {
        throw new UsageError(`option --classes: ${item} is not a TFDS label (0..344)`);
      }
    } else if (isClassName(item)) {
      name = resolveClassName(item);
    } else {
      throw new UsageError(
        `option --classes: '${item}' is not a QuickDraw class; did you mean ${closestClassNames(
          item,
          3,
        )
          .map((n) => `'${n}'`)
          .join(', ')}?`,
      );
    }
    if (classes.includes(name)) throw new UsageError(`option --classes: '${name}' is given twice`);
    classes.push(name);
  }
  return { classes, tfdsLabels: classes.map((c) => classLabel(c)) };
}

/** The learning-rate schedule of --lr-decay and --warmup-steps, in pixelcnn-dist's terms. */
export function scheduleOf(t: TrainSettings): LearningRateSchedule {
  const decay: LearningRateSchedule =
    t.lrDecay === 1 ? { kind: 'constant' } : { kind: 'exponential', decay: t.lrDecay };
  if (t.warmupSteps === 0) return decay;
  // biome-ignore lint/suspicious/noThenProperty: pixelcnn-dist's warm-up names its follow-up schedule `then`
  return { kind: 'warmup', steps: t.warmupSteps, then: decay };
}

/**
 * pixelcnn-dist's Trainer options for a run's training settings. --micro-batch 0 is the
 * Trainer's 'auto': the largest micro-batch that fits the memory (the wasm heap), by its estimate.
 */
export function trainerOptions(t: TrainSettings): TrainerOptions {
  return {
    learningRate: t.learningRate,
    beta1: t.beta1,
    beta2: t.beta2,
    epsilon: t.epsilon,
    schedule: scheduleOf(t),
    microBatchSize: t.microBatch || 'auto',
    emaDecay: t.ema,
    clipGradNorm: t.gradClipNorm > 0 ? t.gradClipNorm : undefined,
    seed: t.seed,
    // the CLI feeds requantised bytes and its own labels: nothing to check each step
    validate: false,
  };
}
