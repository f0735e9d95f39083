// One training run in the page: the CLI's epochs and data order around pixelcnn-dist's Trainer
// (the one training engine), with what a page adds: pause, resume and stop between steps, a
// held-out evaluation every few steps, a grid of samples (real drawings above generated ones,
// per class) every few steps, and an autosave every few seconds. No DOM: it runs in the worker
// and, in tests, in Node.
import type { Trainer } from '@pixelcnn/pixelcnn-dist';
import { type MetricsRow, quantizePixels, type RunProgress } from '@pixelcnn/pixelcnn-dist/run';
import {
  type CheckpointMeta,
  evaluateBitsPerDim,
  type RunSettings,
  stepsPerEpoch,
  type TrainingData,
  totalSteps,
} from '@pixelcnn/trainer/settings';
import * as tf from '@tensorflow/tfjs-core';

export type SessionState = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

/** What the page shows besides the metrics rows, after every step. */
export interface LiveStats {
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  /** Smoothed seconds per step, images per second and the time left at that pace. */
  secondsPerStep: number;
  imagesPerSec: number;
  etaSeconds: number;
  microBatches: number;
}

/** Real drawings above generated ones, per class (`perClass` of each), after step `step`. */
export interface SampleGrid {
  step: number;
  classes: string[];
  perClass: number;
  /** `[classes * perClass * H * W * C]` pixel levels 0..high of held-out drawings (fewer where a class has fewer). */
  real: Float32Array;
  /** How many real drawings each class has in `real` (at most perClass). */
  realCounts: number[];
  /** `[classes * perClass * H * W * C]` samples of the model (EMA weights), class by class. */
  generated: Float32Array;
  ms: number;
}

export interface SessionEvents {
  step(row: MetricsRow, live: LiveStats): void;
  eval(row: MetricsRow): void;
  grid(grid: SampleGrid): void;
  saved(step: number): void;
  /** An autosave failed (storage full or unavailable): training goes on. */
  saveFailed(message: string): void;
  state(state: SessionState, message?: string): void;
}

/** How often the page evaluates, samples and saves (none of these are run settings). */
export interface SessionCadence {
  /** Held-out bits/dim every N steps (and at each epoch's end and the last step, as the CLI). */
  evalEvery: number;
  /** A new sample grid every N steps (0 = only at the end) and its drawings per class. */
  gridEvery: number;
  gridPerClass: number;
  /** Autosave when this much time has passed since the last (and on pause, stop and the end). */
  autosaveSeconds: number;
  /** Noise seed of the grid's samples: the same noise each time, so the drawings sharpen in place. */
  gridSeed: number;
}

export interface SessionInit {
  settings: RunSettings;
  trainer: Trainer;
  dataset: TrainingData;
  /** Where training stands (a fresh run: step 0). */
  progress: RunProgress;
  /** Metrics rows of the run so far (a resumed run); rows after `progress.step` are dropped. */
  metrics?: readonly MetricsRow[];
  backend: string;
  cadence: SessionCadence;
  events: SessionEvents;
  /** Store a checkpoint (the page: IndexedDB). Absent: no autosave. */
  autosave?: (trainer: Trainer, meta: CheckpointMeta) => Promise<void>;
  /** Run `fn` alone among the worker's tensor work (sampling jobs, downloads). Default: just run it. */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Let messages through between steps (the worker: a macrotask). */
  yieldToEvents?: () => Promise<void>;
  now?: () => number;
}

