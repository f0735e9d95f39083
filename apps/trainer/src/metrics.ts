import fs from 'node:fs';
import {
  METRICS_COLUMNS,
  type MetricsRow,
  metricsCsvLine,
  metricsJsonLine,
  parseMetricsJsonl,
} from '@pixelcnn/pixelcnn-dist/run';
import { writeFileAtomic } from './atomic';

/**
 * Metrics written twice as they come (rows and columns from `@pixelcnn/pixelcnn-dist/run`):
 * `metrics.jsonl` (one JSON object a line) and `metrics.csv` (header + one line a row). Appends;
 * on resume `truncateAfter(step)` drops rows a crashed run wrote after its last checkpoint so the
 * files match the resumed run exactly.
 */
export class MetricsLog {
  readonly rows: MetricsRow[] = [];

  constructor(
    readonly jsonlPath: string,
    readonly csvPath: string,
  ) {
    // A torn last line from a crash is skipped.
    if (fs.existsSync(jsonlPath))
      this.rows.push(...parseMetricsJsonl(fs.readFileSync(jsonlPath, 'utf8')).rows);
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
    writeFileAtomic(this.jsonlPath, this.rows.map((r) => `${metricsJsonLine(r)}\n`).join(''));
    writeFileAtomic(
      this.csvPath,
      `${METRICS_COLUMNS.join(',')}\n${this.rows.map((r) => `${metricsCsvLine(r)}\n`).join('')}`,
    );
  }

  append(row: MetricsRow): void {
    this.rows.push(row);
    fs.appendFileSync(this.jsonlPath, `${metricsJsonLine(row)}\n`);
    fs.appendFileSync(this.csvPath, `${metricsCsvLine(row)}\n`);
  }
}
