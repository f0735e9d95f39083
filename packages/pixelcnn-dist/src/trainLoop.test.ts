import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { rotation, rowsData } from '../test/rowsData';
import { TINY } from '../test/tiny';
import { decodeCheckpoint, encodeCheckpoint } from './checkpointFiles';
import type { PixelCNNConfig } from './config';
import { PixelCNN } from './pixelCnn';
import type { MetricsRow, RunProgress } from './runDirectory';
import { Trainer, type TrainerOptions } from './trainer';
import {
  type CheckpointReason,
  stepsPerEpoch,
  type TrainingPlan,
  type TrainLoopOptions,
  totalSteps,
  trainLoop,
} from './trainLoop';

// TINY's 4x4 images of levels 0..3, two classes, as bytes (level * 85): 24 to train on, 4 held
// out. Class 0 has horizontal stripes, class 1 vertical ones, shifted per image.
const N_TRAIN = 24;
const N = N_TRAIN + 4;
const labels = Int32Array.from({ length: N }, (_, n) => n % 2);
const levels = Array.from({ length: N * 16 }, (_, i) => {
  const n = Math.floor(i / 16);
  const r = Math.floor((i % 16) / 4);
  const c = i % 4;
  return ((n % 2 ? c : r) + n) % 4;
});
const bytes = Uint8Array.from(levels, (v) => v * 85);
const data = () => rowsData(bytes, labels, 16, N_TRAIN);

const config: PixelCNNConfig = {
  ...TINY,
  conditionalShape: [],
  numClasses: 2,
  dropoutP: 0.5,
  seed: 3,
};
const options: TrainerOptions = { learningRate: 1e-2, emaDecay: 0.9, seed: 1, validate: false };
const fresh = (): RunProgress => ({ step: 0, epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 });
/** 4 images a step: 6 steps an epoch. */
const plan = (o: Partial<TrainingPlan> = {}): TrainingPlan => ({
  batchSize: 4,
  epochs: 1,
  steps: 8,
  seed: 5,
  evalImages: 0,
  evalBatch: 3,
  ...o,
});

const make = () => new Trainer(new PixelCNN(config), options);
const dispose = (t: Trainer) => {
  t.dispose();
  t.dist.dispose();
};

/** trainLoop with its train rows, checkpoints (reason at step) and events recorded. */
async function run(trainer: Trainer, o: Partial<TrainLoopOptions> = {}) {
  const rows: MetricsRow[] = [];
  const saves: [number, CheckpointReason][] = [];
  const outcome = await trainLoop({
    trainer,
    data: data(),
    plan: plan(),
    progress: fresh(),
    ...o,
    checkpoint:
      'checkpoint' in o
        ? o.checkpoint
        : { save: async (reason, p) => void saves.push([p.step, reason]) },
    events: {
      ...o.events,
      step: (r) => {
        rows.push(r.row);
        return o.events?.step?.(r);
      },
      evaluated: (row, scores) => {
        rows.push(row);
        return o.events?.evaluated?.(row, scores);
      },
    },
  });
  const losses = rows.filter((r) => r.kind === 'train').map((r) => r.lossNats);
  return { outcome, rows, saves, losses };
}

async function weights(t: Trainer): Promise<Float32Array[]> {
  return Promise.all(t.dist.trainableVariables.map(async (v) => (await v.data()) as Float32Array));
}

describe('stepsPerEpoch and totalSteps', () => {
  it('count full batches only, and steps over epochs', () => {
    expect(stepsPerEpoch(24, 4)).toBe(6);
    expect(stepsPerEpoch(27, 4)).toBe(6); // the partial batch is dropped
    expect(stepsPerEpoch(3, 4)).toBe(1);
    expect(totalSteps({ epochs: 3, steps: null }, 6)).toBe(18);
    expect(totalSteps({ epochs: 3 }, 6)).toBe(18);
    expect(totalSteps({ epochs: 3, steps: 7 }, 6)).toBe(7);
  });
});

