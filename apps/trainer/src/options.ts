import { BACKEND_ORDER } from '@pixelcnn/backend';
import { ACTIVATIONS, SAMPLERS } from '@pixelcnn/pixelcnn-dist';
import { MODEL_NAMES } from '@pixelcnn/quickdraw-models';
import type { OptionSpec, OptionValue } from './args';
import type { DataSettings, RunSettings, TrainSettings } from './settings';

/** Backends `--backend` accepts: 'auto' (@pixelcnn/backend's BACKEND_ORDER), each of them, and webgl. */
export const BACKEND_CHOICES = ['auto', ...BACKEND_ORDER, 'webgl'] as const;

/** Samplers `--sampler` accepts: 'auto' and pixelcnn-dist's registered SAMPLERS. */
export const SAMPLER_CHOICES: readonly string[] = ['auto', ...Object.keys(SAMPLERS)];

/** A field of the run settings (saved in every checkpoint) that an option sets. */
export type SettingPath =
  | `data.${keyof DataSettings & string}`
  | `model.${keyof RunSettings['model'] & string}`
  | `train.${keyof TrainSettings & string}`;

/**
 * A `pixelcnn train` option: its parsing and help (OptionSpec), where its value lands in the run
 * settings, and what a `--resume` may do with it: 'frozen' options define the checkpoint (an
 * explicit one must match it), 'mutable' ones replace the checkpoint's value. Options without
 * `resume` only steer this run (paths, backend, time limit).
 */
export interface TrainOptionSpec extends OptionSpec {
  lands?: SettingPath | readonly SettingPath[];
  resume?: 'frozen' | 'mutable';
  /** What a resume compares, from the landed value (default: the value itself). */
  read?: (landed: unknown) => unknown;
}

/** The paths an option lands at (none, one or several). */
export function landsAt(spec: TrainOptionSpec): readonly SettingPath[] {
  if (spec.lands === undefined) return [];
  return typeof spec.lands === 'string' ? [spec.lands] : spec.lands;
}

/**
 * The four classes the demo trains on: all in the repository's local QuickDraw mirror
 * (../shared/quickdraw) and in the public bucket, simple shapes that are easy to tell apart at
 * 28x28. With them the 10-minute recipe's samples are recognised 0.62 times as often as real
 * drawings; with apple, fish, house, rainbow 0.45 times (apps/trainer/README.md, Recipes).
 */
export const DEMO_CLASSES = ['rainbow', 'lollipop', 'eye', 'apple'] as const;

/**
 * Training steps of the demo, the 10-minute recipe: 565 s of training at 1.20 s a step of 32
 * (wasm, 2 threads, an idle 2-core machine: median of steps 2-9 under `heavy --exclusive`, load
 * average 0.35), the rest of the 10 minutes for startup, the held-out evaluation and sampling
 * (apps/trainer/README.md, Recipes; the recipe was compared at 406 steps, its 1.39 s a step on
 * the wasm kernels of then).
 */
export const DEMO_STEPS = 470;

/** Drawings sampled per class at the end of the demo (and judged, when a classifier ships). */
export const DEMO_SAMPLES = 16;

/** The 20 classes of the blog post, by TFDS `quickdraw_bitmap` label. */
export const BLOG_LABELS = [
  26, 29, 43, 49, 50, 125, 134, 172, 218, 225, 246, 255, 258, 271, 295, 296, 309, 320, 322, 323,
] as const;

const DATA = 'Data';
const MODEL = 'Model (PixelCNN++ / tfp.distributions.PixelCNN parameters)';
const OPT = 'Optimisation';
const RUN = 'Run';

