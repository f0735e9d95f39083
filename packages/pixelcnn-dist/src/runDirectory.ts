/**
 * The run directory of a training run: what `pixelcnn train` writes and what the viewer (or any
 * other reader) reads. No I/O of its own: paths are '/'-separated and relative to the run
 * directory, and the lookup of the newest checkpoint reads through a {@link RunReader} the caller
 * passes (node:fs in the trainer, `fetch` in the viewer).
 *
 * ```text
 * <run>/
 *   settings.json            the run's settings
 *   metrics.jsonl            one MetricsRow a line, appended as training goes
 *   metrics.csv              the same rows as CSV (METRICS_COLUMNS)
 *   loss.png                 the loss curve
 *   checkpoints/
 *     latest.json            {"checkpoint": "step-00000120", "step": 120, "epoch": 3}
 *     step-00000120/         one checkpoint: a PixelCNN.save (model.json, weights.bin) and the
 *                            trainer's state (trainer.json = CHECKPOINT_FILE, trainer.bin), as
 *                            `saveCheckpoint` from '@pixelcnn/pixelcnn-dist/node' writes it
 *   samples/                 PNGs of `pixelcnn sample`
 * ```
 */
import type { PixelCNNConfig } from './config';
import { TRAINER_JSON_FILE } from './trainerState';

/** Files and folders of a run directory, relative to it. */
export const RUN_LAYOUT = {
  settings: 'settings.json',
  metricsJsonl: 'metrics.jsonl',
  metricsCsv: 'metrics.csv',
  lossPlot: 'loss.png',
  checkpoints: 'checkpoints',
  samples: 'samples',
} as const;

/** In `checkpoints/`: names the newest checkpoint. */
export const LATEST_FILE = 'latest.json';

/**
 * The file that makes a directory a checkpoint: the trainer state's JSON, whose `extra` holds the
 * run's {@link CheckpointMeta}. Beside it: trainer.bin, and the model's model.json + weights.bin.
 */
export const CHECKPOINT_FILE = TRAINER_JSON_FILE;

/** The file of the checkpoints of pixelcnn 0.1 (its own tensor format), which this one cannot read. */
export const LEGACY_CHECKPOINT_FILE = 'checkpoint.json';

/** What to do with a checkpoint of pixelcnn 0.1 (`dir` has a {@link LEGACY_CHECKPOINT_FILE}). */
export function legacyCheckpointMessage(dir: string): string {
  return (
    `${dir || '.'} is a checkpoint of pixelcnn 0.1 (${LEGACY_CHECKPOINT_FILE} with weights.bin, optimizer.bin, ema.bin), ` +
    `which this version cannot read: checkpoints are now PixelCNN.save directories (model.json + weights.bin) ` +
    `with the trainer's state (${CHECKPOINT_FILE} + trainer.bin). Train the run again with this version, ` +
    'or continue it with the 0.1 release that wrote it'
  );
}

/** `step-00000120`: checkpoint directory names sort by step. */
export function checkpointName(step: number): string {
  if (!(Number.isInteger(step) && step >= 0)) {
    throw new Error(`Error in checkpointName: step must be an integer >= 0, got ${step}`);
  }
  return `step-${String(step).padStart(8, '0')}`;
}

/** Whether `name` is a checkpoint directory name ({@link checkpointName}). */
export function isCheckpointName(name: string): boolean {
  return /^step-\d{8}$/.test(name);
}

/** What `checkpoints/latest.json` holds. */
export interface LatestPointer {
  /** Directory name of the newest checkpoint, beside latest.json. */
  checkpoint: string;
  step?: number;
  epoch?: number;
}

/** The checkpoint name a latest.json text points at; throws naming `source` when it names none. */
export function parseLatest(text: string, source = LATEST_FILE): string {
  let name: unknown;
  try {
    name = (JSON.parse(text) as Partial<LatestPointer> | null)?.checkpoint;
  } catch {
    name = undefined;
  }
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name) || name === '.' || name === '..') {
    throw new Error(`${source} does not name a checkpoint (expected {"checkpoint": "step-..."})`);
  }
  return name;
}