describeBackends('trainLoop', () => {
  it("trains each epoch's order batch by batch, as a hand-written Trainer loop does", async () => {
    const trainer = make();
    const d = data();
    const { outcome, rows, saves, losses } = await run(trainer, {
      data: d,
      plan: plan({ steps: 14 }),
      evalEvery: 4,
      checkpoint: undefined,
    });
    expect(outcome.kind).toBe('done');
    // 14 steps of 6 an epoch: epochs 1, 2 and 2 steps of the third
    expect(outcome.progress).toMatchObject({ step: 14, epoch: 2, batchInEpoch: 2 });
    expect(rows.filter((r) => r.kind === 'train').map((r) => r.epoch)).toEqual([
      1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3,
    ]);
    // held out at every 4th step, each epoch's end and the last step; eval rows name the epoch just done
    const evals = rows.filter((r) => r.kind === 'eval');
    expect(evals.map((r) => [r.step, r.epoch])).toEqual([
      [4, 1],
      [6, 1],
      [8, 2],
      [12, 2],
      [14, 3],
    ]);
    expect(saves).toEqual([]);
    // the batches read: positions [4k, 4k + 4) of epoch e's order (seed 5 + e)
    const trainReads = d.reads.filter((r) => r.split === 'train').map((r) => r.rows);
    const expected = Array.from({ length: 14 }, (_, k) => {
      const order = rotation(N_TRAIN, 5, Math.floor(k / 6));
      return order.slice((k % 6) * 4, (k % 6) * 4 + 4);
    });
    expect(trainReads).toEqual(expected);

    // the same batches through Trainer.trainStep by hand: the same losses, to the last bit
    const ref = make();
    const refLosses: number[] = [];
    for (const batch of expected) {
      const x = tf.tensor4d(
        batch.flatMap((r) => levels.slice(r * 16, r * 16 + 16)),
        [4, 4, 4, 1],
      );
      const y = tf.tensor1d(
        batch.map((r) => labels[r]),
        'int32',
      );
      refLosses.push((await ref.trainStep(x, { conditionalInput: y })).loss);
      tf.dispose([x, y]);
    }
    expect(losses).toEqual(refLosses);
    expect(new Set(losses).size).toBe(14);
    expect(await weights(trainer)).toEqual(await weights(ref));

    // the last held-out value: the EMA weights' bits/dim of the 4 held-out images, by logProb
    const heldOut = await ref.withEmaWeights(async () => {
      const x = tf.tensor4d(levels.slice(N_TRAIN * 16), [4, 4, 4, 1]);
      const lp = ref.dist.logProb(x, { conditionalInput: tf.tensor1d([0, 1, 0, 1], 'int32') });
      const v = Array.from(await lp.data());
      tf.dispose([x, lp]);
      return v.reduce((a, b) => a - b / (16 * Math.LN2), 0) / 4;
    });
    expect(outcome.progress.lastEval).toMatchObject({ step: 14, epoch: 3, images: 4 });
    expect(outcome.progress.lastEval?.bitsPerDim).toBeCloseTo(heldOut, 5);
    expect(evals.at(-1)?.bitsPerDim).toBe(outcome.progress.lastEval?.bitsPerDim);
    dispose(trainer);
    dispose(ref);
  });

  it('checkpoints once a step: every N steps, epoch ends and the end; in this order of events', async () => {
    const trainer = make();
    const seen: string[] = [];
    let yields = 0;
    let locks = 0;
    const { saves } = await run(trainer, {
      plan: plan({ steps: 13 }),
      evalEvery: 6,
      checkpoint: {
        everySteps: 4,
        save: async (reason, p) => {
          seen.push(`save ${p.step} ${reason}`);
        },
      },
      events: {
        start: (length) => void seen.push(`start ${JSON.stringify(length)}`),
        step: (r) => void seen.push(`step ${r.row.step}`),
        evaluated: (row) => void seen.push(`eval ${row.step}`),
        afterStep: (p, { finished }) => void seen.push(`after ${p.step}${finished ? ' end' : ''}`),
      },
      control: {
        yieldToEvents: async () => void yields++,
        exclusive: (f) => {
          locks++;
          return f();
        },
      },
    });
    expect(saves).toEqual([]); // run()'s default recorder was replaced
    expect(seen.filter((s) => s.startsWith('save'))).toEqual([
      'save 4 steps',
      'save 6 epoch',
      'save 8 steps',
      'save 12 epoch', // an epoch's end and a 4th step: once
      'save 13 end',
    ]);
    expect(seen.slice(0, 4)).toEqual([
      'start {"trainSize":24,"stepsPerEpoch":6,"totalSteps":13,"totalEpochs":3}',
      'step 1',
      'after 1',
      'step 2',
    ]);
    const i = seen.indexOf('step 6');
    expect(seen.slice(i, i + 5)).toEqual(['step 6', 'eval 6', 'after 6', 'save 6 epoch', 'step 7']);
    expect(seen.slice(-4)).toEqual(['step 13', 'eval 13', 'after 13 end', 'save 13 end']);
    expect(yields).toBe(13); // after every step
    expect(locks).toBe(13 + 3); // every step and every evaluation
    dispose(trainer);
  });

  it('a run stopped by its signal and resumed from its checkpoint repeats the uninterrupted run', async () => {
    const straightTrainer = make();
    const straight = await run(straightTrainer, { evalEvery: 3 });
    expect(straight.outcome.kind).toBe('done');
    expect(straight.saves).toEqual([
      [6, 'epoch'],
      [8, 'end'],
    ]);

    const first = make();
    const stop = new AbortController();
    let files: Awaited<ReturnType<typeof encodeCheckpoint>> | undefined;
    const stopped = await run(first, {
      evalEvery: 3,
      control: { signal: stop.signal },
      events: { step: (r) => void (r.row.step === 4 && stop.abort()) },
      checkpoint: {
        save: async (reason, progress) => {
          expect(reason).toBe('stop');
          files = await encodeCheckpoint(first, { extra: { progress: { ...progress } } });
        },
      },
    });
    expect(stopped.outcome).toMatchObject({
      kind: 'stopped',
      progress: { step: 4, batchInEpoch: 4 },
    });
    dispose(first);

    const { trainer, extra } = await decodeCheckpoint(files!);
    const progress = (extra as { progress: RunProgress }).progress;
    expect(progress.lastEval?.step).toBe(3);
    const resumed = await run(trainer, {
      evalEvery: 3,
      progress,
      checkpoint: { savedStep: 4, save: async () => {} },
    });
    expect(resumed.outcome.kind).toBe('done');
    expect(resumed.rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([5, 6, 7, 8]);
    expect([...stopped.losses.slice(0, 4), ...resumed.losses]).toEqual(straight.losses);
    const evalsOf = (rows: MetricsRow[]) => rows.filter((r) => r.kind === 'eval');
    expect(evalsOf(resumed.rows)).toEqual(
      evalsOf(straight.rows)
        .filter((r) => r.step > 4)
        .map((r) => ({ ...r, elapsedSeconds: expect.any(Number) })),
    );
    expect(await weights(trainer)).toEqual(await weights(straightTrainer));
    dispose(trainer);
    dispose(straightTrainer);
  });

  it('pauses between steps after a checkpoint; a stop while paused ends it without another', async () => {
    const trainer = make();
    const stop = new AbortController();
    const log: string[] = [];
    let release: (() => void) | undefined;
    const progress = fresh();
    const running = run(trainer, {
      progress,
      checkpoint: { save: async (reason, p) => void log.push(`save ${p.step} ${reason}`) },
      control: {
        signal: stop.signal,
        pause: () =>
          progress.step === 2 && !release
            ? () =>
                new Promise<void>((r) => {
                  log.push(`wait at ${progress.step}`);
                  release = r;
                })
            : undefined,
      },
    });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['save 2 pause', 'wait at 2']);
    expect(trainer.step).toBe(2);
    stop.abort();
    release();
    const { outcome } = await running;
    expect(outcome).toMatchObject({ kind: 'stopped', progress: { step: 2 } });
    expect(log).toEqual(['save 2 pause', 'wait at 2']); // the stop's checkpoint would repeat it
    dispose(trainer);
  });

  it('keeps time with the clock it is given: checkpoints every N seconds, stops at the time limit', async () => {
    let ms = 1000;
    const tick = () => {
      ms += 60_000; // a step takes a minute
    };
    const timed = { now: () => ms };
    const a = make();
    const paces: number[][] = [];
    const every = await run(a, {
      plan: plan({ steps: 5 }),
      progress: { ...fresh(), elapsedSeconds: 30 },
      prepareBatch: tick,
      control: timed,
      checkpoint: { everySeconds: 100, save: async () => {} },
      events: {
        step: (r) => void paces.push([r.secondsPerStep, r.imagesPerSec, r.etaSeconds]),
      },
    });
    expect(every.outcome.kind).toBe('done');
    expect(every.outcome.progress.elapsedSeconds).toBe(30 + 300);
    expect(paces[0]).toEqual([60, 4 / 60, 4 * 60]);
    expect(paces[4]).toEqual([60, 4 / 60, 0]);
    dispose(a);

    const saves: [number, CheckpointReason][] = [];
    const b = make();
    const limited = await run(b, {
      plan: plan({ steps: 5 }),
      prepareBatch: tick,
      control: { ...timed, timeLimitSeconds: 150 },
      checkpoint: {
        everySeconds: 100,
        save: async (reason, p) => void saves.push([p.step, reason]),
      },
    });
    expect(limited.outcome).toMatchObject({ kind: 'time-limit', progress: { step: 3 } });
    expect(saves).toEqual([
      [2, 'seconds'],
      [3, 'time-limit'],
    ]);
    dispose(b);
  });

  it('stops at a non-finite loss before its update, naming the step; the last checkpoint stays the last', async () => {
    const trainer = make();
    const checkpoints: [number, CheckpointReason][] = [];
    const { outcome, saves } = await run(trainer, {
      prepareBatch: ({ step, pixels }) => {
        if (step === 2) pixels[5] = Number.NaN;
      },
      checkpoint: {
        everySteps: 1,
        save: async (reason, p) => void checkpoints.push([p.step, reason]),
      },
    });
    expect(outcome).toMatchObject({
      kind: 'non-finite',
      step: 3,
      epoch: 1,
      what: 'loss',
      progress: { step: 2 },
      message:
        'non-finite loss (NaN) at step 3 (epoch 1); the update was not applied and training stopped.',
    });
    expect(saves).toEqual([]);
    expect(checkpoints).toEqual([
      [1, 'steps'],
      [2, 'steps'],
    ]);
    expect(trainer.step).toBe(2);
    dispose(trainer);
  });

  it('saves a resumed finished run only when its checkpoint is missing', async () => {
    const trainer = make();
    const done = { step: 8, epoch: 1, batchInEpoch: 2, elapsedSeconds: 9 };
    const a = await run(trainer, { progress: { ...done } });
    expect(a.outcome.kind).toBe('done');
    expect(a.saves).toEqual([[8, 'end']]);
    const saves: number[] = [];
    const b = await run(trainer, {
      progress: { ...done },
      checkpoint: { savedStep: 8, save: async (_r, p) => void saves.push(p.step) },
    });
    expect(b.outcome.kind).toBe('done');
    expect(saves).toEqual([]);
    expect(trainer.step).toBe(0);
    dispose(trainer);
  });

  it('refuses, before any step, a plan the data cannot fill and bad options, naming them', async () => {
    const trainer = make();
    const go = (o: Partial<TrainLoopOptions>) =>
      trainLoop({ trainer, data: data(), plan: plan(), progress: fresh(), ...o });
    await expect(go({ plan: plan({ batchSize: 25 }) })).rejects.toThrow(
      /^Error in trainLoop: the training split has 24 images, fewer than the batch size 25; use more images or a smaller batch$/,
    );
    await expect(go({ progress: { ...fresh(), batchInEpoch: 6 } })).rejects.toThrow(
      /progress.batchInEpoch 6 is past the 6 steps of an epoch \(24 training images of 4\): was the data changed/,
    );
    await expect(go({ plan: plan({ batchSize: 0 }) })).rejects.toThrow(
      'Error in trainLoop: plan.batchSize must be an integer >= 1, got 0',
    );
    await expect(go({ plan: plan({ steps: null, epochs: 0 }) })).rejects.toThrow(
      'plan.epochs must be an integer >= 1, got 0',
    );
    await expect(go({ evalEvery: 1.5 })).rejects.toThrow('evalEvery must be an integer >= 0');
    await expect(go({ control: { timeLimitSeconds: 0 } })).rejects.toThrow(
      'control.timeLimitSeconds must be > 0, got 0',
    );
    await expect(go({ checkpoint: { everySeconds: -1, save: async () => {} } })).rejects.toThrow(
      'checkpoint.everySeconds must be >= 0, got -1',
    );
    const short = data();
    const read = short.read.bind(short);
    short.read = async (order, start, end) => {
      const r = await read(order, start, end);
      return { ...r, images: r.images.subarray(16) };
    };
    await expect(go({ data: short })).rejects.toThrow(
      'Error in trainLoop: data.read gave 48 pixel values and 4 labels for 4 images of [4, 4, 1] (expected 64 and 4)',
    );
    const vector = new Trainer(new PixelCNN({ ...TINY, conditionalShape: [2], seed: 1 }));
    await expect(
      trainLoop({ trainer: vector, data: data(), plan: plan(), progress: fresh() }),
    ).rejects.toThrow(
      "it feeds each image's class label, so the model's conditionalShape must be [] (a scalar label), got [2]",
    );
    expect(trainer.step).toBe(0);
    expect(trainer.dist.initialized).toBe(false);
    dispose(trainer);
    dispose(vector);
  });
});