export const dataOptions: TrainOptionSpec[] = [
  {
    name: 'classes',
    lands: 'data.classes',
    resume: 'frozen',
    type: 'list',
    metavar: 'LIST',
    description:
      'comma-separated QuickDraw classes, by name or TFDS label (e.g. "cat,26,sea turtle"); with --images, names for the --labels classes 0, 1, ...',
    default: [...DEMO_CLASSES],
    group: DATA,
  },
  {
    name: 'per-class',
    lands: 'data.perClass',
    resume: 'frozen',
    type: 'integer',
    metavar: 'N',
    description:
      'drawings used per class (train + held-out): the first N rows of each file (0 = all)',
    default: 2000,
    min: 0,
    group: DATA,
  },
  {
    name: 'held-out',
    lands: 'data.heldOut',
    resume: 'frozen',
    type: 'number',
    metavar: 'FRACTION',
    description: 'fraction of each class held out for evaluation (split by a hash of the row)',
    default: 0.1,
    exclusiveMin: 0,
    max: 0.9,
    group: DATA,
  },
  {
    name: 'data',
    type: 'string',
    metavar: 'DIR|URL',
    description:
      'QuickDraw mirror laid out like the bucket (local dir or http(s) URL); default $QUICKDRAW_BASE_URL, else ../shared/quickdraw beside the repository, else the public bucket',
    group: DATA,
  },
  {
    name: 'cache-dir',
    type: 'string',
    metavar: 'DIR',
    description:
      'where downloaded drawings are cached (default $QUICKDRAW_CACHE_DIR, else .quickdraw-cache in the current directory)',
    group: DATA,
  },
  {
    name: 'images',
    lands: 'data.images',
    resume: 'frozen',
    type: 'string',
    metavar: 'FILE.npy',
    description:
      'train on a uint8 [N, H, W] or [N, H, W, C] array saved by numpy (MNIST, CIFAR-10, your own images) instead of QuickDraw',
    group: DATA,
  },
  {
    name: 'labels',
    lands: 'data.labels',
    resume: 'frozen',
    type: 'string',
    metavar: 'FILE.npy',
    description:
      'integer class labels [N] of --images (a class-conditional model; --classes may name them)',
    group: DATA,
  },
];

export const modelOptions: TrainOptionSpec[] = [
  {
    name: 'num-resnet',
    lands: 'model.numResnet',
    resume: 'frozen',
    type: 'integer',
    description: 'gated resnet layers per hierarchy',
    default: 1,
    min: 1,
    group: MODEL,
  },
  {
    name: 'num-hierarchies',
    lands: 'model.numHierarchies',
    resume: 'frozen',
    type: 'integer',
    description: 'resolutions (28x28 allows 1..3)',
    default: 2,
    min: 1,
    group: MODEL,
  },
  {
    name: 'num-filters',
    lands: 'model.numFilters',
    resume: 'frozen',
    type: 'integer',
    description: 'channels of every stream',
    default: 32,
    min: 1,
    group: MODEL,
  },
  {
    name: 'num-logistic-mix',
    lands: 'model.numLogisticMix',
    resume: 'frozen',
    type: 'integer',
    description: 'logistic mixture components per pixel',
    default: 5,
    min: 1,
    group: MODEL,
  },
  {
    name: 'receptive-field-dims',
    lands: 'model.receptiveFieldDims',
    resume: 'frozen',
    type: 'numberList',
    metavar: 'ROWS,COLS',
    description: 'causal window (3,3 = PixelCNN++ 2x3 / 2x2 filters)',
    default: [3, 3],
    min: 1,
    group: MODEL,
  },
  {
    name: 'dropout',
    lands: 'model.dropoutP',
    resume: 'frozen',
    type: 'number',
    metavar: 'P',
    description: 'dropout in every gated resnet (training only)',
    default: 0.5,
    min: 0,
    max: 0.99,
    group: MODEL,
  },
  {
    name: 'activation',
    lands: 'model.resnetActivation',
    resume: 'frozen',
    type: 'string',
    choices: ACTIVATIONS,
    description: 'resnet nonlinearity',
    default: 'concat_elu',
    group: MODEL,
  },
  {
    name: 'weight-norm',
    lands: 'model.useWeightNorm',
    resume: 'frozen',
    type: 'boolean',
    description: 'weight-normalised convs',
    default: true,
    group: MODEL,
  },
  {
    name: 'data-init',
    lands: 'model.useDataInit',
    resume: 'frozen',
    type: 'boolean',
    description: 'data-dependent init on the first batch',
    default: true,
    group: MODEL,
  },
  {
    name: 'high',
    lands: 'model.high',
    resume: 'frozen',
    type: 'integer',
    description: 'largest pixel level: 255 keeps the data, 1 binarises it (levels = high + 1)',
    default: 255,
    min: 1,
    max: 255,
    group: MODEL,
  },
  {
    name: 'convention',
    lands: 'model.convention',
    resume: 'frozen',
    type: 'string',
    choices: ['tfp', 'pixelcnnpp'],
    description: "head parametrisation (scales/coeffs): TFP's or PixelCNN++'s",
    default: 'tfp',
    group: MODEL,
  },
  {
    name: 'constant-channel',
    lands: 'model.constantChannel',
    resume: 'frozen',
    type: 'boolean',
    description:
      "PixelCNN++'s constant ones input channel (off by default: TFP's network, pixelcnn-dist's default)",
    default: false,
    group: MODEL,
  },
  {
    name: 'conditional',
    lands: 'model.conditionalShape',
    resume: 'frozen',
    read: (shape) => shape != null,
    type: 'boolean',
    description: 'class-conditional (one-hot label fed to every layer)',
    default: true,
    group: MODEL,
  },
];

