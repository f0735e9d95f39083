import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import {
  type CheckpointHandlers,
  loadCheckpointFrom,
  PixelCNN,
  saveCheckpointTo,
  Trainer,
} from '@pixelcnn/pixelcnn-dist';
import { type MetricsRow, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import { memorySource, QuickDrawDataset } from '@pixelcnn/quickdraw-data';
import { ProgressReporter, train } from '@pixelcnn/trainer';
import {
  applyPreset,
  type CheckpointMeta,
  modelConfigFrom,
  parseArgs,
  type RunSettings,
  trainerOptions,
  trainOptions,
  trainSettingsFrom,
} from '@pixelcnn/trainer/settings';
import type * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  type SampleGrid,
  type SessionEvents,
  type SessionState,
  TrainingSession,
} from './trainingSession';

const CLASSES = ['apple', 'fish'];

/** 30 synthetic 28x28 bitmaps per class: a class-dependent stroke pattern. */
function dataset(): QuickDrawDataset {
  const sources = CLASSES.map((name, c) => {
    const images = new Uint8Array(30 * 784);
    for (let i = 0; i < images.length; i++) {
      const r = Math.floor((i % 784) / 28);
      const col = i % 28;
      const n = Math.floor(i / 784);
      images[i] = (c === 0 ? (r + n) % 7 < 2 : (col + n) % 5 < 2)
        ? 255
        : (i * 37) % 3 === 0
          ? 80
          : 0;
    }
    return memorySource(name, images);
  });
  return new QuickDrawDataset(sources, { labels: 'index', testFraction: 0.2 });
}

/** The settings `pixelcnn train` makes for a tiny run (as the Train panel builds them). */
function settings(steps: number): RunSettings {
  const parsed = parseArgs(
    [
      '--classes',
      CLASSES.join(','),
      '--num-filters',
      '2',
      '--num-logistic-mix',
      '1',
      '--batch-size',
      '4',
      '--steps',
      String(steps),
      '--eval-images',
      '4',
      '--eval-batch',
      '4',
      '--ema',
      '0.9',
      '--dropout',
      '0.5',
    ],
    trainOptions,
    'pixelcnn train',
  );
  const values = applyPreset(parsed.values, parsed.explicit, 'demo');
  return {
    data: { classes: CLASSES, tfdsLabels: [6, 116], perClass: 30, heldOut: 0.2 },
    model: modelConfigFrom(values, 2, [28, 28, 1]),
    train: trainSettingsFrom(values),
  };
}

const trainerFor = (s: RunSettings) => new Trainer(new PixelCNN(s.model), trainerOptions(s.train));
const fresh = { step: 0, epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 };
const cadence = { evalEvery: 2, gridEvery: 3, gridPerClass: 2, autosaveSeconds: 0, gridSeed: 1 };

/** Events recorded, plus a hook run after every step. */
function recorder(afterStep?: (step: number) => void) {
  const log = {
    rows: [] as MetricsRow[],
    grids: [] as SampleGrid[],
    saved: [] as number[],
    saveErrors: [] as string[],
    states: [] as [SessionState, string | undefined][],
  };
  const events: SessionEvents = {
    step: (row) => {
      log.rows.push(row);
      afterStep?.(row.step);
    },
    eval: (row) => log.rows.push(row),
    grid: (g) => log.grids.push(g),
    saved: (s) => log.saved.push(s),
    saveFailed: (m) => log.saveErrors.push(m),
    state: (s, m) => log.states.push([s, m]),
  };
  return { log, events };
}

