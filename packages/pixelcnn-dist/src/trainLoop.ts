// The one training loop around the Trainer (the one step engine): epochs and the data order,
// each batch read, requantised and trained on, held-out evaluations, and checkpoints for every
// reason a program has (every N steps or seconds, epoch ends, the end, a stop, a time limit, a
// pause), with pause and stop between steps. `pixelcnn train` and the web page's worker both
// run it: what differs between them is options and callbacks. Browser-safe: no I/O of its own.
import * as tf from '@tensorflow/tfjs-core';
import { type BitsPerDimScores, evaluateBitsPerDim } from './evaluateBitsPerDim';
import { type MetricsRow, quantizePixels, type RunProgress } from './runDirectory';
import type { Trainer, TrainStepResult } from './trainer';
import type { ExampleOrder, TrainingData } from './trainingData';

/** What a run trains: its batches, their order, its length and its held-out evaluation. */
export interface TrainingPlan {
  /** Images per optimizer step (the Trainer splits it into micro-batches where asked). */
  batchSize: number;
  /** Passes over the training split, when `steps` is not given. */
  epochs: number;
  /** Optimizer steps in all (overrides `epochs`); null or absent: epochs x steps per epoch. */
  steps?: number | null;
  /** Seed of the data order: epoch e visits `data.examples('train', { seed, epoch: e })`. */
  seed: number;
  /** Held-out images scored at each evaluation (0 = all; a fixed subset, see EVAL_SEED). */
  evalImages: number;
  /** Batch size of the evaluation. */
  evalBatch: number;
}

/** Steps in one epoch: full batches only (a last partial batch is dropped, as tf.data's drop_remainder). */
export function stepsPerEpoch(trainSize: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainSize / batchSize));
}

/** Total steps of a run: `steps`, else epochs x steps per epoch. */
export function totalSteps(plan: Pick<TrainingPlan, 'epochs' | 'steps'>, perEpoch: number): number {
  return plan.steps ?? plan.epochs * perEpoch;
}

/** How long a run is, from its plan and the training split. */
export interface RunLength {
  trainSize: number;
  stepsPerEpoch: number;
  totalSteps: number;
  totalEpochs: number;
}

/**
 * Why the loop asks for a checkpoint: every N steps or seconds, an epoch's end, the end of the
 * run, a stop (the signal), the time limit, or a pause.
 */
export type CheckpointReason =
  | 'steps'
  | 'seconds'
  | 'epoch'
  | 'end'
  | 'stop'
  | 'time-limit'
  | 'pause';

/** What the loop reports after every applied step. */
export interface StepReport {
  /** The step's metrics row (`kind: 'train'`). */
  row: MetricsRow;
  /** The Trainer's result (loss, learning rate, micro-batches, ...). */
  result: TrainStepResult;
  /** Where training stands now (the loop's live object). */
  progress: RunProgress;
  totalSteps: number;
  totalEpochs: number;
  /** Smoothed over steps (0.8 / 0.2): seconds a step, images a second, seconds left at that pace. */
  secondsPerStep: number;
  imagesPerSec: number;
  etaSeconds: number;
}

/** What the loop tells its caller. Each may return a promise, which the loop awaits. */
export interface TrainLoopEvents {
  /** Before the first step (after the plan is checked): the run's length. */
  start?(length: RunLength): void | Promise<void>;
  /** After every applied step, right away (before any evaluation or checkpoint). */
  step?(report: StepReport): void | Promise<void>;
  /** After each held-out evaluation (also in `progress.lastEval`): its row and the scores. */
  evaluated?(row: MetricsRow, scores: BitsPerDimScores): void | Promise<void>;
  /** After a step's evaluation, before its checkpoint: the caller's side work (a page's sample grid). */
  afterStep?(progress: RunProgress, o: { finished: boolean }): void | Promise<void>;
}