export const optimOptions: TrainOptionSpec[] = [
  {
    name: 'batch-size',
    lands: 'train.batchSize',
    resume: 'frozen',
    type: 'integer',
    metavar: 'N',
    description: 'images per optimizer step',
    default: 32,
    min: 1,
    group: OPT,
  },
  {
    name: 'micro-batch',
    lands: 'train.microBatch',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description:
      "split each batch into micro-batches of N and accumulate gradients (memory); 0 = auto: the largest that fits the memory (the wasm heap), by pixelcnn-dist's estimate",
    default: 0,
    min: 0,
    group: OPT,
  },
  {
    name: 'epochs',
    lands: 'train.epochs',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description: 'passes over the training split',
    default: 1,
    min: 1,
    group: OPT,
  },
  {
    name: 'steps',
    lands: 'train.steps',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description: 'stop after N optimizer steps in total (overrides --epochs)',
    min: 1,
    group: OPT,
  },
  {
    name: 'lr',
    lands: 'train.learningRate',
    resume: 'frozen',
    type: 'number',
    description: 'Adam learning rate',
    default: 1e-3,
    exclusiveMin: 0,
    group: OPT,
  },
  {
    name: 'lr-decay',
    lands: 'train.lrDecay',
    resume: 'frozen',
    type: 'number',
    description: 'multiply the learning rate by this every step (PixelCNN++: 0.999995)',
    default: 1,
    exclusiveMin: 0,
    max: 1,
    group: OPT,
  },
  {
    name: 'warmup-steps',
    lands: 'train.warmupSteps',
    resume: 'frozen',
    type: 'integer',
    description: 'linear learning-rate warm-up steps',
    default: 0,
    min: 0,
    group: OPT,
  },
  {
    name: 'beta1',
    lands: 'train.beta1',
    resume: 'frozen',
    type: 'number',
    description: 'Adam beta1 (PixelCNN++: 0.95)',
    default: 0.9,
    min: 0,
    max: 0.999999,
    group: OPT,
  },
  {
    name: 'beta2',
    lands: 'train.beta2',
    resume: 'frozen',
    type: 'number',
    description: 'Adam beta2 (PixelCNN++: 0.9995)',
    default: 0.999,
    min: 0,
    max: 0.9999999,
    group: OPT,
  },
  {
    name: 'epsilon',
    lands: 'train.epsilon',
    resume: 'frozen',
    type: 'number',
    description: 'Adam epsilon',
    default: 1e-8,
    exclusiveMin: 0,
    group: OPT,
  },
  {
    name: 'grad-clip',
    lands: 'train.gradClipNorm',
    resume: 'frozen',
    type: 'number',
    description: 'clip the global gradient norm (0 = off)',
    default: 0,
    min: 0,
    group: OPT,
  },
  {
    name: 'ema',
    lands: 'train.ema',
    resume: 'frozen',
    type: 'number',
    metavar: 'DECAY',
    description: 'Polyak average of the weights for eval/sampling (PixelCNN++: 0.9995; 0 = off)',
    default: 0.999,
    min: 0,
    max: 0.999999,
    group: OPT,
  },
  {
    name: 'seed',
    lands: ['train.seed', 'model.seed'],
    resume: 'frozen',
    type: 'integer',
    description: 'seed of weights, data order and dropout',
    default: 1,
    group: OPT,
  },
];

