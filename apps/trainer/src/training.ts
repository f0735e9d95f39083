import fs from 'node:fs';
import path from 'node:path';
import type { Trainer } from '@pixelcnn/pixelcnn-dist';
import {
  CHECKPOINT_FILE,
  quantizePixels,
  RUN_LAYOUT,
  smoothSeries,
} from '@pixelcnn/pixelcnn-dist/run';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingData } from './arrayData';
import { writeFileAtomic } from './atomic';
import { readLatest } from './checkpoint';
import { evaluateBitsPerDim } from './evaluation';
import { linePlot } from './lossPlot';
import { MetricsLog } from './metrics';
import { saveRunCheckpoint, type TrainProgress } from './modelState';
import { encodePng } from './png';
import { formatDuration, type ProgressReporter } from './progress';
import { type RunSettings, stepsPerEpoch, totalSteps } from './settings';

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
 * What the CLI owns of training (the steps are pixelcnn-dist's Trainer: data-dependent init,
 * micro-batch accumulation, Adam, the schedule, clipping, EMA, NaN/Inf skip): epochs and the data
 * order, held-out bits/dim, a checkpoint, metrics and the loss curve at the end of every epoch;
 * checkpoints every N steps, on Ctrl-C (signal) and --max-minutes; a NaN/Inf loss or gradient
 * (the Trainer skips that update) stops without touching the last checkpoint.
 */
