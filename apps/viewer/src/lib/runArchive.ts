import type { CheckpointFiles } from '@pixelcnn/pixelcnn-dist';
import {
  checkpointName,
  LATEST_FILE,
  METRICS_COLUMNS,
  type MetricsRow,
  metricsCsvLine,
  metricsJsonLine,
  RUN_LAYOUT,
  type RunProgress,
} from '@pixelcnn/pixelcnn-dist/run';
import type { RunSettings } from '@pixelcnn/trainer/settings';
import type { ZipEntry } from './zip';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * A run directory as the trainer writes it (`@pixelcnn/pixelcnn-dist/run`'s layout), under
 * `root/`: settings.json, metrics.jsonl and metrics.csv (rows up to the checkpoint's step), and
 * checkpoints/latest.json naming checkpoints/step-N/, the checkpoint's four files. Unzipped, it
 * is a run `pixelcnn train --resume ROOT`, `pixelcnn sample --checkpoint ROOT` and the viewer's
 * `serve --run ROOT` open.
 */
export function runArchiveEntries(
  root: string,
  run: {
    settings: RunSettings;
    progress: RunProgress;
    metrics: readonly MetricsRow[];
    checkpoint: CheckpointFiles;
  },
): ZipEntry[] {
  const step = run.progress.step;
  const name = checkpointName(step);
  const rows = run.metrics.filter((r) => r.step <= step);
  const dir = `${root}/${RUN_LAYOUT.checkpoints}`;
  return [
    { path: `${root}/${RUN_LAYOUT.settings}`, data: json(run.settings) },
    {
      path: `${root}/${RUN_LAYOUT.metricsJsonl}`,
      data: rows.map((r) => `${metricsJsonLine(r)}\n`).join(''),
    },
    {
      path: `${root}/${RUN_LAYOUT.metricsCsv}`,
      data: `${METRICS_COLUMNS.join(',')}\n${rows.map((r) => `${metricsCsvLine(r)}\n`).join('')}`,
    },
    {
      path: `${dir}/${LATEST_FILE}`,
      data: json({ checkpoint: name, step, epoch: run.progress.epoch }),
    },
    ...(Object.keys(run.checkpoint) as (keyof CheckpointFiles)[]).map((f) => ({
      path: `${dir}/${name}/${f}`,
      data: run.checkpoint[f],
    })),
  ];
}