export const backendOptions: OptionSpec[] = [
  {
    name: 'backend',
    type: 'string',
    choices: BACKEND_CHOICES,
    description: 'tfjs backend (env PIXELCNN_BACKEND overrides)',
    default: 'auto',
    group: RUN,
  },
  {
    name: 'wasm-threads',
    type: 'string',
    metavar: 'N|auto',
    description: "wasm threads (default: env PIXELCNN_WASM_THREADS, else 'auto' = every core)",
    group: RUN,
  },
];

export const trainRunOptions: TrainOptionSpec[] = [
  {
    name: 'out',
    type: 'string',
    metavar: 'DIR',
    description: 'run directory: checkpoints, metrics, plots',
    default: 'runs/train',
    group: RUN,
  },
  {
    name: 'resume',
    type: 'string',
    metavar: 'PATH',
    description:
      'continue exactly from a checkpoint (a run dir, its checkpoints/ or one checkpoint)',
    group: RUN,
  },
  {
    name: 'preset',
    type: 'string',
    choices: ['demo', 'blog'],
    description:
      "start from a preset ('blog': the blog's 20 classes and network); explicit options override it",
    group: RUN,
  },
  {
    name: 'eval-images',
    lands: 'train.evalImages',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description: 'held-out images evaluated each epoch (0 = all)',
    default: 500,
    min: 0,
    group: RUN,
  },
  {
    name: 'eval-batch',
    lands: 'train.evalBatch',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description: 'batch size for evaluation',
    default: 64,
    min: 1,
    group: RUN,
  },
  {
    name: 'checkpoint-every',
    lands: 'train.checkpointEvery',
    resume: 'mutable',
    type: 'integer',
    metavar: 'STEPS',
    description: 'also checkpoint every N steps (0 = each epoch and at the end only)',
    default: 0,
    min: 0,
    group: RUN,
  },
  {
    name: 'keep-checkpoints',
    lands: 'train.keepCheckpoints',
    resume: 'mutable',
    type: 'integer',
    metavar: 'N',
    description: 'checkpoints kept (older ones deleted)',
    default: 3,
    min: 1,
    group: RUN,
  },
  {
    name: 'max-minutes',
    type: 'number',
    metavar: 'MIN',
    description: 'stop (with a checkpoint) after this much training time',
    exclusiveMin: 0,
    group: RUN,
  },
];

export const trainOptions: TrainOptionSpec[] = [
  ...dataOptions,
  ...modelOptions,
  ...optimOptions,
  ...trainRunOptions,
  ...backendOptions,
];

/** sample and eval: use a checkpoint's EMA weights. */
const emaOption: OptionSpec = {
  name: 'ema',
  type: 'boolean',
  description: 'use the averaged (EMA) weights when the checkpoint has them',
  default: true,
  group: RUN,
};

/** sample and eval: where the run's QuickDraw drawings are read again (`what` they are for). */
const quickdrawSourceOptions = (what: string): OptionSpec[] => [
  {
    name: 'data',
    type: 'string',
    metavar: 'DIR|URL',
    description: `QuickDraw mirror${what} (default as in train)`,
    group: RUN,
  },
  { name: 'cache-dir', type: 'string', metavar: 'DIR', description: 'download cache', group: RUN },
];

