import path from 'node:path';
import {
  backendMemoryLimit,
  fitMicroBatch,
  type PixelCNN,
  type PixelCNNConfig,
} from '@pixelcnn/pixelcnn-dist';
import { camelCase, type OptionValue, UsageError } from './args';
import { resolveClasses } from './data';
import { landsAt, PRESETS, type SettingPath, trainOptions } from './options';

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

/** How a run trains (the options pixelcnn-dist's Trainer gets: see modelState.trainerOptions). */
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

/** The value at a settings path, e.g. 'model.numFilters'. */
function getAt(s: RunSettings, path: SettingPath): unknown {
  const [section, key] = path.split('.') as [keyof RunSettings, string];
  return (s[section] as unknown as Record<string, unknown>)[key];
}

/**
 * The fields of one settings section that the train options set directly, from the schema
 * (options.ts `lands`): option value, or null for an absent option without a default.
 */
function landed(
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

/**
 * The data settings the options ask for: QuickDraw classes (names or TFDS labels, made canonical),
 * or with `--images` a .npy array (and `--labels`, paths made absolute), whose class names
 * `--classes` may give.
 */
export function dataSettingsFrom(
  v: Record<string, OptionValue>,
  explicit: ReadonlySet<string>,
  cwd: string,
): DataSettings {
  // images and labels are null when not given.
  const { classes, perClass, heldOut, images, labels } = landed(
    'data',
    v,
  ) as unknown as DataSettings;
  if (!images) {
    if (labels) throw new UsageError('option --labels needs --images (the images they label)');
    return { ...resolveClasses(classes), perClass, heldOut };
  }
  for (const quickdrawOnly of ['perClass', 'data', 'cacheDir'] as const) {
    if (explicit.has(quickdrawOnly)) {
      const name = quickdrawOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      throw new UsageError(
        `option --${name} is for QuickDraw data; with --images every image of the array is used (slice it in numpy to use fewer)`,
      );
    }
  }
  if (explicit.has('classes') && !labels) {
    throw new UsageError('option --classes names the classes of --labels; give --labels too');
  }
  return {
    classes: explicit.has('classes') ? [...classes] : [],
    tfdsLabels: [],
    perClass: 0,
    heldOut,
    images: path.resolve(cwd, images),
    ...(labels ? { labels: path.resolve(cwd, labels) } : {}),
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

/** Options that define what a checkpoint is: on --resume they must match it (or be left out). */
const FROZEN = trainOptions
  .filter((spec) => spec.resume === 'frozen')
  .map((spec) => {
    const path = landsAt(spec)[0];
    const read = spec.read ?? ((x: unknown) => x);
    return {
      option: spec.name,
      key: camelCase(spec.name),
      get: (s: RunSettings) => read(getAt(s, path)),
    };
  });

/** Options a resumed run may change (the rest come from the checkpoint). */
const MUTABLE = trainOptions
  .filter((spec) => spec.resume === 'mutable')
  .map((spec) => ({ key: camelCase(spec.name), field: landsAt(spec)[0].split('.')[1] }));

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/**
 * Settings for a resumed run: the checkpoint's, with the options a resume may change taken from
 * the command line. An explicit option that contradicts the checkpoint (another model, other
 * data, another optimizer) is an error naming every difference.
 */
export function resumeSettings(
  saved: RunSettings,
  requested: RunSettings,
  explicit: ReadonlySet<string>,
  values: Record<string, OptionValue>,
  checkpointDir: string,
): RunSettings {
  const diffs: string[] = [];
  for (const f of FROZEN) {
    if (!explicit.has(f.key)) continue;
    const want = f.get(requested);
    const have = f.get(saved);
    if (!same(want, have)) diffs.push(`--${f.option} ${show(want)} (checkpoint: ${show(have)})`);
  }
  if (explicit.has('preset')) {
    // A preset changes many options at once; only accept it when it agrees with the checkpoint.
    for (const f of FROZEN) {
      if (explicit.has(f.key)) continue;
      const want = f.get(requested);
      const have = f.get(saved);
      if (!same(want, have))
        diffs.push(
          `--preset ${values.preset} sets --${f.option} ${show(want)} (checkpoint: ${show(have)})`,
        );
    }
  }
  if (diffs.length) {
    throw new UsageError(
      `the checkpoint ${checkpointDir} was made with another configuration:\n  ${diffs.join('\n  ')}\n` +
        'drop these options to continue it, or start a new run in another --out directory',
    );
  }
  const train = { ...saved.train };
  const fields = train as unknown as Record<string, OptionValue>;
  for (const m of MUTABLE) if (explicit.has(m.key)) fields[m.field] = values[m.key];
  if (explicit.has('epochs') && !explicit.has('steps')) train.steps = null;
  return { data: saved.data, model: saved.model, train };
}
/**
 * On wasm, refuse before any work a training step that cannot fit the 4 GiB heap (running out of
 * it aborts the process), by pixelcnn-dist's `fitMicroBatch` (the Trainer's own check): an
 * explicit --micro-batch too large (naming the one that fits), or a network too big for even one
 * image. --micro-batch 0 is the Trainer's 'auto', the largest that fits. Other backends have no
 * known limit (`backendMemoryLimit`).
 */
export function checkMicroBatchFits(
  dist: Pick<PixelCNN, 'plan' | 'numParameters'>,
  requested: number,
  backend: string,
): void {
  const { plan, numParameters } = dist;
  const { fits, bytes, largest } = fitMicroBatch(
    plan,
    numParameters,
    Math.max(requested, 1),
    requested || 'auto',
    backendMemoryLimit(backend),
  );
  if (fits) return;
  const gib = `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  throw new UsageError(
    largest === 0
      ? `this network needs about ${gib} for a training step on one image, more than the wasm heap's 4 GiB: use fewer --num-filters, --num-resnet or --num-hierarchies, or --backend webgpu`
      : `option --micro-batch ${requested}: a training step on ${requested} images needs about ${gib}, more than the wasm heap's 4 GiB; the largest micro-batch that fits is ${largest}: use --micro-batch ${largest} (or 0 = auto)`,
  );
}