export async function train(ctx: TrainContext): Promise<TrainOutcome> {
  const { settings, trainer, dataset, reporter, runDir } = ctx;
  const t = settings.train;
  const model = trainer.dist;
  const B = t.batchSize;
  const trainSize = dataset.size('train');
  if (trainSize < B) {
    throw new Error(
      `the training split has ${trainSize} drawings, fewer than --batch-size ${B}; use more --per-class or a smaller batch`,
    );
  }
  const perEpoch = stepsPerEpoch(trainSize, B);
  const total = totalSteps(settings, perEpoch);
  const totalEpochs = Math.ceil(total / perEpoch);
  const conditional = settings.model.conditionalShape != null;
  const [H, W, C] = settings.model.imageShape;
  const metrics = new MetricsLog(
    path.join(runDir, RUN_LAYOUT.metricsJsonl),
    path.join(runDir, RUN_LAYOUT.metricsCsv),
  );
  const progress: TrainProgress = { ...ctx.progress };
  metrics.truncateAfter(progress.step);
  const plotFile = path.join(runDir, RUN_LAYOUT.lossPlot);
  const plotTitle = `PixelCNN++ on ${settings.data.images ? path.basename(settings.data.images) : 'QuickDraw'}`;
  let lastCheckpoint: string | undefined;
  const meta = () => ({ settings, progress: { ...progress }, backend: ctx.backend });
  const checkpoint = async () => {
    lastCheckpoint = await saveRunCheckpoint(runDir, trainer, meta(), t.keepCheckpoints);
    return lastCheckpoint;
  };
  const checkpointsDir = path.join(runDir, RUN_LAYOUT.checkpoints);
  const latestName = readLatest(checkpointsDir);
  if (latestName) lastCheckpoint = path.join(checkpointsDir, latestName);

  const evaluate = async () => {
    const run = () =>
      evaluateBitsPerDim(model, dataset, {
        split: 'test',
        maxImages: t.evalImages,
        batchSize: t.evalBatch,
      });
    const r = await trainer.withEmaWeights(run);
    progress.lastEval = {
      step: progress.step,
      epoch: progress.epoch + 1,
      bitsPerDim: r.mean,
      ci95: r.ci95,
      images: r.n,
    };
    metrics.append({
      kind: 'eval',
      step: progress.step,
      epoch: progress.epoch + 1,
      bitsPerDim: r.mean,
      ci95: r.ci95,
      images: r.n,
      elapsedSeconds: progress.elapsedSeconds,
    });
    reporter.log(
      `epoch ${progress.epoch + 1}: held-out ${r.mean.toFixed(4)} ± ${r.ci95.toFixed(4)} bits/dim (95% CI, ${r.n} images${trainer.ema ? ', EMA weights' : ''})`,
    );
  };

  reporter.log(
    `training: ${trainSize} images, ${perEpoch} steps/epoch of ${B}, ` +
      `${total} steps (${totalEpochs} epoch${totalEpochs === 1 ? '' : 's'}), ${model.numParameters.toLocaleString('en-US')} parameters` +
      (progress.step > 0 ? `; resuming at step ${progress.step}` : ''),
  );

  let order =
    progress.step < total
      ? dataset.examples('train', { seed: t.seed, epoch: progress.epoch })
      : undefined;
  let orderEpoch = progress.epoch;
  const runStart = performance.now();
  const baseElapsed = progress.elapsedSeconds;
  let secPerStep = Number.NaN;

  while (progress.step < total) {
    if (orderEpoch !== progress.epoch || !order) {
      order = dataset.examples('train', { seed: t.seed, epoch: progress.epoch });
      orderEpoch = progress.epoch;
    }
    const t0 = performance.now();
    const start = progress.batchInEpoch * B;
    const raw = await dataset.read(order, start, start + B);
    const pixels = Float32Array.from(quantizePixels(raw.images, settings.model.high ?? 255));
    if (ctx.hooks?.poisonBatch?.(progress.step)) pixels[0] = Number.NaN;
    const x = tf.tensor4d(pixels, [B, H, W, C]);
    const labels = conditional ? tf.tensor1d(raw.labels, 'int32') : undefined;
    let r: Awaited<ReturnType<Trainer['trainStep']>>;
    try {
      r = await trainer.trainStep(x, { conditionalInput: labels });
    } finally {
      tf.dispose([x, ...(labels ? [labels] : [])]);
    }
    if (r.skipped) {
      const what = Number.isFinite(r.loss) ? `gradient norm (${r.gradNorm})` : `loss (${r.loss})`;
      reporter.finishLine();
      return {
        kind: 'non-finite',
        progress,
        lastCheckpoint,
        message:
          `non-finite ${what} at step ${progress.step + 1} (epoch ${progress.epoch + 1}); the update was not applied and training stopped.\n` +
          (lastCheckpoint
            ? `The last good checkpoint is ${lastCheckpoint} (untouched); continue from it with a lower --lr or with --grad-clip, e.g.\n  pixelcnn train --resume ${runDir} ...`
            : 'No checkpoint was written yet; start again with a lower --lr or with --grad-clip.'),
      };
    }
    if (progress.step === ctx.progress.step && (r.microBatches > 1 || r.recomputedBlocks)) {
      const how = r.recomputedBlocks ? ', recomputing each gated resnet in the backward pass' : '';
      reporter.log(
        `each step of ${B} accumulates ${r.microBatches} micro-batch${r.microBatches > 1 ? 'es' : ''}${how} (memory)`,
      );
    }
    progress.step++;
    progress.batchInEpoch++;
    const dt = (performance.now() - t0) / 1000;
    secPerStep = Number.isNaN(secPerStep) ? dt : 0.8 * secPerStep + 0.2 * dt;
    progress.elapsedSeconds = baseElapsed + (performance.now() - runStart) / 1000;
    metrics.append({
      kind: 'train',
      step: progress.step,
      epoch: progress.epoch + 1,
      lossNats: r.loss,
      bitsPerDim: r.bitsPerDim,
      learningRate: r.learningRate,
      imagesPerSec: B / dt,
      elapsedSeconds: progress.elapsedSeconds,
    });
    ctx.hooks?.afterStep?.({ step: progress.step, loss: r.loss });
    reporter.update({
      step: progress.step,
      totalSteps: total,
      epoch: progress.epoch + 1,
      totalEpochs,
      loss: r.loss,
      bitsPerDim: r.bitsPerDim,
      imagesPerSec: B / secPerStep,
      etaSeconds: (total - progress.step) * secPerStep,
    });

    const epochDone = progress.batchInEpoch >= perEpoch;
    const finished = progress.step >= total;
    if (epochDone || finished) {
      reporter.finishLine();
      await evaluate();
    }
    if (epochDone) {
      progress.epoch++;
      progress.batchInEpoch = 0;
    }
    const minutes = (performance.now() - runStart) / 60000;
    const timeUp = ctx.maxMinutes !== undefined && minutes >= ctx.maxMinutes && !finished;
    const interrupted = ctx.signal?.aborted === true && !finished;
    if (
      epochDone ||
      finished ||
      timeUp ||
      interrupted ||
      (t.checkpointEvery > 0 && progress.step % t.checkpointEvery === 0)
    ) {
      await checkpoint();
      writeLossPlot(plotFile, metrics, plotTitle);
    }
    if (interrupted) {
      reporter.finishLine();
      return { kind: 'interrupted', checkpoint: lastCheckpoint!, progress };
    }
    if (timeUp) {
      reporter.finishLine();
      reporter.log(`time limit reached after ${formatDuration(minutes * 60)}`);
      return { kind: 'time-limit', checkpoint: lastCheckpoint!, progress };
    }
  }
  if (progress.step === ctx.progress.step) {
    // No step was left to do (e.g. resuming a finished run): make sure the state is on disk.
    if (!lastCheckpoint || !fs.existsSync(path.join(lastCheckpoint, CHECKPOINT_FILE)))
      await checkpoint();
    writeLossPlot(plotFile, metrics, plotTitle);
  }
  return { kind: 'done', checkpoint: lastCheckpoint!, progress };
}