/** Where and when the loop checkpoints. */
export interface TrainLoopCheckpoints {
  /**
   * Save the trainer (its whole state) and `progress` (e.g. `saveCheckpoint(dir, trainer, {
   * extra: { progress } })`). Called at most once a step: at each epoch's end, the end, a stop
   * and the time limit, every `everySteps` steps and every `everySeconds` seconds, and on a
   * pause; never twice for one step. What it throws ends the loop.
   */
  save(reason: CheckpointReason, progress: RunProgress): Promise<void>;
  /** Also every N steps (counted from step 0; 0 or absent: no). */
  everySteps?: number;
  /** Also when this many seconds have passed since the last checkpoint or the start (0: every step). */
  everySeconds?: number;
  /** The step of a checkpoint that exists already (a resumed run's): not saved again at it. */
  savedStep?: number;
}

/** How the caller steers the loop. */
export interface TrainLoopControl {
  /** Stop between steps: the loop checkpoints (reason 'stop') and returns `{ kind: 'stopped' }`. */
  signal?: AbortSignal;
  /**
   * Asked before every step whether to pause: return a function that resolves when the run may
   * go on (the loop checkpoints first, reason 'pause', then awaits it), or nothing to go on.
   */
  pause?: () => (() => Promise<void>) | undefined;
  /** Stop (with a checkpoint, `{ kind: 'time-limit' }`) once this much wall time has passed. */
  timeLimitSeconds?: number;
  /** Run each piece of tensor work (a step, an evaluation) alone among the caller's (a worker's lock). */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Awaited after every step: let the caller's messages through (a worker: a macrotask). */
  yieldToEvents?: () => Promise<void>;
  /** Milliseconds, for the pace, the elapsed time and the clocks above (default `performance.now`). */
  now?: () => number;
}

export interface TrainLoopOptions {
  /** The Trainer of the model (fresh, or restored from a checkpoint with the same `progress`). */
  trainer: Trainer;
  data: TrainingData;
  plan: TrainingPlan;
  /**
   * Where training stands, updated in place as it goes (step, epoch, batchInEpoch,
   * elapsedSeconds, lastEval): a fresh run `{ step: 0, epoch: 0, batchInEpoch: 0,
   * elapsedSeconds: 0 }`, a resumed one its checkpoint's.
   */
  progress: RunProgress;
  /** Held-out bits/dim at each epoch's end and the last step, and also every N steps (0: only those). */
  evalEvery?: number;
  checkpoint?: TrainLoopCheckpoints;
  events?: TrainLoopEvents;
  control?: TrainLoopControl;
  /**
   * Alter a batch in place before it trains (pixels already requantised to 0..high):
   * augmentation (seed it by `step`, so a resumed run repeats it) or, in tests, fault injection.
   */
  prepareBatch?: (batch: { step: number; pixels: Float32Array; labels: Int32Array }) => void;
}

/** How the loop ended. `progress` is the loop's (the one passed in). */
export type TrainLoopOutcome =
  | { kind: 'done'; progress: RunProgress }
  | { kind: 'stopped'; progress: RunProgress }
  | { kind: 'time-limit'; progress: RunProgress }
  | {
      kind: 'non-finite';
      progress: RunProgress;
      /** The 1-based step (and epoch) whose update was not applied. */
      step: number;
      epoch: number;
      what: 'loss' | 'gradient norm';
      value: number;
      /** "non-finite loss (NaN) at step 3 (epoch 1); the update was not applied and training stopped." */
      message: string;
    };

const clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function checkOptions(fn: string, o: TrainLoopOptions): void {
  const { plan, progress } = o;
  const int = (name: string, v: unknown, min: number) => {
    if (!(Number.isInteger(v) && (v as number) >= min)) {
      throw new Error(`Error in ${fn}: ${name} must be an integer >= ${min}, got ${v}`);
    }
  };
  int('plan.batchSize', plan.batchSize, 1);
  if (plan.steps == null) int('plan.epochs', plan.epochs, 1);
  else int('plan.steps', plan.steps, 1);
  int('plan.seed', plan.seed, Number.MIN_SAFE_INTEGER);
  int('plan.evalImages', plan.evalImages, 0);
  int('plan.evalBatch', plan.evalBatch, 1);
  int('progress.step', progress.step, 0);
  int('progress.epoch', progress.epoch, 0);
  int('progress.batchInEpoch', progress.batchInEpoch, 0);
  if (o.evalEvery !== undefined) int('evalEvery', o.evalEvery, 0);
  if (o.checkpoint?.everySteps !== undefined)
    int('checkpoint.everySteps', o.checkpoint.everySteps, 0);
  const secs = o.checkpoint?.everySeconds;
  if (secs !== undefined && !(secs >= 0)) {
    throw new Error(`Error in ${fn}: checkpoint.everySeconds must be >= 0, got ${secs}`);
  }
  const limit = o.control?.timeLimitSeconds;
  if (limit !== undefined && !(limit > 0)) {
    throw new Error(`Error in ${fn}: control.timeLimitSeconds must be > 0, got ${limit}`);
  }
  const cond = o.trainer.dist.config.conditionalShape;
  if (cond != null && cond.length !== 0) {
    throw new Error(
      `Error in ${fn}: it feeds each image's class label, so the model's conditionalShape must be [] (a scalar label), got [${cond.join(', ')}]`,
    );
  }
}

