import type { WebGpuAdapter } from '@pixelcnn/backend';
import type { MetricsRow, RunProgress } from '@pixelcnn/pixelcnn-dist/run';
import type { RunSettings } from '@pixelcnn/trainer/settings';
import type { AutosaveInfo } from '../worker/autosave';
import type { DataSource } from '../worker/trainingData';
import type {
  LiveStats,
  SampleGrid,
  SessionCadence,
  SessionState,
} from '../worker/trainingSession';
import type { ModelFacts, WeightGroup } from './loadModel';

/** Where a training run in the page starts from. */
export type TrainFrom =
  | { kind: 'new'; settings: RunSettings }
  /** The newest autosave in IndexedDB (after a reload). */
  | { kind: 'autosave' }
  /** The checkpoint of the run the server serves (its trainer state included). */
  | { kind: 'served'; runBase: string; hint?: string };

/** Start training in the worker. */
export interface TrainStart {
  from: TrainFrom;
  /** Total steps; a continued run may change it (as `--steps` with `pixelcnn train --resume`). */
  steps?: number;
  /** Where the drawings come from. */
  source: DataSource;
  /** Metrics rows of the run so far (continuing the served run: its metrics.jsonl). */
  metrics?: MetricsRow[];
  cadence: SessionCadence;
  /** `?backend=` of the page. */
  backends?: string;
  /** The memory a WebGPU device is assumed to have (WebGPU does not report it). */
  gpuMemoryBytes: number;
}

/** What the page asks the model worker to do. */
export type WorkerRequest =
  | { type: 'load'; runBase: string; hint?: string; backends?: string; weights?: WeightGroup }
  /** A pretrained model of @pixelcnn/quickdraw-models (default its first), bundled with the page. */
  | { type: 'load-pretrained'; name?: string; backends?: string }
  | {
      type: 'sample';
      id: number;
      n: number;
      /** Class label (conditional models). */
      label?: number;
      seed: number;
      temperature: number;
      sampler?: string;
      /** Completion: `[H * W * C]` integers in [low, high] and the rows kept from it. */
      prefix?: Float32Array;
      keepRows?: number;
    }
  | { type: 'stop'; id: number }
  | { type: 'train-start'; run: TrainStart }
  | { type: 'train-control'; action: 'pause' | 'resume' | 'stop' | 'save' }
  | { type: 'train-download' }
  | { type: 'autosave-find' }
  | { type: 'autosave-discard' };

/** What the worker tells the page. */
export type WorkerMessage =
  | {
      type: 'backend';
      /** @pixelcnn/backend's name for the backend chosen. */
      backend: string;
      /** Its one-line report: what was chosen (the adapter, on webgpu) and why others were not. */
      summary: string;
      adapter?: WebGpuAdapter;
    }
  | {
      type: 'loaded';
      /** True for the model of a training run in this page (no served run files). */
      trainedHere?: boolean;
      facts: ModelFacts;
      numParameters: number;
      samplers: string[];
      sampler: string;
      ms: number;
    }
  | { type: 'no-model'; tried: string[] }
  | { type: 'load-error'; message: string }
  | {
      type: 'pixel';
      id: number;
      row: number;
      col: number;
      index: number;
      total: number;
      /** `[n * C]`: the pixel's values in each image. */
      values: Float32Array;
    }
  | { type: 'done'; id: number; images: Float32Array; ms: number }
  | { type: 'stopped'; id: number }
  | { type: 'sample-error'; id: number; message: string }
  | { type: 'autosave'; found: AutosaveInfo | null }
  /** Getting ready to train: data, model, checks (`text` says which). */
  | { type: 'train-preparing'; text: string }
  /** Refused or failed before the first step (too big a network, missing data, ...). */
  | { type: 'train-error'; message: string }
  | {
      type: 'train-started';
      settings: RunSettings;
      progress: RunProgress;
      metrics: MetricsRow[];
      numParameters: number;
      /** Images per micro-batch (gradient accumulation when below the batch size). */
      microBatch: number;
      /** Estimated peak memory of a step, and the limit it was checked against (if any). */
      estimateBytes: number;
      limitBytes?: number;
      /** How the drawings were split: train and held-out counts. */
      trainSize: number;
      heldOutSize: number;
      /** Continued from: a checkpoint step, or undefined for a new run. */
      resumedAt?: number;
    }
  | { type: 'train-step'; row: MetricsRow; live: LiveStats }
  | { type: 'train-eval'; row: MetricsRow }
  | { type: 'train-grid'; grid: SampleGrid }
  | { type: 'train-saved'; step: number }
  | { type: 'train-save-failed'; message: string }
  | { type: 'train-state'; state: SessionState; message?: string; step: number }
  | { type: 'train-archive'; fileName: string; bytes: Uint8Array }
  | { type: 'train-archive-error'; message: string };
