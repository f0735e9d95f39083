export {
  camelCase,
  closest,
  formatHelp,
  type OptionSpec,
  parseArgs,
  UsageError,
} from './args';
export { ArrayDataset, readNpyImages, readNpyLabels } from './arrayData';
export { ensureWritableDir, writeFileAtomic, writeJsonAtomic } from './atomic';
export { fsRunReader, listCheckpoints, resolveCheckpointDir } from './checkpoint';
export { openRunData, QUICKDRAW_ENV, repoRoot, resolveDataSource } from './data';
export { drawText, textWidth } from './font';
export { type ImageGridOptions, imageGrid } from './imageGrid';
export { CliError, type CliIo, EXIT } from './io';
export { type LinePlotOptions, linePlot, niceTicks, type PlotSeries } from './lossPlot';
export { main, processIo, USAGE } from './main';
export { MetricsLog } from './metrics';
export {
  type CheckpointMeta,
  createTrainer,
  openCheckpoint,
  readCheckpointMeta,
  saveRunCheckpoint,
  type TrainProgress,
} from './modelState';
export { BLOG_LABELS, DEMO_CLASSES, DEMO_SAMPLES, DEMO_STEPS, PRESETS } from './options';
export { crc32, createRaster, drawLine, encodePng, type Raster } from './png';
export { formatDuration, formatProgress, ProgressReporter, type ProgressState } from './progress';
export {
  type RunSettings,
  resolveClasses,
  scheduleOf,
  trainerOptions,
} from './settings';
export { type TrainOutcome, train } from './training';
