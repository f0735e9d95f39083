import { parseLatest, parseMetricsCsv, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import type { RunSettings } from '@pixelcnn/trainer/settings';
import { expect, it } from 'vitest';
import { runArchiveEntries } from './runArchive';

it("lays a run out as the trainer does, with the metrics up to the checkpoint's step", () => {
  const settings = { data: { classes: ['cat'] }, model: {}, train: {} } as unknown as RunSettings;
  const bytes = (n: number) => new Uint8Array(n).fill(n);
  const entries = runArchiveEntries('pixelcnn-run-step-00000002', {
    settings,
    progress: { step: 2, epoch: 0, batchInEpoch: 2, elapsedSeconds: 1 },
    metrics: [
      { kind: 'train', step: 1, epoch: 1, bitsPerDim: 5 },
      { kind: 'train', step: 2, epoch: 1, bitsPerDim: 4 },
      { kind: 'eval', step: 2, epoch: 1, bitsPerDim: 4.5, ci95: 0.1, images: 8 },
      { kind: 'train', step: 3, epoch: 1, bitsPerDim: 3 }, // after the checkpoint: left out
    ],
    checkpoint: {
      'model.json': '{}',
      'weights.bin': bytes(3),
      'trainer.json': '{"x": 1}\n',
      'trainer.bin': bytes(5),
    },
  });
  const byPath = new Map(entries.map((e) => [e.path, e.data]));
  const root = 'pixelcnn-run-step-00000002';
  expect([...byPath.keys()]).toEqual([
    `${root}/settings.json`,
    `${root}/metrics.jsonl`,
    `${root}/metrics.csv`,
    `${root}/checkpoints/latest.json`,
    `${root}/checkpoints/step-00000002/model.json`,
    `${root}/checkpoints/step-00000002/weights.bin`,
    `${root}/checkpoints/step-00000002/trainer.json`,
    `${root}/checkpoints/step-00000002/trainer.bin`,
  ]);
  expect(JSON.parse(byPath.get(`${root}/settings.json`) as string)).toEqual(settings);
  const text = (p: string) => byPath.get(`${root}/${p}`) as string;
  expect(parseMetricsJsonl(text('metrics.jsonl')).rows.map((r) => r.step)).toEqual([1, 2, 2]);
  const csv = parseMetricsCsv(text('metrics.csv'));
  expect(csv.skipped).toBe(0);
  expect(csv.rows.map((r) => [r.kind, r.step])).toEqual([
    ['train', 1],
    ['train', 2],
    ['eval', 2],
  ]);
  expect(parseLatest(text('checkpoints/latest.json'))).toBe('step-00000002');
  expect(byPath.get(`${root}/checkpoints/step-00000002/trainer.bin`)).toEqual(bytes(5));
});
