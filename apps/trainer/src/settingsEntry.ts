/**
 * `@pixelcnn/trainer/settings`: the browser-safe part of `pixelcnn train` (no node: imports), for
 * programs that write runs the CLI continues (the viewer's Train panel): the option schema and
 * presets, the run settings they make, the Trainer options of those settings, the epoch and
 * held-out evaluation rules, and the checkpoint meta. A run built from these is one
 * `pixelcnn train --resume` and `pixelcnn sample --checkpoint` accept.
 */

export { camelCase, type OptionValue, parseArgs, UsageError } from './args';
export type { ExampleOrder, RawExamples, TrainingData } from './arrayData';
export { EVAL_SEED, evaluateBitsPerDim } from './evaluation';
export type { CheckpointMeta, TrainProgress } from './modelState';
export { DEMO_CLASSES, DEMO_SAMPLES, DEMO_STEPS, PRESETS, trainOptions } from './options';
export {
  applyPreset,
  type DataSettings,
  modelConfigFrom,
  type RunSettings,
  resolveClasses,
  scheduleOf,
  stepsPerEpoch,
  type TrainSettings,
  totalSteps,
  trainerOptions,
  trainSettingsFrom,
} from './runSettings';
export { type MeanCi, meanCi95 } from './stats';
