import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FILE,
  checkCheckpointMeta,
  checkpointName,
  displayPixels,
  isCheckpointName,
  LEGACY_CHECKPOINT_FILE,
  locateCheckpoint,
  METRICS_COLUMNS,
  type MetricsRow,
  metricsCsvLine,
  metricsJsonLine,
  NoCheckpointError,
  parseCheckpointMeta,
  parseLatest,
  parseMetricsCsv,
  parseMetricsJsonl,
  quantizePixels,
  type RunReader,
  smoothSeries,
} from './runDirectory';

/** A run directory in memory: file path -> text; folders are implied by the paths. */
function memoryReader(files: Record<string, string>, canList = true): RunReader {
  const reader: RunReader = {
    async readText(p) {
      return files[p] ?? null;
    },
  };
  if (canList) {
    reader.list = async (dir) => {
      const prefix = dir === '' ? '' : `${dir}/`;
      const names = new Set<string>();
      for (const f of Object.keys(files)) {
        if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]);
      }
      return names.size ? [...names] : null;
    };
  }
  return reader;
}

const ck = (step: number) => `checkpoints/${checkpointName(step)}/${CHECKPOINT_FILE}`;

describe('checkpoint names and latest.json', () => {
  it('names sort by step and are recognised', () => {
    expect(checkpointName(120)).toBe('step-00000120');
    expect(isCheckpointName('step-00000120')).toBe(true);
    expect(isCheckpointName('step-120')).toBe(false);
    const names = [5, 100, 20, 3].map(checkpointName).sort();
    expect(names).toEqual([3, 5, 20, 100].map(checkpointName));
    expect(() => checkpointName(-1)).toThrow('step must be an integer >= 0, got -1');
  });

  it('parseLatest returns the name, or says what is wrong', () => {
    expect(parseLatest('{"checkpoint":"step-00000002","step":2}')).toBe('step-00000002');
    for (const bad of ['{', '{}', '{"checkpoint":"../x"}', '{"checkpoint":".."}', 'null']) {
      expect(() => parseLatest(bad, 'run/checkpoints/latest.json'), bad).toThrow(
        'run/checkpoints/latest.json does not name a checkpoint',
      );
    }
  });
});

describe('locateCheckpoint', () => {
  const files = {
    [ck(5)]: 'five',
    [ck(10)]: 'ten',
    [ck(15)]: 'fifteen',
    'checkpoints/latest.json': JSON.stringify({ checkpoint: checkpointName(10) }),
    'metrics.jsonl': '',
  };

  it('follows latest.json from a run directory or its checkpoints/ folder', async () => {
    for (const canList of [true, false]) {
      const r = memoryReader(files, canList);
      expect(await locateCheckpoint(r)).toEqual({ dir: 'checkpoints/step-00000010', text: 'ten' });
      expect(await locateCheckpoint(r, 'checkpoints')).toEqual({
        dir: 'checkpoints/step-00000010',
        text: 'ten',
      });
      expect(await locateCheckpoint(r, 'checkpoints/step-00000005')).toEqual({
        dir: 'checkpoints/step-00000005',
        text: 'five',
      });
    }
  });

  it('without latest.json takes the newest listed checkpoint (readers that can list)', async () => {
    const { 'checkpoints/latest.json': _, ...rest } = files;
    expect((await locateCheckpoint(memoryReader(rest))).dir).toBe('checkpoints/step-00000015');
    await expect(locateCheckpoint(memoryReader(rest, false))).rejects.toThrow(NoCheckpointError);
  });

  it('a latest.json naming a missing checkpoint: the listing, or an error naming both', async () => {
    const stale = { ...files, 'checkpoints/latest.json': '{"checkpoint":"step-00000099"}' };
    expect((await locateCheckpoint(memoryReader(stale))).dir).toBe('checkpoints/step-00000015');
    await expect(locateCheckpoint(memoryReader(stale, false))).rejects.toThrow(
      `checkpoints/latest.json names step-00000099, but checkpoints/step-00000099/${CHECKPOINT_FILE} is missing`,
    );
  });

  it('nothing there: NoCheckpointError listing what it read', async () => {
    const err = await locateCheckpoint(memoryReader({ 'metrics.jsonl': '' }, false), 'run').catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(NoCheckpointError);
    expect(err.tried).toEqual([
      `run/${CHECKPOINT_FILE}`,
      'run/latest.json',
      'run/checkpoints/latest.json',
    ]);
    expect(err.message).toMatch(/^no checkpoint at run: expected a checkpoint directory/);
  });
});