// ------------------------------------------------------------------ checkpoint meta

/** A held-out evaluation. */
export interface HeldOutEval {
  step: number;
  /** 1-based epoch just finished. */
  epoch: number;
  bitsPerDim: number;
  /** Half-width of the 95% confidence interval over images. */
  ci95: number;
  images: number;
}

/** Where training stands: enough to continue exactly. */
export interface RunProgress {
  /** Optimizer steps done. */
  step: number;
  /** 0-based epoch in progress (or about to start). */
  epoch: number;
  /** Batches of `epoch` already consumed (the order is a function of seed and epoch). */
  batchInEpoch: number;
  /** Training wall time so far, over all resumed runs. */
  elapsedSeconds: number;
  /** The last held-out evaluation. */
  lastEval?: HeldOutEval;
}

/** What a run says about its data. */
export interface RunDataInfo {
  /** Class names by label (conditional models: the model's label i is classes[i]). */
  classes: string[];
  /** QuickDraw runs: each class's TFDS `quickdraw_bitmap` label. */
  tfdsLabels?: number[];
  /** QuickDraw runs: the first N rows of each class file (0 = all). */
  perClass?: number;
  /** Fraction of the data held out (by a hash of the row). */
  heldOut?: number;
  /** `--images` runs: the .npy files the drawings (and labels) came from. */
  images?: string;
  labels?: string;
}

/** The meta of a checkpoint, as far as readers other than the trainer rely on it. */
export interface CheckpointMeta {
  settings: {
    data: RunDataInfo;
    model: PixelCNNConfig;
    train?: object;
  };
  progress: RunProgress;
  /** The backend that wrote it (informational). */
  backend?: string;
  createdAt?: string;
}

/** Check the parts of a checkpoint's meta every reader relies on; errors name `source`. */
export function checkCheckpointMeta(meta: unknown, source: string): CheckpointMeta {
  const m = meta as Partial<CheckpointMeta> | null | undefined;
  if (m == null || typeof m !== 'object' || m.settings == null || typeof m.settings !== 'object') {
    throw new Error(`${source} has no run settings (meta.settings)`);
  }
  if (m.settings.model == null || typeof m.settings.model !== 'object') {
    throw new Error(`${source} has no model settings (meta.settings.model)`);
  }
  if (!Array.isArray(m.settings.data?.classes)) {
    throw new Error(`${source} has no class list (meta.settings.data.classes)`);
  }
  if (!m.progress || typeof m.progress.step !== 'number') {
    throw new Error(`${source} has no training progress (meta.progress.step)`);
  }
  return m as CheckpointMeta;
}

/**
 * The {@link CheckpointMeta} of a checkpoint from the text of its {@link CHECKPOINT_FILE} (where
 * `saveCheckpoint`'s `extra` keeps it), checked; errors name `source`.
 */
export function parseCheckpointMeta(
  text: string,
  source: string = CHECKPOINT_FILE,
): CheckpointMeta {
  let json: { extra?: unknown } | null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message})`);
  }
  if (json == null || typeof json !== 'object' || json.extra == null) {
    throw new Error(`${source} holds no run (no 'extra' with the run's settings and progress)`);
  }
  return checkCheckpointMeta(json.extra, source);
}

// ------------------------------------------------------------------ finding a checkpoint

/** Reads a run directory for {@link locateCheckpoint}; paths are relative and '/'-separated. */
export interface RunReader {
  /** The text of a file, or null when there is none. Other failures throw. */
  readText(path: string): Promise<string | null>;
  /** Entry names of a folder, or null when it is missing or the reader cannot list (HTTP). */
  list?(path: string): Promise<string[] | null>;
}

/** A checkpoint {@link locateCheckpoint} found. */
export interface CheckpointLocation {
  /** Its directory relative to where the search started ('' = that directory itself). */
  dir: string;
  /** The text of its {@link CHECKPOINT_FILE} (trainer.json; read while looking). */
  text: string;
}

