import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricsLog } from '@pixelcnn/trainer';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMetricsCsv, parseMetricsJsonl, smoothSeries, summarizeMetrics } from './metrics';

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

  it('skips torn or foreign lines and counts them', () => {
    const text = `${JSON.stringify(ROWS[0])}\n{"kind":"train","step":2,"bitsP\n[1,2]\n{"kind":"other","step":1,"bitsPerDim":1}\n\n`;
    expect(parseMetricsJsonl(text)).toEqual({ rows: [ROWS[0]], skipped: 3 });
    expect(parseMetricsCsv('kind,step,bitsPerDim\ntrain,1,2.5\ntrain,2\n')).toEqual({
      rows: [{ kind: 'train', step: 1, epoch: 0, bitsPerDim: 2.5 }],
      skipped: 1,
    });
    expect(() => parseMetricsCsv('a,b\n1,2\n')).toThrow(
      "metrics.csv has no 'kind' and 'bitsPerDim' columns (header: a,b)",
    );
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

describe('smoothSeries', () => {
  it('is the identity at weight 0, keeps constants, and equals the debiased EMA', () => {
    const y = fc.double({ min: -100, max: 100, noNaN: true }).map((v) => v + 0); // no -0
    const pts = fc.array(fc.tuple(fc.integer(), y), { maxLength: 30 });
    fc.assert(
      fc.property(
        pts,
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (p, w, c) => {
          expect(smoothSeries(p, 0)).toEqual(p);
          for (const [, y] of smoothSeries(
            p.map(([x]) => [x, c] as [number, number]),
            w,
          ))
            expect(y).toBeCloseTo(c, 9);
          // closed form: sum_j w^(i-j) (1-w) y_j / (1 - w^(i+1))
          const s = smoothSeries(p, w);
          s.forEach(([x, y], i) => {
            let num = 0;
            for (let j = 0; j <= i; j++) num += w ** (i - j) * (1 - w) * p[j][1];
            expect(x).toBe(p[i][0]);
            expect(y).toBeCloseTo(num / (1 - w ** (i + 1)), 6);
          });
        },
      ),
    );
    expect(() => smoothSeries([], 1)).toThrow(
      'Error in smoothSeries: weight must be in [0, 1), got 1',
    );
  });
});
