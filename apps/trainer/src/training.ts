import fs from 'node:fs';
import path from 'node:path';
import { type Trainer, type TrainingData, trainLoop } from '@pixelcnn/pixelcnn-dist';
import {
  CHECKPOINT_FILE,
  checkpointName,
  RUN_LAYOUT,
  smoothSeries,
} from '@pixelcnn/pixelcnn-dist/run';
import { writeFileAtomic } from './atomic';
import { readLatest } from './checkpoint';
import { linePlot } from './lossPlot';
import { MetricsLog } from './metrics';
import { saveRunCheckpoint, type TrainProgress } from './modelState';
import { encodePng } from './png';
import { formatDuration, type ProgressReporter } from './progress';
import type { RunSettings } from './settings';

/** Hooks for tests (fault injection, observation). */
export interface TrainHooks {
  /** Return true to put a NaN pixel into the batch of step `step` (0-based): a non-finite loss. */
  poisonBatch?: (step: number) => boolean;
  /** Called after every applied step. */
  afterStep?: (info: { step: number; loss: number }) => void;
}

export interface TrainContext {
  settings: RunSettings;
  runDir: string;
  /** pixelcnn-dist's Trainer (of the run's model), fresh or restored from a checkpoint. */
  trainer: Trainer;
  dataset: TrainingData;
  progress: TrainProgress;
  backend: string;
  reporter: ProgressReporter;
  signal?: AbortSignal;
  maxMinutes?: number;
  hooks?: TrainHooks;
}

export type TrainOutcome =
  | { kind: 'done'; checkpoint: string; progress: TrainProgress }
  | { kind: 'interrupted'; checkpoint: string; progress: TrainProgress }
  | { kind: 'time-limit'; checkpoint: string; progress: TrainProgress }
  | { kind: 'non-finite'; message: string; lastCheckpoint?: string; progress: TrainProgress };

/** Loss-curve PNG from the metrics rows: per-step train bits/dim (raw and smoothed), held-out per epoch. */
export function writeLossPlot(file: string, metrics: MetricsLog, title: string): void {
  const train = metrics.rows
    .filter((r) => r.kind === 'train')
    .map((r) => [r.step, r.bitsPerDim] as [number, number]);
  const held = metrics.rows
    .filter((r) => r.kind === 'eval')
    .map((r) => [r.step, r.bitsPerDim] as [number, number]);
  const png = encodePng(
    linePlot(
      [
        { name: 'train (per step)', points: train, color: [176, 196, 232] },
        {
          name: 'train (smoothed)',
          points: smoothSeries(train),
          color: [31, 90, 200],
          thickness: 2,
        },
        { name: 'held-out', points: held, color: [230, 120, 20], markers: true, thickness: 2 },
      ],
      { title, xLabel: 'optimizer step', yLabel: 'bits/dim' },
    ),
  );
  writeFileAtomic(file, png);
}

/**
 * `pixelcnn train`'s adapter to pixelcnn-dist's trainLoop (epochs, data order, steps, held-out
 * evaluations, checkpoint timing, stop and time limit are the loop's): the progress line and
 * its log lines, metrics.jsonl/csv, and at every checkpoint (each epoch's end, every
 * --checkpoint-every steps, the end, Ctrl-C, --max-minutes) a run checkpoint and the loss curve.
 * A NaN/Inf loss or gradient stops without touching the last checkpoint, naming it.
 */