/**
 * Train `trainer` on `data` by `plan` from `progress` to the run's last step, a stop, the time
 * limit or a non-finite loss or gradient (the Trainer skips that update; the loop stops without
 * a checkpoint, so the last one stays the last good state). Each step reads positions
 * `[batchInEpoch * B, (batchInEpoch + 1) * B)` of the epoch's order, so a run resumed from a
 * checkpoint's trainer and progress repeats an uninterrupted one step for step (the Trainer's
 * state and its dropout seeds are exact). Nothing reads a tensor synchronously. Errors (the
 * backend's, the callbacks') reject; a plan the data cannot fill is refused before any step.
 */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopOutcome> {
  const fn = 'trainLoop';
  checkOptions(fn, o);
  const { trainer, data, plan, progress, events = {}, checkpoint, control = {} } = o;
  const dist = trainer.dist;
  const now = control.now ?? clock;
  const exclusive = control.exclusive ?? (<T>(f: () => Promise<T>) => f());
  const B = plan.batchSize;
  const trainSize = data.size('train');
  if (trainSize < B) {
    throw new Error(
      `Error in ${fn}: the training split has ${trainSize} images, fewer than the batch size ${B}; use more images or a smaller batch`,
    );
  }
  const perEpoch = stepsPerEpoch(trainSize, B);
  if (progress.batchInEpoch >= perEpoch) {
    throw new Error(
      `Error in ${fn}: progress.batchInEpoch ${progress.batchInEpoch} is past the ${perEpoch} steps of an epoch (${trainSize} training images of ${B}): was the data changed since the checkpoint?`,
    );
  }
  const total = totalSteps(plan, perEpoch);
  const totalEpochs = Math.ceil(total / perEpoch);
  const [H, W, C] = dist.eventShape;
  const high = dist.config.high;
  const conditional = dist.config.conditionalShape != null;
  const evalEvery = o.evalEvery ?? 0;
  const everySteps = checkpoint?.everySteps ?? 0;
  const everySeconds = checkpoint?.everySeconds;
  const startStep = progress.step;
  const runStart = now();
  const baseElapsed = progress.elapsedSeconds;
  let savedStep = checkpoint?.savedStep;
  let lastSave = runStart;
  let secPerStep = Number.NaN;
  let order: ExampleOrder | undefined;
  let orderEpoch = -1;

  const save = async (reason: CheckpointReason) => {
    if (!checkpoint || savedStep === progress.step) return;
    await checkpoint.save(reason, progress);
    savedStep = progress.step;
    lastSave = now();
  };

  const evaluate = async (epoch: number) => {
    const scores = await exclusive(() =>
      trainer.withEmaWeights(() =>
        evaluateBitsPerDim(dist, data, {
          split: 'test',
          maxImages: plan.evalImages,
          batchSize: plan.evalBatch,
        }),
      ),
    );
    const held = { bitsPerDim: scores.mean, ci95: scores.ci95, images: scores.n };
    progress.lastEval = { step: progress.step, epoch, ...held };
    const row: MetricsRow = {
      kind: 'eval',
      step: progress.step,
      epoch,
      ...held,
      elapsedSeconds: progress.elapsedSeconds,
    };
    await events.evaluated?.(row, scores);
  };

  /** Read, requantise and train on the batch at the current position. */
  const trainBatch = async (): Promise<TrainStepResult> => {
    if (!order || orderEpoch !== progress.epoch) {
      order = data.examples('train', { seed: plan.seed, epoch: progress.epoch });
      orderEpoch = progress.epoch;
    }
    const start = progress.batchInEpoch * B;
    const raw = await data.read(order, start, start + B);
    if (raw.images.length !== B * H * W * C || raw.labels.length !== B) {
      throw new Error(
        `Error in ${fn}: data.read gave ${raw.images.length} pixel values and ${raw.labels.length} labels for ${B} images of [${H}, ${W}, ${C}] (expected ${B * H * W * C} and ${B})`,
      );
    }
    const pixels = Float32Array.from(quantizePixels(raw.images, high));
    o.prepareBatch?.({ step: progress.step, pixels, labels: raw.labels });
    const x = tf.tensor4d(pixels, [B, H, W, C]);
    const labels = conditional ? tf.tensor1d(raw.labels, 'int32') : undefined;
    try {
      return await trainer.trainStep(x, { conditionalInput: labels });
    } finally {
      tf.dispose([x, ...(labels ? [labels] : [])]);
    }
  };

  await events.start?.({ trainSize, stepsPerEpoch: perEpoch, totalSteps: total, totalEpochs });
  while (progress.step < total) {
    const waitWhilePaused = control.pause?.();
    if (waitWhilePaused) {
      await save('pause');
      await waitWhilePaused();
    }
    if (control.signal?.aborted) {
      await save('stop');
      return { kind: 'stopped', progress };
    }
    const t0 = now();
    const epoch = progress.epoch + 1; // 1-based: the epoch this step belongs to
    const result = await exclusive(trainBatch);
    if (result.skipped) {
      const what = Number.isFinite(result.loss) ? 'gradient norm' : 'loss';
      const value = what === 'loss' ? result.loss : result.gradNorm;
      const step = progress.step + 1;
      return {
        kind: 'non-finite',
        progress,
        step,
        epoch,
        what,
        value,
        message: `non-finite ${what} (${value}) at step ${step} (epoch ${epoch}); the update was not applied and training stopped.`,
      };
    }
    progress.step++;
    progress.batchInEpoch++;
    const epochDone = progress.batchInEpoch >= perEpoch;
    if (epochDone) {
      progress.epoch++;
      progress.batchInEpoch = 0;
    }
    const finished = progress.step >= total;
    const dt = (now() - t0) / 1000;
    secPerStep = Number.isNaN(secPerStep) ? dt : 0.8 * secPerStep + 0.2 * dt;
    progress.elapsedSeconds = baseElapsed + (now() - runStart) / 1000;
    const row: MetricsRow = {
      kind: 'train',
      step: progress.step,
      epoch,
      lossNats: result.loss,
      bitsPerDim: result.bitsPerDim,
      learningRate: result.learningRate,
      imagesPerSec: B / dt,
      elapsedSeconds: progress.elapsedSeconds,
    };
    await events.step?.({
      row,
      result,
      progress,
      totalSteps: total,
      totalEpochs,
      secondsPerStep: secPerStep,
      imagesPerSec: B / secPerStep,
      etaSeconds: (total - progress.step) * secPerStep,
    });
    if (epochDone || finished || (evalEvery > 0 && progress.step % evalEvery === 0)) {
      await evaluate(epoch);
    }
    await events.afterStep?.(progress, { finished });
    const stopped = control.signal?.aborted === true && !finished;
    const timeUp =
      control.timeLimitSeconds !== undefined &&
      !finished &&
      (now() - runStart) / 1000 >= control.timeLimitSeconds;
    const reason: CheckpointReason | undefined = finished
      ? 'end'
      : stopped
        ? 'stop'
        : timeUp
          ? 'time-limit'
          : epochDone
            ? 'epoch'
            : everySteps > 0 && progress.step % everySteps === 0
              ? 'steps'
              : everySeconds !== undefined && now() - lastSave >= everySeconds * 1000
                ? 'seconds'
                : undefined;
    if (reason) await save(reason);
    if (stopped) return { kind: 'stopped', progress };
    if (timeUp) return { kind: 'time-limit', progress };
    await control.yieldToEvents?.();
  }
  // Nothing was left to train (a finished run resumed): the state is saved unless it already is.
  if (progress.step === startStep) await save('end');
  return { kind: 'done', progress };
}