describe('legacy checkpoints', () => {
  it('a 0.1 checkpoint (checkpoint.json) gets an error saying what to do', async () => {
    const r = memoryReader({
      'checkpoints/latest.json': '{"checkpoint":"step-00000004"}',
      [`checkpoints/step-00000004/${LEGACY_CHECKPOINT_FILE}`]: '{}',
    });
    for (const at of ['', 'checkpoints', 'checkpoints/step-00000004']) {
      await expect(locateCheckpoint(r, at)).rejects.toThrow(
        /checkpoints\/step-00000004 is a checkpoint of pixelcnn 0\.1 .* cannot read: .*Train the run again with this version, or continue it with the 0\.1 release/,
      );
    }
  });
});

describe('checkpoint meta', () => {
  it("parseCheckpointMeta reads trainer.json's extra", () => {
    const extra = {
      settings: { data: { classes: ['a'] }, model: { imageShape: [4, 4, 1] } },
      progress: { step: 2, epoch: 0, batchInEpoch: 2, elapsedSeconds: 1 },
    };
    expect(parseCheckpointMeta(JSON.stringify({ format: 'x', extra }))).toEqual(extra);
    expect(() => parseCheckpointMeta('{', 'ck/trainer.json')).toThrow(
      'ck/trainer.json is not valid JSON',
    );
    expect(() => parseCheckpointMeta('{"format":"x"}', 'ck/trainer.json')).toThrow(
      "ck/trainer.json holds no run (no 'extra'",
    );
  });

  it('accepts what readers need and names what is missing', () => {
    const meta = {
      settings: { data: { classes: ['a'] }, model: { imageShape: [4, 4, 1] } },
      progress: { step: 2, epoch: 0, batchInEpoch: 2, elapsedSeconds: 1 },
    };
    expect(checkCheckpointMeta(meta, 'x')).toBe(meta);
    expect(() => checkCheckpointMeta(null, 'ck')).toThrow('ck has no run settings');
    expect(() => checkCheckpointMeta({ settings: {} }, 'ck')).toThrow('ck has no model settings');
    expect(() => checkCheckpointMeta({ settings: { model: {}, data: {} } }, 'ck')).toThrow(
      'ck has no class list',
    );
    expect(() =>
      checkCheckpointMeta({ settings: { model: {}, data: { classes: [] } } }, 'ck'),
    ).toThrow('ck has no training progress');
  });
});

const ROWS: MetricsRow[] = [
  { kind: 'train', step: 1, epoch: 1, lossNats: 1500, bitsPerDim: 2.76, learningRate: 1e-3 },
  { kind: 'eval', step: 1, epoch: 1, bitsPerDim: 2.3, ci95: 0.05, images: 8, elapsedSeconds: 2 },
  { kind: 'train', step: 2, epoch: 2, lossNats: 1.25e-7, bitsPerDim: 1.84, imagesPerSec: 12 },
];