export async function train(ctx: TrainContext): Promise<TrainOutcome> {
  const { settings, trainer, dataset, reporter, runDir } = ctx;
  const t = settings.train;
  const metrics = new MetricsLog(
    path.join(runDir, RUN_LAYOUT.metricsJsonl),
    path.join(runDir, RUN_LAYOUT.metricsCsv),
  );
  const progress: TrainProgress = { ...ctx.progress };
  const startStep = progress.step;
  metrics.truncateAfter(progress.step);
  const plotFile = path.join(runDir, RUN_LAYOUT.lossPlot);
  const plotTitle = `PixelCNN++ on ${settings.data.images ? path.basename(settings.data.images) : 'QuickDraw'}`;
  const checkpointsDir = path.join(runDir, RUN_LAYOUT.checkpoints);
  const latestName = readLatest(checkpointsDir);
  let lastCheckpoint = latestName ? path.join(checkpointsDir, latestName) : undefined;
  // The run directory holds this step's checkpoint already (a resumed run): not written again.
  const saved =
    latestName === checkpointName(progress.step) &&
    fs.existsSync(path.join(checkpointsDir, latestName, CHECKPOINT_FILE));
  const runStart = performance.now();

  const outcome = await trainLoop({
    trainer,
    data: dataset,
    plan: t,
    progress,
    checkpoint: {
      everySteps: t.checkpointEvery,
      savedStep: saved ? progress.step : undefined,
      save: async (_reason, p) => {
        const meta = { settings, progress: { ...p }, backend: ctx.backend };
        lastCheckpoint = await saveRunCheckpoint(runDir, trainer, meta, t.keepCheckpoints);
        writeLossPlot(plotFile, metrics, plotTitle);
      },
    },
    control: {
      signal: ctx.signal,
      timeLimitSeconds: ctx.maxMinutes === undefined ? undefined : ctx.maxMinutes * 60,
    },
    prepareBatch: ({ step, pixels }) => {
      if (ctx.hooks?.poisonBatch?.(step)) pixels[0] = Number.NaN;
    },
    events: {
      start: (n) => {
        reporter.log(
          `training: ${n.trainSize} images, ${n.stepsPerEpoch} steps/epoch of ${t.batchSize}, ` +
            `${n.totalSteps} steps (${n.totalEpochs} epoch${n.totalEpochs === 1 ? '' : 's'}), ${trainer.dist.numParameters.toLocaleString('en-US')} parameters` +
            (progress.step > 0 ? `; resuming at step ${progress.step}` : ''),
        );
      },
      step: (s) => {
        const r = s.result;
        if (s.progress.step === startStep + 1 && (r.microBatches > 1 || r.recomputedBlocks)) {
          const how = r.recomputedBlocks
            ? ', recomputing each gated resnet in the backward pass'
            : '';
          reporter.log(
            `each step of ${t.batchSize} accumulates ${r.microBatches} micro-batch${r.microBatches > 1 ? 'es' : ''}${how} (memory)`,
          );
        }
        metrics.append(s.row);
        ctx.hooks?.afterStep?.({ step: s.row.step, loss: s.result.loss });
        reporter.update({
          step: s.row.step,
          totalSteps: s.totalSteps,
          epoch: s.row.epoch,
          totalEpochs: s.totalEpochs,
          loss: s.result.loss,
          bitsPerDim: s.result.bitsPerDim,
          imagesPerSec: s.imagesPerSec,
          etaSeconds: s.etaSeconds,
        });
      },
      evaluated: (row) => {
        metrics.append(row);
        reporter.log(
          `epoch ${row.epoch}: held-out ${row.bitsPerDim.toFixed(4)} ± ${row.ci95?.toFixed(4)} bits/dim (95% CI, ${row.images} images${trainer.ema ? ', EMA weights' : ''})`,
        );
      },
    },
  });
  reporter.finishLine();
  switch (outcome.kind) {
    case 'non-finite':
      return {
        kind: 'non-finite',
        progress,
        lastCheckpoint,
        message:
          `${outcome.message}
` +
          (lastCheckpoint
            ? `The last good checkpoint is ${lastCheckpoint} (untouched); continue from it with a lower --lr or with --grad-clip, e.g.\n  pixelcnn train --resume ${runDir} ...`
            : 'No checkpoint was written yet; start again with a lower --lr or with --grad-clip.'),
      };
    case 'stopped':
      return { kind: 'interrupted', checkpoint: lastCheckpoint!, progress };
    case 'time-limit':
      reporter.log(
        `time limit reached after ${formatDuration((performance.now() - runStart) / 1000)}`,
      );
      return { kind: 'time-limit', checkpoint: lastCheckpoint!, progress };
    default:
      // No step was left to do (e.g. resuming a finished run): the loss curve is drawn anyway.
      if (progress.step === startStep) writeLossPlot(plotFile, metrics, plotTitle);
      return { kind: 'done', checkpoint: lastCheckpoint!, progress };
  }
}
