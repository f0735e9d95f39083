import {
  estimateTrainingMemory,
  largestFittingMicroBatch,
  type PixelCNN,
  type PixelCNNConfig,
} from '@pixelcnn/pixelcnn-dist';
import type { OptionValue } from './args';
import { UsageError } from './args';
import { PRESETS } from './options';

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
  const conditional = (v.conditional as boolean) && numClasses > 1;
  return {
    imageShape: [imageShape[0], imageShape[1], imageShape[2]],
    conditionalShape: conditional ? [] : null,
    numClasses: conditional ? numClasses : 0,
    numResnet: v.numResnet as number,
    numHierarchies: hier,
    numFilters: v.numFilters as number,
    numLogisticMix: v.numLogisticMix as number,
    receptiveFieldDims: [rf[0], rf[1]],
    dropoutP: v.dropout as number,
    resnetActivation: v.activation as 'concat_elu' | 'elu' | 'relu',
    useWeightNorm: v.weightNorm as boolean,
    useDataInit: v.dataInit as boolean,
    high: v.high as number,
    low: 0,
    seed: v.seed as number,
    convention: v.convention as 'tfp' | 'pixelcnnpp',
    constantChannel: v.constantChannel as boolean,
  };
}

export function trainSettingsFrom(v: Record<string, OptionValue>): TrainSettings {
  const micro = v.microBatch as number;
  const batch = v.batchSize as number;
  if (micro > batch) {
    throw new UsageError(`option --micro-batch ${micro} is larger than --batch-size ${batch}`);
  }
  return {
    batchSize: batch,
    microBatch: micro,
    epochs: v.epochs as number,
    steps: (v.steps as number | undefined) ?? null,
    learningRate: v.lr as number,
    lrDecay: v.lrDecay as number,
    warmupSteps: v.warmupSteps as number,
    beta1: v.beta1 as number,
    beta2: v.beta2 as number,
    epsilon: v.epsilon as number,
    gradClipNorm: v.gradClip as number,
    ema: v.ema as number,
    seed: v.seed as number,
    evalImages: v.evalImages as number,
    evalBatch: v.evalBatch as number,
    checkpointEvery: v.checkpointEvery as number,
    keepCheckpoints: v.keepCheckpoints as number,
  };
}

/** Options that define what a checkpoint is: on --resume they must match it (or be left out). */
const FROZEN: { option: string; key: string; get: (s: RunSettings) => unknown }[] = [
  { option: 'classes', key: 'classes', get: (s) => s.data.classes },
  { option: 'per-class', key: 'perClass', get: (s) => s.data.perClass },
  { option: 'held-out', key: 'heldOut', get: (s) => s.data.heldOut },
  { option: 'images', key: 'images', get: (s) => s.data.images },
  { option: 'labels', key: 'labels', get: (s) => s.data.labels },
  { option: 'num-resnet', key: 'numResnet', get: (s) => s.model.numResnet },
  { option: 'num-hierarchies', key: 'numHierarchies', get: (s) => s.model.numHierarchies },
  { option: 'num-filters', key: 'numFilters', get: (s) => s.model.numFilters },
  { option: 'num-logistic-mix', key: 'numLogisticMix', get: (s) => s.model.numLogisticMix },
  {
    option: 'receptive-field-dims',
    key: 'receptiveFieldDims',
    get: (s) => s.model.receptiveFieldDims,
  },
  { option: 'dropout', key: 'dropout', get: (s) => s.model.dropoutP },
  { option: 'activation', key: 'activation', get: (s) => s.model.resnetActivation },
  { option: 'weight-norm', key: 'weightNorm', get: (s) => s.model.useWeightNorm },
  { option: 'data-init', key: 'dataInit', get: (s) => s.model.useDataInit },
  { option: 'high', key: 'high', get: (s) => s.model.high },
  { option: 'convention', key: 'convention', get: (s) => s.model.convention },
  { option: 'constant-channel', key: 'constantChannel', get: (s) => s.model.constantChannel },
  { option: 'conditional', key: 'conditional', get: (s) => s.model.conditionalShape != null },
  { option: 'batch-size', key: 'batchSize', get: (s) => s.train.batchSize },
  { option: 'lr', key: 'lr', get: (s) => s.train.learningRate },
  { option: 'lr-decay', key: 'lrDecay', get: (s) => s.train.lrDecay },
  { option: 'warmup-steps', key: 'warmupSteps', get: (s) => s.train.warmupSteps },
  { option: 'beta1', key: 'beta1', get: (s) => s.train.beta1 },
  { option: 'beta2', key: 'beta2', get: (s) => s.train.beta2 },
  { option: 'epsilon', key: 'epsilon', get: (s) => s.train.epsilon },
  { option: 'grad-clip', key: 'gradClip', get: (s) => s.train.gradClipNorm },
  { option: 'ema', key: 'ema', get: (s) => s.train.ema },
  { option: 'seed', key: 'seed', get: (s) => s.train.seed },
];

/** Options a resumed run may change (the rest come from the checkpoint). */
const MUTABLE: { key: string; set: (t: TrainSettings, v: OptionValue) => void }[] = [
  { key: 'epochs', set: (t, v) => (t.epochs = v as number) },
  { key: 'steps', set: (t, v) => (t.steps = v as number) },
  { key: 'microBatch', set: (t, v) => (t.microBatch = v as number) },
  { key: 'evalImages', set: (t, v) => (t.evalImages = v as number) },
  { key: 'evalBatch', set: (t, v) => (t.evalBatch = v as number) },
  { key: 'checkpointEvery', set: (t, v) => (t.checkpointEvery = v as number) },
  { key: 'keepCheckpoints', set: (t, v) => (t.keepCheckpoints = v as number) },
];

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
  for (const m of MUTABLE) if (explicit.has(m.key)) m.set(train, values[m.key]);
  if (explicit.has('epochs') && !explicit.has('steps')) train.steps = null;
  return { data: saved.data, model: saved.model, train };
}
/**
 * On wasm, refuse before any work a training step that cannot fit the 4 GiB heap (running out of
 * it aborts the process), by pixelcnn-dist's memory estimate: an explicit --micro-batch too large
 * (naming the one that fits), or a network too big for even one image. --micro-batch 0 is the
 * Trainer's 'auto', the largest that fits. Other backends have no known limit.
 */
export function checkMicroBatchFits(
  dist: Pick<PixelCNN, 'plan' | 'numParameters'>,
  requested: number,
  backend: string,
): void {
  if (backend !== 'wasm') return;
  const { plan, numParameters } = dist;
  const fits = largestFittingMicroBatch(plan, numParameters, Math.max(requested, 1));
  const gib = (n: number) =>
    `${(estimateTrainingMemory(plan, numParameters, n).bytes / 2 ** 30).toFixed(1)} GiB`;
  if (fits === 0) {
    throw new UsageError(
      `this network needs about ${gib(1)} for a training step on one image, more than the wasm heap's 4 GiB: use fewer --num-filters, --num-resnet or --num-hierarchies, or --backend webgpu`,
    );
  }
  if (requested > fits) {
    throw new UsageError(
      `option --micro-batch ${requested}: a training step on ${requested} images needs about ${gib(requested)}, more than the wasm heap's 4 GiB; the largest micro-batch that fits is ${fits}: use --micro-batch ${fits} (or 0 = auto)`,
    );
  }
}
