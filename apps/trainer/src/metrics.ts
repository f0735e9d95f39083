import fs from 'node:fs';
import { writeFileAtomic } from './atomic';

/** One metrics record: a training step or an end-of-epoch evaluation. */
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
  elapsedSeconds: number;
}

/** CSV columns, in order. */
export const CSV_COLUMNS: readonly (keyof MetricsRow)[] = [
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

export function csvLine(row: MetricsRow): string {
  return CSV_COLUMNS.map((c) => {
    const v = row[c];
    return v === undefined ? '' : String(v);
  }).join(',');
}

/**
 * Metrics written twice as they come: `metrics.jsonl` (one JSON object a line) and
 * `metrics.csv` (header + one line a row). Appends; on resume `truncateAfter(step)` drops rows a
 * crashed run wrote after its last checkpoint so the files match the resumed run exactly.
 */
export class MetricsLog {
  readonly rows: MetricsRow[] = [];

  constructor(
    readonly jsonlPath: string,
    readonly csvPath: string,
  ) {
    if (fs.existsSync(jsonlPath)) {
      for (const line of fs.readFileSync(jsonlPath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          this.rows.push(JSON.parse(line) as MetricsRow);
        } catch {
          // A torn last line from a crash: ignore it.
        }
      }
    }
    this.rewrite();
  }

  /** Keep rows up to `step` (train rows with step <= it; eval rows of epochs fully done). */
  truncateAfter(step: number): void {
    const keep = this.rows.filter((r) => r.step <= step);
    this.rows.length = 0;
    this.rows.push(...keep);
    this.rewrite();
  }

  private rewrite(): void {
    writeFileAtomic(this.jsonlPath, this.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    writeFileAtomic(
      this.csvPath,
      `${CSV_COLUMNS.join(',')}\n${this.rows.map((r) => `${csvLine(r)}\n`).join('')}`,
    );
  }

  append(row: MetricsRow): void {
    this.rows.push(row);
    fs.appendFileSync(this.jsonlPath, `${JSON.stringify(row)}\n`);
    fs.appendFileSync(this.csvPath, `${csvLine(row)}\n`);
  }
}
