import type { MetricsRow, RunProgress } from '@pixelcnn/pixelcnn-dist/run';
import type { RunSettings } from '@pixelcnn/trainer/settings';
import type { ModelFacts } from '../lib/loadModel';
import type { LiveStats, SessionState } from '../worker/trainingSession';
import type { Store } from './store';
import type { WorkerClient } from './workerClient';

/** What /api/info says (the serve command); defaults when the page is served some other way. */
export interface ServerInfo {
  run: string | null;
  runLabel: string | null;
  checkpoint?: string;
  quickdraw: string | null;
  /** The classes of a local mirror (null: unknown, e.g. a remote one). */
  quickdrawClasses?: string[] | null;
}

/** The model the worker holds, as the page shows it. */
export interface ModelView {
  facts: ModelFacts;
  /** The model of the run training in this page (else the served run's). */
  trainedHere?: boolean;
  numParameters: number;
  sampler: string;
  shape: [number, number, number];
  high: number;
  low: number;
}

export type JobKind = 'sample' | 'complete';

/** A finished sampling job (exposed for the end-to-end test). */
export interface FinishedJob {
  kind: JobKind;
  n: number;
  images: number[];
  prefix?: number[];
  keepRows?: number;
  ms: number;
}

/** Everything the panels share. */
export interface ViewerState {
  info: ServerInfo;
  /** @pixelcnn/backend's choice and its one-line report (the WebGPU adapter, skipped backends). */
  backend?: { name: string; summary: string };
  model?: ModelView;
  /** The sampling job the worker is running (one at a time, for any panel). */
  job?: { id: number; kind: JobKind };
  lastJob?: FinishedJob;
  /** The real drawings shown (held-out ones when the run's split is known). */
  real?: { className: string; images: Uint8Array[] };
  training?: TrainingView;
}

/** A training run in the page, as the Train panel shows it. */
export interface TrainingView {
  state: SessionState | 'preparing' | 'error';
  /** What the page is doing (preparing), or what went wrong (failed, error). */
  message?: string;
  settings?: RunSettings;
  progress?: RunProgress;
  /** Every metrics row of the run (training steps and held-out evaluations). */
  rows: MetricsRow[];
  live?: LiveStats;
  numParameters?: number;
  microBatch?: number;
  estimateBytes?: number;
  limitBytes?: number;
  trainSize?: number;
  heldOutSize?: number;
  savedStep?: number;
  resumedAt?: number;
  /** Grids drawn so far (the e2e test waits for one). */
  grids: number;
}

/** Where the page says things: the status line and the message box. */
export interface PageNotices {
  setStatus(text: string): void;
  showMessage(kind: 'info' | 'error', ...content: (Node | string)[]): void;
  hideMessage(): void;
}

/** What every panel is given. */
export interface ViewerContext {
  store: Store<ViewerState>;
  worker: WorkerClient;
  page: PageNotices;
}
