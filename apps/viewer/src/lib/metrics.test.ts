import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMetricsCsv, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import { MetricsLog } from '@pixelcnn/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeMetrics } from './metrics';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-metrics-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ROWS = [
  {
    kind: 'train',
    step: 1,
    epoch: 1,
    lossNats: 1500,
    bitsPerDim: 2.76,
    learningRate: 1e-3,
    imagesPerSec: 10,
    elapsedSeconds: 1,
  },
  {
    kind: 'train',
    step: 2,
    epoch: 1,
    lossNats: 1200,
    bitsPerDim: 2.21,
    learningRate: 1e-3,
    imagesPerSec: 11,
    elapsedSeconds: 2,
  },
  { kind: 'eval', step: 2, epoch: 1, bitsPerDim: 2.3, ci95: 0.05, images: 8, elapsedSeconds: 2 },
  {
    kind: 'train',
    step: 3,
    epoch: 2,
    lossNats: 1000,
    bitsPerDim: 1.84,
    learningRate: 1e-3,
    imagesPerSec: 12,
    elapsedSeconds: 3,
  },
  { kind: 'eval', step: 3, epoch: 2, bitsPerDim: 1.9, ci95: 0.04, images: 8, elapsedSeconds: 3 },
] as const;

describe('metrics files', () => {
  it("reads what the trainer's MetricsLog writes, as JSONL and as CSV", () => {
    const log = new MetricsLog(path.join(tmp, 'metrics.jsonl'), path.join(tmp, 'metrics.csv'));
    for (const r of ROWS) log.append({ ...r });
    const jsonl = parseMetricsJsonl(fs.readFileSync(path.join(tmp, 'metrics.jsonl'), 'utf8'));
    const csv = parseMetricsCsv(fs.readFileSync(path.join(tmp, 'metrics.csv'), 'utf8'));
    expect(jsonl).toEqual({ rows: ROWS, skipped: 0 });
    expect(csv).toEqual({ rows: ROWS, skipped: 0 });
  });

  it('summarises: per-step train curve, held-out points, the latest evaluation; later rows win', () => {
    const resumed = [...ROWS, { ...ROWS[3], bitsPerDim: 1.8 }];
    const s = summarizeMetrics(resumed as never);
    expect(s.train).toEqual([
      [1, 2.76],
      [2, 2.21],
      [3, 1.8],
    ]);
    expect(s.heldOut).toEqual([
      [2, 2.3, 0.05],
      [3, 1.9, 0.04],
    ]);
    expect(s.lastEval).toMatchObject({ step: 3, bitsPerDim: 1.9 });
    expect(s.lastTrain).toMatchObject({ step: 3, bitsPerDim: 1.8 });
    expect(summarizeMetrics([])).toEqual({
      train: [],
      heldOut: [],
      lastEval: undefined,
      lastTrain: undefined,
    });
  });
});
