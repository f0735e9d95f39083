/**
 * `@pixelcnn/trainer/settings`: the browser-safe part of `pixelcnn train` (no node: imports), for
 * programs that write runs the CLI continues (the viewer's Train panel): the option schema and
 * presets, the run settings they make, the Trainer options of those settings, and the
 * checkpoint meta. A run built from these is one `pixelcnn train --resume` and `pixelcnn sample
 * --checkpoint` accept (trained by pixelcnn-dist's trainLoop, as the CLI trains it).
 */

export { camelCase, type OptionValue, parseArgs, UsageError } from './args';
export type { CheckpointMeta, TrainProgress } from './modelState';
export { DEMO_CLASSES, DEMO_SAMPLES, DEMO_STEPS, PRESETS, trainOptions } from './options';
export {
  applyPreset,
  type DataSettings,
  modelConfigFrom,
  type RunSettings,
  resolveClasses,
  scheduleOf,
  type TrainSettings,
  trainerOptions,
  trainSettingsFrom,
} from './runSettings';