describe('metrics rows', () => {
  it('round-trip through JSONL and CSV lines', () => {
    const jsonl = ROWS.map((r) => `${metricsJsonLine(r)}\n`).join('');
    const csv = `${METRICS_COLUMNS.join(',')}\n${ROWS.map((r) => `${metricsCsvLine(r)}\n`).join('')}`;
    expect(parseMetricsJsonl(jsonl)).toEqual({ rows: ROWS, skipped: 0 });
    expect(parseMetricsCsv(csv)).toEqual({ rows: ROWS, skipped: 0 });
    expect(csv.split('\n')[0]).toBe(
      'kind,step,epoch,lossNats,bitsPerDim,ci95,images,learningRate,imagesPerSec,elapsedSeconds',
    );
  });

  it('skips torn or foreign lines and counts them', () => {
    const text = `${metricsJsonLine(ROWS[0])}\n{"kind":"train","step":2,"bitsP\n[1,2]\n{"kind":"other","step":1,"bitsPerDim":1}\n\n`;
    expect(parseMetricsJsonl(text)).toEqual({ rows: [ROWS[0]], skipped: 3 });
    expect(parseMetricsCsv('kind,step,bitsPerDim\ntrain,1,2.5\ntrain,2\n')).toEqual({
      rows: [{ kind: 'train', step: 1, epoch: 0, bitsPerDim: 2.5 }],
      skipped: 1,
    });
    expect(() => parseMetricsCsv('a,b\n1,2\n')).toThrow("no 'kind' and 'bitsPerDim' columns");
  });
});

describe('smoothSeries (debiased EMA)', () => {
  it('is the identity at weight 0, keeps constants, and equals the normalised weighted mean', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (ys, w, c) => {
          const p = ys.map((y, i) => [i, y + 0] as [number, number]); // + 0: no -0
          expect(smoothSeries(p, 0)).toEqual(p);
          for (const [, y] of smoothSeries(
            p.map(([x]) => [x, c]),
            w,
          ))
            expect(y).toBeCloseTo(c, 9);
          // closed form: s_t = sum_k w^(t-k) y_k / sum_k w^(t-k)
          const s = smoothSeries(p, w);
          ys.forEach((_, t) => {
            let num = 0;
            let den = 0;
            for (let k = 0; k <= t; k++) {
              num += w ** (t - k) * ys[k];
              den += w ** (t - k);
            }
            expect(s[t][1]).toBeCloseTo(num / den, 9);
            expect(s[t][0]).toBe(t);
          });
        },
      ),
    );
  });

  it('starts on the data: a falling loss is not dragged up by its first value', () => {
    // 8 bits/dim at step 1, then 2: the old undebiased EMA (m = y1 + a (y - y1), a = 0.05) is
    // still above 7 after 3 steps; the debiased one is the weighted mean 2 + 6 w^2 / (1 + w + w^2).
    const p: [number, number][] = [
      [1, 8],
      [2, 2],
      [3, 2],
    ];
    const w = 0.9;
    expect(smoothSeries(p, w)[2][1]).toBeCloseTo(2 + (6 * w * w) / (1 + w + w * w), 12);
    expect(smoothSeries(p, w)[2][1]).toBeLessThan(4.2);
    expect(() => smoothSeries([], 1)).toThrow(
      'Error in smoothSeries: weight must be in [0, 1), got 1',
    );
  });
});

describe('pixel levels', () => {
  it('quantizePixels maps 0..255 to round(v high / 255); displayPixels maps back', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(quantizePixels(all, 255)).toEqual(all);
    expect(quantizePixels(all, 255)).not.toBe(all); // a copy
    const bin = quantizePixels(all, 1);
    expect(bin.indexOf(1)).toBe(128); // 127.5 / 255 rounds up from 128 on
    expect([...bin.subarray(0, 128)].every((v) => v === 0)).toBe(true);
    const q = quantizePixels(all, 7);
    for (let v = 0; v < 256; v++) expect(q[v]).toBe(Math.round((v * 7) / 255));
    expect([...displayPixels(Uint8Array.of(0, 1, 7), 7)]).toEqual([0, 36, 255]);
    for (let v = 0; v < 256; v++)
      expect(Math.abs(displayPixels(q, 7)[v] - v)).toBeLessThanOrEqual(19);
    expect(() => quantizePixels(all, 0)).toThrow('high must be an integer in [1, 255], got 0');
  });
});