/** Thrown by {@link locateCheckpoint} when there is no checkpoint; `tried` lists what it read. */
export class NoCheckpointError extends Error {
  constructor(
    readonly at: string,
    readonly tried: string[],
  ) {
    super(
      `no checkpoint at ${at || '.'}: expected a checkpoint directory (with ${CHECKPOINT_FILE}), a run directory or its ${RUN_LAYOUT.checkpoints}/ folder`,
    );
    this.name = 'NoCheckpointError';
  }
}

const joinRel = (...parts: string[]) => parts.filter((p) => p !== '').join('/');

/**
 * The checkpoint at `at` (relative to the reader's root; '' = the root): `at` itself when it is a
 * checkpoint directory, else, for `at` and then `at/checkpoints/`, the checkpoint `latest.json`
 * names or, when the reader can list, the newest `step-N` there. A latest.json naming a checkpoint
 * that is missing falls back to the listing, or (a reader that cannot list) throws naming both.
 * Throws {@link NoCheckpointError} when there is none.
 */
export async function locateCheckpoint(reader: RunReader, at = ''): Promise<CheckpointLocation> {
  const tried: string[] = [];
  const marker = async (dir: string): Promise<CheckpointLocation | null> => {
    const file = joinRel(dir, CHECKPOINT_FILE);
    tried.push(file);
    const text = await reader.readText(file);
    if (text !== null) return { dir, text };
    if ((await reader.readText(joinRel(dir, LEGACY_CHECKPOINT_FILE))) !== null)
      throw new Error(legacyCheckpointMessage(dir));
    return null;
  };
  const direct = await marker(at);
  if (direct) return direct;
  for (const folder of [at, joinRel(at, RUN_LAYOUT.checkpoints)]) {
    const latestPath = joinRel(folder, LATEST_FILE);
    tried.push(latestPath);
    const latestText = await reader.readText(latestPath);
    let named: string | undefined;
    if (latestText !== null) {
      named = parseLatest(latestText, latestPath);
      const found = await marker(joinRel(folder, named));
      if (found) return found;
    }
    const names = reader.list ? await reader.list(folder) : null;
    const steps = (names ?? []).filter(isCheckpointName).sort().reverse();
    for (const name of steps) {
      const found = await marker(joinRel(folder, name));
      if (found) return found;
    }
    if (named !== undefined) {
      throw new Error(
        `${latestPath} names ${named}, but ${joinRel(folder, named, CHECKPOINT_FILE)} is missing`,
      );
    }
  }
  throw new NoCheckpointError(at, tried);
}

// ------------------------------------------------------------------ metrics

/** One metrics record: a training step or a held-out evaluation. */
export interface MetricsRow {
  kind: 'train' | 'eval';
  /** Optimizer steps done when the row was written. */
  step: number;
  /** 1-based epoch the step belongs to (eval rows: the epoch just finished). */
  epoch: number;
  /** train: mean -log p(x) over the batch, nats per image. */
  lossNats?: number;
  /** train: the batch's bits/dim; eval: held-out bits/dim (mean over images). */
  bitsPerDim: number;
  /** eval: half-width of the 95% confidence interval of bitsPerDim. */
  ci95?: number;
  /** eval: number of held-out images. */
  images?: number;
  learningRate?: number;
  imagesPerSec?: number;
  /** Seconds since training started (summed over resumed runs). */
  elapsedSeconds?: number;
}

/** Columns of metrics.csv, in order. */
export const METRICS_COLUMNS: readonly (keyof MetricsRow)[] = [
  'kind',
  'step',
  'epoch',
  'lossNats',
  'bitsPerDim',
  'ci95',
  'images',
  'learningRate',
  'imagesPerSec',
  'elapsedSeconds',
];

/** One metrics.csv line of a row (no newline); absent values are empty cells. */
export function metricsCsvLine(row: MetricsRow): string {
  return METRICS_COLUMNS.map((c) => {
    const v = row[c];
    return v === undefined ? '' : String(v);
  }).join(',');
}

/** One metrics.jsonl line of a row (no newline). */
export function metricsJsonLine(row: MetricsRow): string {
  return JSON.stringify(row);
}