/** Wall time, for the rates and the autosave clock. */
const clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class TrainingSession {
  readonly settings: RunSettings;
  readonly trainer: Trainer;
  private readonly init: SessionInit;
  private current: SessionState = 'paused';
  private readonly rows: MetricsRow[];
  private readonly progressNow: RunProgress;
  private pauseRequested = false;
  private stopRequested = false;
  /** Aborts a sample grid being drawn when the run is stopped (minutes on a slow backend). */
  private readonly stopSignal = new AbortController();
  private wake: (() => void) | undefined;
  private savedStep: number | undefined;
  private lastSave = 0;
  private realCache: { real: Float32Array; counts: number[] } | undefined;

  constructor(init: SessionInit) {
    this.init = init;
    this.settings = init.settings;
    this.trainer = init.trainer;
    this.progressNow = { ...init.progress };
    this.rows = (init.metrics ?? []).filter((r) => r.step <= init.progress.step);
    if (init.progress.step > 0) this.savedStep = init.progress.step;
  }

  get state(): SessionState {
    return this.current;
  }
  get progress(): RunProgress {
    return { ...this.progressNow };
  }
  /** Every metrics row of the run (training steps and held-out evaluations). */
  get metrics(): readonly MetricsRow[] {
    return this.rows;
  }
  /** Step of the newest autosave (or of the checkpoint the run started from). */
  get lastSavedStep(): number | undefined {
    return this.savedStep;
  }

  /** The checkpoint meta the CLI reads (trainer.json's `extra`). */
  meta(): CheckpointMeta {
    return {
      settings: this.settings,
      progress: { ...this.progressNow },
      backend: this.init.backend,
      createdAt: new Date().toISOString(),
    };
  }

  pause(): void {
    if (this.current === 'running') this.pauseRequested = true;
  }
  resume(): void {
    this.pauseRequested = false;
    this.wake?.();
  }
  stop(): void {
    this.stopRequested = true;
    this.stopSignal.abort();
    this.wake?.();
  }

  private setState(s: SessionState, message?: string): void {
    this.current = s;
    this.init.events.state(s, message);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.init.exclusive ? this.init.exclusive(fn) : fn();
  }

  /**
   * Autosave now (under the lock), if the session has somewhere to save. A failed save (the
   * browser's storage full or off) is reported and training goes on: it is not the backend's.
   */
  async save(): Promise<void> {
    const autosave = this.init.autosave;
    if (!autosave) return;
    try {
      await this.exclusive(() => autosave(this.trainer, this.meta()));
    } catch (e) {
      this.lastSave = (this.init.now ?? clock)();
      this.init.events.saveFailed((e as Error).message);
      return;
    }
    this.savedStep = this.progressNow.step;
    this.lastSave = (this.init.now ?? clock)();
    this.init.events.saved(this.progressNow.step);
  }

  /**
   * Train until the run's last step, a stop, or a failure (a backend error, a non-finite loss):
   * then it resolves; it never rejects. Pausing waits between two steps, after an autosave.
   */
  async run(): Promise<void> {
    const { settings, trainer, dataset, events, cadence } = this.init;
    const now = this.init.now ?? clock;
    const yieldToEvents = this.init.yieldToEvents ?? (() => Promise.resolve());
    const t = settings.train;
    const B = t.batchSize;
    const progress = this.progressNow;
    const trainSize = dataset.size('train');
    if (trainSize < B) {
      this.setState(
        'failed',
        `the training split has ${trainSize} drawings, fewer than the batch size ${B}: use more drawings per class or a smaller batch`,
      );
      return;
    }
    const perEpoch = stepsPerEpoch(trainSize, B);
    const total = totalSteps(settings, perEpoch);
    const totalEpochs = Math.ceil(total / perEpoch);
    const conditional = settings.model.conditionalShape != null;
    const [H, W, C] = settings.model.imageShape;
    const high = settings.model.high ?? 255;
    let order: ReturnType<TrainingData['examples']> | undefined;
    let orderEpoch = -1;
    let secPerStep = Number.NaN;
    const startStep = progress.step;
    const runStart = now();
    const baseElapsed = progress.elapsedSeconds;
    this.lastSave = now();
    this.setState('running');

    const evaluate = async () => {
      const r = await trainer.withEmaWeights(() =>
        evaluateBitsPerDim(trainer.dist, dataset, {
          split: 'test',
          maxImages: t.evalImages,
          batchSize: t.evalBatch,
        }),
      );
      progress.lastEval = {
        step: progress.step,
        epoch: progress.epoch + 1,
        bitsPerDim: r.mean,
        ci95: r.ci95,
        images: r.n,
      };
      const row: MetricsRow = {
        kind: 'eval',
        step: progress.step,
        epoch: progress.epoch + 1,
        bitsPerDim: r.mean,
        ci95: r.ci95,
        images: r.n,
        elapsedSeconds: progress.elapsedSeconds,
      };
      this.rows.push(row);
      events.eval(row);
    };

    try {
      while (progress.step < total && !this.stopRequested) {
        if (this.pauseRequested) {
          if (this.savedStep !== progress.step) await this.save();
          this.setState('paused');
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            if (!this.pauseRequested || this.stopRequested) resolve();
          });
          this.wake = undefined;
          if (this.stopRequested) break;
          this.setState('running');
        }
        const t0 = now();
        const r = await this.exclusive(async () => {
          if (orderEpoch !== progress.epoch || !order) {
            order = dataset.examples('train', { seed: t.seed, epoch: progress.epoch });
            orderEpoch = progress.epoch;
          }
          const start = progress.batchInEpoch * B;
          const raw = await dataset.read(order, start, start + B);
          const x = tf.tensor4d(Float32Array.from(quantizePixels(raw.images, high)), [B, H, W, C]);
          const labels = conditional ? tf.tensor1d(raw.labels, 'int32') : undefined;
          try {
            return await trainer.trainStep(x, { conditionalInput: labels });
          } finally {
            tf.dispose([x, ...(labels ? [labels] : [])]);
          }
        });
        if (r.skipped) {
          const what = Number.isFinite(r.loss)
            ? `gradient norm (${r.gradNorm})`
            : `loss (${r.loss})`;
          this.setState(
            'failed',
            `non-finite ${what} at step ${progress.step + 1}: the update was not applied and training stopped. ${this.keptMessage()} Continue it with a lower learning rate.`,
          );
          return;
        }
        progress.step++;
        progress.batchInEpoch++;
        const dt = (now() - t0) / 1000;
        secPerStep = Number.isNaN(secPerStep) ? dt : 0.8 * secPerStep + 0.2 * dt;
        progress.elapsedSeconds = baseElapsed + (now() - runStart) / 1000;
        const row: MetricsRow = {
          kind: 'train',
          step: progress.step,
          epoch: progress.epoch + 1,
          lossNats: r.loss,
          bitsPerDim: r.bitsPerDim,
          learningRate: r.learningRate,
          imagesPerSec: B / dt,
          elapsedSeconds: progress.elapsedSeconds,
        };
        this.rows.push(row);
        events.step(row, {
          totalSteps: total,
          epoch: progress.epoch + 1,
          totalEpochs,
          secondsPerStep: secPerStep,
          imagesPerSec: B / secPerStep,
          etaSeconds: (total - progress.step) * secPerStep,
          microBatches: r.microBatches,
        });
        const epochDone = progress.batchInEpoch >= perEpoch;
        const finished = progress.step >= total;
        const doneHere = progress.step - startStep;
        if (epochDone || finished || progress.step % Math.max(1, cadence.evalEvery) === 0) {
          await this.exclusive(evaluate);
        }
        if (epochDone) {
          progress.epoch++;
          progress.batchInEpoch = 0;
        }
        if (finished || (cadence.gridEvery > 0 && doneHere % cadence.gridEvery === 0)) {
          events.grid(await this.exclusive(() => this.sampleGrid()));
        }
        if (finished || now() - this.lastSave >= cadence.autosaveSeconds * 1000) await this.save();
        await yieldToEvents();
      }
      if (progress.step === startStep && progress.step >= total) {
        // nothing was left to do (a finished run): show it anyway
        events.grid(await this.exclusive(() => this.sampleGrid()));
      }
      if (this.stopRequested && this.savedStep !== progress.step) await this.save();
      this.setState(progress.step >= total ? 'finished' : 'stopped');
    } catch (e) {
      if (
        this.stopRequested &&
        this.stopSignal.signal.aborted &&
        (e as Error).name === 'AbortError'
      ) {
        // stopped while a grid was being drawn: the weights are whole, save and stop
        try {
          if (this.savedStep !== progress.step) await this.save();
        } finally {
          this.setState('stopped');
        }
        return;
      }
      this.setState(
        'failed',
        `the ${this.init.backend} backend failed at step ${progress.step + 1}: ${(e as Error).message}. ${this.keptMessage()}`,
      );
    }
  }

  private keptMessage(): string {
    return this.savedStep !== undefined
      ? `The last good state, step ${this.savedStep}, is saved: reload the page to resume from it (?backend=wasm to change backend).`
      : 'No state was saved yet.';
  }

  /** Held-out drawings of each class (the first of its test rows), once. */
  private async realDrawings(perClass: number): Promise<{ real: Float32Array; counts: number[] }> {
    if (this.realCache) return this.realCache;
    const { dataset, settings } = this.init;
    const [H, W, C] = settings.model.imageShape;
    const high = settings.model.high ?? 255;
    const groups = Math.max(1, settings.data.classes.length);
    const test = dataset.examples('test', { shuffle: false });
    const px = H * W * C;
    const real = new Float32Array(groups * perClass * px);
    const counts = new Array<number>(groups).fill(0);
    const pick: { classIndex: number[]; row: number[] } = { classIndex: [], row: [] };
    for (let i = 0; i < test.row.length; i++) {
      const c = test.classIndex[i];
      if (counts[c] >= perClass) continue;
      counts[c]++;
      pick.classIndex.push(c);
      pick.row.push(test.row[i]);
    }
    const raw = await dataset.read(
      { classIndex: Uint16Array.from(pick.classIndex), row: Uint32Array.from(pick.row) },
      0,
      pick.row.length,
    );
    const placed = new Array<number>(groups).fill(0);
    for (let i = 0; i < pick.row.length; i++) {
      const c = pick.classIndex[i];
      const q = quantizePixels(raw.images.subarray(i * px, (i + 1) * px), high);
      real.set(q, (c * perClass + placed[c]++) * px);
    }
    this.realCache = { real, counts };
    return this.realCache;
  }

  /** The grid: real held-out drawings and samples of the model (EMA weights, cached sampler). */
  private async sampleGrid(): Promise<SampleGrid> {
    const { settings, trainer, cadence } = this.init;
    const [H, W, C] = settings.model.imageShape;
    const t0 = (this.init.now ?? clock)();
    const k = Math.max(1, cadence.gridPerClass);
    const conditional = settings.model.conditionalShape != null;
    const classes = settings.data.classes.length ? settings.data.classes : ['samples'];
    const groups = conditional ? classes.length : 1;
    const { real, counts } = await this.realDrawings(k);
    const labels = conditional
      ? tf.tensor1d(
          Array.from({ length: groups * k }, (_, i) => Math.floor(i / k)),
          'int32',
        )
      : undefined;
    try {
      const generated = await trainer.withEmaWeights(async () => {
        const out = await trainer.dist.sample(groups * k, {
          conditionalInput: labels,
          seed: cadence.gridSeed,
          sampler: 'cached',
          signal: this.stopSignal.signal,
        });
        const data = (await out.data()) as Float32Array;
        out.dispose();
        return data;
      });
      return {
        step: this.progressNow.step,
        classes: classes.slice(0, groups),
        perClass: k,
        real: real.subarray(0, groups * k * H * W * C),
        realCounts: counts.slice(0, groups),
        generated,
        ms: (this.init.now ?? clock)() - t0,
      };
    } finally {
      labels?.dispose();
    }
  }
}