export const sampleOptions: OptionSpec[] = [
  {
    name: 'checkpoint',
    type: 'string',
    metavar: 'PATH',
    description: 'a run dir, its checkpoints/ or one checkpoint (this or --model)',
    group: RUN,
  },
  {
    name: 'model',
    type: 'string',
    metavar: 'NAME',
    description: `a pretrained model of @pixelcnn/quickdraw-models instead of a checkpoint (${MODEL_NAMES.join(', ')}); output in runs/NAME/samples`,
    group: RUN,
  },
  {
    name: 'out',
    type: 'string',
    metavar: 'DIR',
    description: 'where the PNGs go (default <run>/samples)',
    group: RUN,
  },
  {
    name: 'n',
    type: 'integer',
    description: 'generated drawings per class',
    default: 8,
    min: 1,
    group: RUN,
  },
  {
    name: 'real',
    type: 'integer',
    description: 'real held-out drawings shown above them',
    default: 8,
    min: 0,
    group: RUN,
  },
  {
    name: 'classes',
    type: 'list',
    metavar: 'LIST',
    description: "subset of the model's classes (default all)",
    group: RUN,
  },
  {
    name: 'seed',
    type: 'integer',
    description: 'sampling seed (same seed, same drawings)',
    default: 0,
    group: RUN,
  },
  {
    name: 'temperature',
    type: 'number',
    description: 'mixture-component temperature (1 = the model, 0 = most likely component)',
    default: 1,
    min: 0,
    group: RUN,
  },
  {
    name: 'snap-to-grid',
    type: 'boolean',
    description:
      'feed each drawn pixel back as its integer level (off: the continuous draw, as TFP does)',
    default: true,
    group: RUN,
  },
  {
    name: 'classifier',
    type: 'string',
    metavar: 'DIR|auto',
    description:
      "judge the samples: the share a classifier of the run's classes assigns to the class they were sampled for, next to its share for the real held-out drawings. DIR holds the classifier (trained on the run's training drawings and saved there when absent); auto = <run>/classifier",
    group: RUN,
  },
  {
    name: 'sampler',
    type: 'string',
    metavar: 'NAME',
    choices: SAMPLER_CHOICES,
    description: "pixelcnn-dist sampler: 'auto' (the fastest, 'cached'), 'cached' or 'naive'",
    default: 'auto',
    group: RUN,
  },
  emaOption,
  ...quickdrawSourceOptions(' for the real drawings'),
  ...backendOptions,
];

export const evalOptions: OptionSpec[] = [
  {
    name: 'checkpoint',
    type: 'string',
    metavar: 'PATH',
    description: 'a run dir, its checkpoints/ or one checkpoint (required)',
    group: RUN,
  },
  {
    name: 'split',
    type: 'string',
    choices: ['held-out', 'train'],
    description: 'which split to score',
    default: 'held-out',
    group: RUN,
  },
  {
    name: 'max-images',
    type: 'integer',
    metavar: 'N',
    description: 'score at most N images (0 = all)',
    default: 0,
    min: 0,
    group: RUN,
  },
  {
    name: 'batch-size',
    type: 'integer',
    metavar: 'N',
    description: 'evaluation batch size',
    default: 64,
    min: 1,
    group: RUN,
  },
  emaOption,
  {
    name: 'json',
    type: 'boolean',
    description: 'print the result as JSON',
    default: false,
    group: RUN,
  },
  ...quickdrawSourceOptions(''),
  ...backendOptions,
];

export const demoOptions: OptionSpec[] = [
  {
    name: 'out',
    type: 'string',
    metavar: 'DIR',
    description: 'run directory',
    default: 'runs/demo',
    group: RUN,
  },
  {
    name: 'steps',
    type: 'integer',
    metavar: 'N',
    description: 'training steps (default: sized for ~10 minutes on 2 CPU cores)',
    min: 1,
    group: RUN,
  },
  {
    name: 'seed',
    type: 'integer',
    description: 'seed of training and sampling',
    default: 1,
    group: RUN,
  },
  {
    name: 'data',
    type: 'string',
    metavar: 'DIR|URL',
    description: 'QuickDraw mirror (default as in train)',
    group: RUN,
  },
  { name: 'cache-dir', type: 'string', metavar: 'DIR', description: 'download cache', group: RUN },
  {
    name: 'resume',
    type: 'boolean',
    description: 'continue an interrupted demo in --out instead of starting over',
    default: false,
    group: RUN,
  },
  ...backendOptions,
];

/** Option values a preset sets (camelCase keys, as parsed); explicit options override them. */
export const PRESETS: Record<string, Record<string, OptionValue>> = {
  /** The demo: see demoCommand.ts for how it was sized. */
  demo: {
    classes: [...DEMO_CLASSES],
    perClass: 2000,
    numResnet: 1,
    // 3 hierarchies: the bottom-right pixel sees 96% of the pixels before it (2: 52%, rows 7-27)
    numHierarchies: 3,
    numFilters: 32,
    numLogisticMix: 5,
    dropout: 0,
    batchSize: 32,
    ema: 0.995,
  },
  /** The blog post's configuration (tfprobability's PixelCNN on 20 QuickDraw classes). */
  blog: {
    classes: BLOG_LABELS.map(String),
    perClass: 0,
    numResnet: 5,
    numHierarchies: 3,
    numFilters: 128,
    numLogisticMix: 5,
    dropout: 0.5,
    batchSize: 32,
    lr: 1e-3,
    epochs: 10,
  },
};