/** tfjs IO handlers over a Map (what IndexedDB does for the page). */
function memoryHandlers(): CheckpointHandlers {
  const records = new Map<string, tf.io.ModelArtifacts>();
  const at = (key: string): tf.io.IOHandler => ({
    save: async (a) => {
      records.set(key, structuredClone(a));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
    load: async () => structuredClone(records.get(key)!),
  });
  return { model: at('model'), state: at('state') };
}

const trainLosses = (rows: readonly MetricsRow[]) =>
  rows.filter((r) => r.kind === 'train').map((r) => r.lossNats);

describeBackends('TrainingSession (the page trains as pixelcnn train does)', ({ backend }) => {
  // Each of the first two trains and samples twice (the page's run and the CLI's, or a run and its
  // resumption): ~100 s alone on webgpu over SwiftShader (a CPU emulation of a GPU), past the
  // default 120 s timeout beside other jobs in CI; seconds on wasm and cpu.
  const slow = backend === 'webgpu' ? 900_000 : undefined;
  // Both run pixelcnn-dist's trainLoop: this checks the two adapters' mapping of the run settings
  // to it (the plan, the data order's seed, the held-out subset), on top of the page's cadence.
  it(
    'maps the run settings to the loop as the CLI does (same losses and held-out value), evaluates, samples and autosaves',
    async () => {
      const s = settings(5);
      const data = dataset();
      // the CLI's loop, writing a run directory
      const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-session-'));
      const cliTrainer = trainerFor(s);
      try {
        const outcome = await train({
          settings: s,
          runDir,
          trainer: cliTrainer,
          dataset: data,
          progress: fresh,
          backend: 'test',
          reporter: new ProgressReporter({ write: () => true }),
        });
        expect(outcome.kind).toBe('done');
        const cliRows = parseMetricsJsonl(
          fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'),
        ).rows;

        const trainer = trainerFor(s);
        const saves: CheckpointMeta[] = [];
        const { log, events } = recorder();
        const session = new TrainingSession({
          settings: s,
          trainer,
          dataset: data,
          progress: fresh,
          backend: 'test',
          cadence,
          events,
          autosave: async (_t, meta) => void saves.push(meta),
        });
        await session.run();
        expect(session.state).toBe('finished');
        expect(log.states.map(([st]) => st)).toEqual(['running', 'finished']);
        // identical losses, step by step: same data order, dropout masks and updates as the CLI
        expect(trainLosses(log.rows)).toEqual(trainLosses(cliRows));
        expect(trainLosses(log.rows)).toHaveLength(5);
        // held-out every 2 steps and at the end (the CLI: at the end of the run only here)
        expect(log.rows.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([2, 4, 5]);
        const cliEval = cliRows.find((r) => r.kind === 'eval');
        const lastEval = log.rows.filter((r) => r.kind === 'eval').at(-1);
        expect(lastEval?.bitsPerDim).toBe(cliEval?.bitsPerDim);
        expect(lastEval?.ci95).toBe(cliEval?.ci95);
        // a grid after 3 steps and at the end: real above generated, 2 per class
        expect(log.grids.map((g) => g.step)).toEqual([3, 5]);
        const g = log.grids[1];
        expect(g.classes).toEqual(CLASSES);
        expect(g.generated).toHaveLength(2 * 2 * 784);
        expect(g.realCounts).toEqual([2, 2]);
        for (const v of g.generated) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
        expect(g.real.some((v) => v > 0)).toBe(true);
        // autosaved after every step (autosaveSeconds 0): meta the CLI reads
        expect(saves.map((m) => m.progress.step)).toEqual([1, 2, 3, 4, 5]);
        expect(saves.at(-1)?.settings).toEqual(s);
        expect(saves.at(-1)?.progress.lastEval?.step).toBe(5);
        expect(session.lastSavedStep).toBe(5);
        trainer.dispose();
        trainer.dist.dispose();
      } finally {
        cliTrainer.dispose();
        cliTrainer.dist.dispose();
        fs.rmSync(runDir, { recursive: true, force: true });
      }
    },
    slow,
  );

  it(
    'pauses and stops (autosaving), resumes; a reload resumed from the autosave repeats an uninterrupted run',
    async () => {
      const s = settings(4);
      const data = dataset();
      const straight = recorder();
      const t0 = trainerFor(s);
      await new TrainingSession({
        settings: s,
        trainer: t0,
        dataset: data,
        progress: fresh,
        backend: 'test',
        cadence: { ...cadence, gridEvery: 0, autosaveSeconds: 3600 },
        events: straight.events,
      }).run();
      t0.dispose();
      t0.dist.dispose();

      // pause after step 2 (the pause autosaves), resume, stop after step 3 (the stop autosaves)
      const store = memoryHandlers();
      let session: TrainingSession | undefined;
      const first = recorder((step) => {
        if (step === 2) session?.pause();
        if (step === 3) session?.stop();
      });
      const t1 = trainerFor(s);
      session = new TrainingSession({
        settings: s,
        trainer: t1,
        dataset: data,
        progress: fresh,
        backend: 'test',
        cadence: { ...cadence, gridEvery: 0, autosaveSeconds: 3600 },
        events: first.events,
        autosave: (t, meta) => saveCheckpointTo(store, t, { extra: meta as never }),
      });
      const running = session.run();
      while (session.state !== 'paused') await new Promise((r) => setTimeout(r, 10));
      expect(first.log.saved).toEqual([2]);
      session.resume();
      await running;
      expect(first.log.states.map(([st]) => st)).toEqual([
        'running',
        'paused',
        'running',
        'stopped',
      ]);
      expect(first.log.saved).toEqual([2, 3]);
      t1.dispose();
      t1.dist.dispose();

      // the reload: the autosave's model, trainer state and meta; the page's kept metrics rows
      const { trainer, extra } = await loadCheckpointFrom(store);
      const meta = extra as unknown as CheckpointMeta;
      expect(meta.progress).toMatchObject({ step: 3, batchInEpoch: 3 });
      const second = recorder();
      const resumed = new TrainingSession({
        settings: meta.settings,
        trainer,
        dataset: data,
        progress: meta.progress,
        metrics: first.log.rows,
        backend: 'test',
        cadence: { ...cadence, gridEvery: 0, autosaveSeconds: 3600 },
        events: second.events,
      });
      await resumed.run();
      expect(resumed.state).toBe('finished');
      expect(trainLosses(resumed.metrics)).toEqual(trainLosses(straight.log.rows));
      expect(second.log.rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([4]);
      trainer.dispose();
      trainer.dist.dispose();
    },
    slow,
  );

  it('stops with the last good state named when the backend fails mid-run (no save after it)', async () => {
    const s = settings(5);
    const inner = trainerFor(s);
    let calls = 0;
    const failing = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'trainStep') {
          return async (...args: Parameters<Trainer['trainStep']>) => {
            if (++calls === 3) throw new Error('GPU device was lost');
            return target.trainStep(...args);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const saves: number[] = [];
    const { log, events } = recorder();
    const session = new TrainingSession({
      settings: s,
      trainer: failing,
      dataset: dataset(),
      progress: fresh,
      backend: 'webgpu',
      cadence: { ...cadence, gridEvery: 0 },
      events,
      autosave: async (_t, meta) => void saves.push(meta.progress.step),
    });
    await session.run();
    expect(session.state).toBe('failed');
    expect(saves).toEqual([1, 2]);
    expect(log.states.at(-1)).toEqual([
      'failed',
      'the webgpu backend failed at step 3: GPU device was lost. The last good state, step 2, is saved: reload the page to resume from it (?backend=wasm to change backend).',
    ]);
    inner.dispose();
    inner.dist.dispose();
  });

  it('goes on training when an autosave fails (storage full), and says so', async () => {
    const s = settings(3);
    const trainer = trainerFor(s);
    const { log, events } = recorder();
    const session = new TrainingSession({
      settings: s,
      trainer,
      dataset: dataset(),
      progress: fresh,
      backend: 'wasm',
      cadence: { ...cadence, gridEvery: 0 },
      events,
      autosave: async () => {
        throw new Error('QuotaExceededError: the quota has been exceeded');
      },
    });
    await session.run();
    expect(session.state).toBe('finished');
    expect(trainer.step).toBe(3);
    expect(log.saved).toEqual([]);
    expect(log.saveErrors).toHaveLength(3);
    expect(log.saveErrors[0]).toMatch(/quota has been exceeded/);
    trainer.dispose();
    trainer.dist.dispose();
  });

  it('a stop cuts a sample grid short and saves the whole step', async () => {
    const s = settings(4);
    const trainer = trainerFor(s);
    let session: TrainingSession | undefined;
    const { log, events } = recorder((step) => {
      if (step === 1) session?.stop(); // before the grid of step 1 is drawn
    });
    const saves: number[] = [];
    session = new TrainingSession({
      settings: s,
      trainer,
      dataset: dataset(),
      progress: fresh,
      backend: 'wasm',
      cadence: { ...cadence, gridEvery: 1, autosaveSeconds: 3600 },
      events,
      autosave: async (_t, meta) => void saves.push(meta.progress.step),
    });
    await session.run();
    expect(log.states.map(([st]) => st)).toEqual(['running', 'stopped']);
    expect(log.grids).toEqual([]);
    expect(saves).toEqual([1]);
    expect(trainer.step).toBe(1);
    trainer.dispose();
    trainer.dist.dispose();
  });

  it('refuses a batch larger than the training split before any step', async () => {
    const s = { ...settings(2) };
    s.train = { ...s.train, batchSize: 64 };
    const trainer = trainerFor(s);
    const { log, events } = recorder();
    const session = new TrainingSession({
      settings: s,
      trainer,
      dataset: dataset(),
      progress: fresh,
      backend: 'test',
      cadence,
      events,
    });
    await session.run();
    expect(log.states).toEqual([
      [
        'failed',
        expect.stringMatching(/^the training split has \d+ images, fewer than the batch size 64/),
      ],
    ]);
    expect(trainer.step).toBe(0);
    trainer.dispose();
    trainer.dist.dispose();
  });
});