function checkRow(raw: Record<string, unknown>): MetricsRow | null {
  if (raw.kind !== 'train' && raw.kind !== 'eval') return null;
  const row: Record<string, unknown> = { kind: raw.kind };
  for (const k of METRICS_COLUMNS) {
    if (k === 'kind') continue;
    const v = raw[k];
    if (v === undefined || v === null || v === '') continue;
    const n = typeof v === 'number' ? v : Number(v);
    if (Number.isNaN(n) && typeof v !== 'number') return null;
    row[k] = n;
  }
  if (typeof row.step !== 'number' || typeof row.bitsPerDim !== 'number') return null;
  if (typeof row.epoch !== 'number') row.epoch = 0;
  return row as unknown as MetricsRow;
}

/**
 * Rows of a metrics.jsonl (one JSON object a line). Lines that are not valid rows (e.g. the last
 * line torn by a crash) are skipped and counted.
 */
export function parseMetricsJsonl(text: string): { rows: MetricsRow[]; skipped: number } {
  const rows: MetricsRow[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const row =
      parsed && typeof parsed === 'object' ? checkRow(parsed as Record<string, unknown>) : null;
    if (row) rows.push(row);
    else skipped++;
  }
  return { rows, skipped };
}

/** Rows of a metrics.csv (a header naming the columns; empty cells are absent values). */
export function parseMetricsCsv(text: string): { rows: MetricsRow[]; skipped: number } {
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length === 0) return { rows: [], skipped: 0 };
  const header = lines[0].split(',').map((h) => h.trim());
  if (!header.includes('kind') || !header.includes('bitsPerDim')) {
    throw new Error(`metrics.csv has no 'kind' and 'bitsPerDim' columns (header: ${lines[0]})`);
  }
  const rows: MetricsRow[] = [];
  let skipped = 0;
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const raw: Record<string, unknown> = {};
    header.forEach((h, i) => {
      raw[h] = cells[i]?.trim();
    });
    const row = cells.length === header.length ? checkRow(raw) : null;
    if (row) rows.push(row);
    else skipped++;
  }
  return { rows, skipped };
}

/** Smoothing weight of the loss curves (the trainer's loss.png and the viewer's). */
export const LOSS_SMOOTHING = 0.9;

/**
 * Exponential moving average of a series, debiased as Adam's moments are (and as TensorBoard
 * smooths): `s_t = w s_{t-1} + (1 - w) y_t`, shown as `s_t / (1 - w^t)`, so the curve starts on
 * the data instead of at its first value or at zero. `weight` in [0, 1), 0 = no smoothing.
 */
export function smoothSeries(
  points: readonly (readonly [number, number])[],
  weight: number = LOSS_SMOOTHING,
): [number, number][] {
  if (!(weight >= 0 && weight < 1)) {
    throw new Error(`Error in smoothSeries: weight must be in [0, 1), got ${weight}`);
  }
  let avg = 0;
  let norm = 0;
  return points.map(([x, y]) => {
    avg = weight * avg + (1 - weight) * y;
    norm = weight * norm + (1 - weight);
    return [x, avg / norm];
  });
}

// ------------------------------------------------------------------ pixels

/**
 * The pixel levels a run trains on: 0..255 bytes requantised to 0..`high` (`round(v * high /
 * 255)`; high = 255 keeps them). What the trainer feeds the model and what a reader must feed it
 * to score or complete the same kind of image.
 */
export function quantizePixels(bytes: ArrayLike<number>, high: number): Uint8Array {
  if (!(Number.isInteger(high) && high >= 1 && high <= 255)) {
    throw new Error(`Error in quantizePixels: high must be an integer in [1, 255], got ${high}`);
  }
  const out = Uint8Array.from(bytes);
  if (high !== 255) for (let i = 0; i < out.length; i++) out[i] = Math.round((out[i] * high) / 255);
  return out;
}

/** Pixel levels 0..`high` back to 0..255 bytes for display (the inverse of {@link quantizePixels} up to rounding). */
export function displayPixels(values: ArrayLike<number>, high: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round((values[i] * 255) / high);
  return out;
}
