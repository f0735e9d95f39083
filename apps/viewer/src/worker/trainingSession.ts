// One training run in the page: pixelcnn-dist's trainLoop (the CLI's loop: epochs, the data
// order, steps, held-out evaluations, checkpoint timing) with what a page adds: pause, resume
// and stop between steps, a held-out evaluation every few steps, a grid of samples (real
// drawings above generated ones, per class) every few steps, and an autosave every few seconds,
// each piece of tensor work under the worker's lock. No DOM: it runs in the worker and, in
// tests, in Node.
import { type Trainer, type TrainingData, trainLoop } from '@pixelcnn/pixelcnn-dist';
import { type MetricsRow, quantizePixels, type RunProgress } from '@pixelcnn/pixelcnn-dist/run';
import type { CheckpointMeta, RunSettings } from '@pixelcnn/trainer/settings';
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
  /** Stops the loop between steps, and a sample grid being drawn (minutes on a slow backend). */
  private readonly stopSignal = new AbortController();
  private wake: (() => void) | undefined;
  private savedStep: number | undefined;
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
      this.init.events.saveFailed((e as Error).message);
      return;
    }
    this.savedStep = this.progressNow.step;
    this.init.events.saved(this.progressNow.step);
  }

  /** The loop's pause: say so, wait for resume() or stop(), say so. */
  private async waitWhilePaused(): Promise<void> {
    this.setState('paused');
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (!this.pauseRequested || this.stopRequested) resolve();
    });
    this.wake = undefined;
    if (!this.stopRequested) this.setState('running');
  }

  /** Draw the sample grid and show it; a stop cuts it short (the weights stay whole). */
  private async showGrid(): Promise<void> {
    let grid: SampleGrid;
    try {
      grid = await this.exclusive(() => this.sampleGrid());
    } catch (e) {
      if (this.stopSignal.signal.aborted && (e as Error).name === 'AbortError') return;
      throw e;
    }
    this.init.events.grid(grid);
  }

  /**
   * Train until the run's last step, a stop, or a failure (a backend error, a non-finite loss):
   * then it resolves; it never rejects. Pausing waits between two steps, after an autosave.
   */
  async run(): Promise<void> {
    const { settings, trainer, dataset, events, cadence } = this.init;
    const progress = this.progressNow;
    const startStep = progress.step;
    let started = false;
    try {
      const outcome = await trainLoop({
        trainer,
        data: dataset,
        plan: settings.train,
        progress,
        // every N steps (the page's 0 asks for every step, as before), epoch ends and the end
        evalEvery: Math.max(1, cadence.evalEvery),
        checkpoint: this.init.autosave && {
          everySeconds: cadence.autosaveSeconds,
          savedStep: this.savedStep,
          save: () => this.save(),
        },
        control: {
          signal: this.stopSignal.signal,
          pause: () => (this.pauseRequested ? () => this.waitWhilePaused() : undefined),
          exclusive: this.init.exclusive,
          yieldToEvents: this.init.yieldToEvents,
          now: this.init.now ?? clock,
        },
        events: {
          start: () => {
            started = true;
            this.setState('running');
          },
          step: (s) => {
            this.rows.push(s.row);
            events.step(s.row, {
              totalSteps: s.totalSteps,
              epoch: s.row.epoch,
              totalEpochs: s.totalEpochs,
              secondsPerStep: s.secondsPerStep,
              imagesPerSec: s.imagesPerSec,
              etaSeconds: s.etaSeconds,
              microBatches: s.result.microBatches,
            });
          },
          evaluated: (row) => {
            this.rows.push(row);
            events.eval(row);
          },
          afterStep: async (p, { finished }) => {
            const done = p.step - startStep;
            if (finished || (cadence.gridEvery > 0 && done % cadence.gridEvery === 0))
              await this.showGrid();
          },
        },
      });
      if (outcome.kind === 'non-finite') {
        this.setState(
          'failed',
          `${outcome.message} ${this.keptMessage()} Continue it with a lower learning rate.`,
        );
        return;
      }
      // nothing was left to do (a finished run): show it anyway
      if (outcome.kind === 'done' && progress.step === startStep) await this.showGrid();
      this.setState(outcome.kind === 'done' ? 'finished' : 'stopped');
    } catch (e) {
      const message = (e as Error).message;
      // refused before any step (a batch larger than the training split): the plan's fault
      if (!started) this.setState('failed', message.replace(/^Error in \w+: /, ''));
      else
        this.setState(
          'failed',
          `the ${this.init.backend} backend failed at step ${progress.step + 1}: ${message}. ${this.keptMessage()}`,
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
