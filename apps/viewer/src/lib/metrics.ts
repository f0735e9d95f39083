/** One row of the trainer's `metrics.jsonl` / `metrics.csv` (apps/trainer/src/metrics.ts). */
export interface MetricsRow {
  kind: 'train' | 'eval';
  step: number;
  epoch: number;
  /** train: mean -log p(x) over the batch, nats per image. */
  lossNats?: number;
  /** train: the batch's bits/dim; eval: held-out bits/dim. */
  bitsPerDim: number;
  /** eval: half-width of the 95% confidence interval. */
  ci95?: number;
  /** eval: held-out images. */
  images?: number;
  learningRate?: number;
  imagesPerSec?: number;
  elapsedSeconds?: number;
}

const NUMERIC: readonly (keyof MetricsRow)[] = [
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

function checkRow(raw: Record<string, unknown>): MetricsRow | null {
  if (raw.kind !== 'train' && raw.kind !== 'eval') return null;
  const row: Record<string, unknown> = { kind: raw.kind };
  for (const k of NUMERIC) {
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
 * Rows of a `metrics.jsonl` (one JSON object a line). Lines that are not valid rows (e.g. a line
 * torn by a crash, as the trainer itself tolerates) are skipped and counted.
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

/** Rows of a `metrics.csv` (header line naming the columns; empty cells are absent values). */
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

/** What the page shows from the metrics. */
export interface MetricsSummary {
  /** Per-step training bits/dim, by step. */
  train: [number, number][];
  /** Held-out evaluations: [step, bits/dim, ci95]. */
  heldOut: [number, number, number][];
  /** The latest held-out evaluation (by step), if any. */
  lastEval?: MetricsRow;
  /** The latest training row, if any. */
  lastTrain?: MetricsRow;
}

/**
 * Split rows into the loss curve's series and pick the latest held-out evaluation. A resumed
 * run can repeat steps; the later row for a step wins.
 */
export function summarizeMetrics(rows: readonly MetricsRow[]): MetricsSummary {
  const train = new Map<number, number>();
  const held = new Map<number, [number, number, number]>();
  let lastEval: MetricsRow | undefined;
  let lastTrain: MetricsRow | undefined;
  for (const r of rows) {
    if (!Number.isFinite(r.bitsPerDim)) continue;
    if (r.kind === 'train') {
      train.set(r.step, r.bitsPerDim);
      if (!lastTrain || r.step >= lastTrain.step) lastTrain = r;
    } else {
      held.set(r.step, [r.step, r.bitsPerDim, r.ci95 ?? 0]);
      if (!lastEval || r.step >= lastEval.step) lastEval = r;
    }
  }
  const byStep = <T extends number[]>(a: T, b: T) => a[0] - b[0];
  return {
    train: [...train.entries()].sort(byStep),
    heldOut: [...held.values()].sort(byStep),
    lastEval,
    lastTrain,
  };
}

/**
 * Exponential moving average of a series, debiased at the start (as TensorBoard's smoothing):
 * `weight` in [0, 1), 0 = no smoothing.
 */
export function smoothSeries(
  points: readonly [number, number][],
  weight: number,
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
