import fs from 'node:fs';
import path from 'node:path';
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
import { type ModelState, saveCheckpoint, type TrainProgress } from './modelState';
import { globalNorm } from './optimizer';
import { encodePng } from './png';
import { formatDuration, type ProgressReporter } from './progress';
import { hashSeed } from './rng';
import type { RunSettings } from './settings';

/** Hooks for tests (fault injection, observation). */
export interface TrainHooks {
  /** Replace the loss of a step (e.g. with NaN) before the finiteness check. */
  lossOverride?: (step: number, loss: number) => number;
  /** Called after every applied step. */
  afterStep?: (info: { step: number; loss: number }) => void;
}

export interface TrainContext {
  settings: RunSettings;
  runDir: string;
  state: ModelState;
  dataset: TrainingData;
  progress: TrainProgress;
  /** Micro-batch size actually used. */
  microBatch: number;
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

/** Steps in one epoch: full batches only (a last partial batch is dropped, as tf.data's drop_remainder). */
export function stepsPerEpoch(trainSize: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainSize / batchSize));
}

/** Total steps of a run: --steps, else epochs x steps per epoch. */
export function totalSteps(settings: RunSettings, perEpoch: number): number {
  return settings.train.steps ?? settings.train.epochs * perEpoch;
}

/** Dropout seed of micro-batch `micro` of step `step` (a pure function, so resuming is exact). */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  return hashSeed(seed, step, micro, 0xd809) % 2_147_483_647;
}

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
 * The training loop: data-dependent init on the first batch of a fresh run, then Adam steps on
 * -mean log p(x | class) with micro-batch gradient accumulation; held-out bits/dim, a checkpoint,
 * metrics and the loss curve at the end of every epoch; Ctrl-C (signal) and --max-minutes
 * checkpoint and stop; a NaN/Inf loss or gradient stops without touching the last checkpoint.
 */
export async function train(ctx: TrainContext): Promise<TrainOutcome> {
  const { settings, state, dataset, reporter, runDir } = ctx;
  const t = settings.train;
  const { model, adam, ema } = state;
  const vars = model.trainableVariables;
  const B = t.batchSize;
  const micro = Math.min(ctx.microBatch || B, B);
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
  const dims = H * W * C;
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
  const checkpoint = () => {
    lastCheckpoint = saveCheckpoint(runDir, state, meta(), t.keepCheckpoints);
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
    const r = ema ? await ema.withAveraged(run) : await run();
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
      `epoch ${progress.epoch + 1}: held-out ${r.mean.toFixed(4)} ± ${r.ci95.toFixed(4)} bits/dim (95% CI, ${r.n} images${ema ? ', EMA weights' : ''})`,
    );
  };

  reporter.log(
    `training: ${trainSize} drawings, ${perEpoch} steps/epoch of ${B}${micro < B ? ` (micro-batches of ${micro})` : ''}, ` +
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
    const pixels = quantizePixels(raw.images, settings.model.high ?? 255);
    const x = tf.tensor4d(Float32Array.from(pixels), [B, H, W, C]);
    const labels = conditional ? tf.tensor1d(raw.labels, 'int32') : undefined;
    let lossSum = 0;
    let norm = 0;
    const grads: tf.Tensor[] = [];
    try {
      if (!model.initialized) {
        model.initialize(x, { conditionalInput: labels });
        ema?.reset();
      }
      for (let m = 0, i = 0; m < B; m += micro, i++) {
        const size = Math.min(micro, B - m);
        const xs = size === B ? x : tf.slice(x, m, size);
        const ls = labels && size !== B ? tf.slice(labels, m, size) : labels;
        const seed = dropoutSeed(t.seed, progress.step, i);
        const { value, grads: g } = tf.variableGrads(
          () =>
            tf.div(
              tf.neg(
                tf.sum(
                  model.logProb(xs, {
                    conditionalInput: ls,
                    training: true,
                    seed,
                    validate: false,
                  }),
                ),
              ),
              B,
            ) as tf.Scalar,
          vars,
        );
        if (xs !== x) xs.dispose();
        if (ls && ls !== labels) ls.dispose();
        lossSum += (await value.data())[0];
        value.dispose();
        vars.forEach((v, k) => {
          const gk = g[v.name];
          if (grads[k]) {
            const sum = tf.add(grads[k], gk);
            grads[k].dispose();
            gk.dispose();
            grads[k] = sum;
          } else grads[k] = gk;
        });
      }
      const n = globalNorm(grads);
      norm = (await n.data())[0];
      n.dispose();
      if (ctx.hooks?.lossOverride) lossSum = ctx.hooks.lossOverride(progress.step, lossSum);
      if (!Number.isFinite(lossSum) || !Number.isFinite(norm)) {
        const what = Number.isFinite(lossSum) ? `gradient norm (${norm})` : `loss (${lossSum})`;
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
      const lr = adam.apply(grads, norm);
      ema?.update(adam.step);
      progress.step++;
      progress.batchInEpoch++;
      const dt = (performance.now() - t0) / 1000;
      secPerStep = Number.isNaN(secPerStep) ? dt : 0.8 * secPerStep + 0.2 * dt;
      progress.elapsedSeconds = baseElapsed + (performance.now() - runStart) / 1000;
      const bpd = lossSum / (dims * Math.LN2);
      metrics.append({
        kind: 'train',
        step: progress.step,
        epoch: progress.epoch + 1,
        lossNats: lossSum,
        bitsPerDim: bpd,
        learningRate: lr,
        imagesPerSec: B / dt,
        elapsedSeconds: progress.elapsedSeconds,
      });
      ctx.hooks?.afterStep?.({ step: progress.step, loss: lossSum });
      reporter.update({
        step: progress.step,
        totalSteps: total,
        epoch: progress.epoch + 1,
        totalEpochs,
        loss: lossSum,
        bitsPerDim: bpd,
        imagesPerSec: B / secPerStep,
        etaSeconds: (total - progress.step) * secPerStep,
      });
    } finally {
      tf.dispose([x, ...(labels ? [labels] : []), ...grads]);
    }

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
      checkpoint();
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
    if (!lastCheckpoint || !fs.existsSync(path.join(lastCheckpoint, CHECKPOINT_FILE))) checkpoint();
    writeLossPlot(plotFile, metrics, plotTitle);
  }
  return { kind: 'done', checkpoint: lastCheckpoint!, progress };
}
