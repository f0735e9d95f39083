import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCheckpointMeta,
  type MetricsRow,
  metricsCsvLine,
  metricsJsonLine,
  parseLatest,
  parseMetricsCsv,
  parseMetricsJsonl,
} from './runDirectory';

// Issue 18: the run-directory readers on random and mutated input end in a valid result or an
// error naming the file, never an internal error; torn metrics lines are skipped and counted.

const row = fc.record({
  kind: fc.constantFrom('train', 'eval'),
  step: fc.nat(10_000),
  epoch: fc.nat(20),
  lossNats: fc.double({ min: 0, max: 2000, noNaN: true }),
  bitsPerDim: fc.double({ min: 0, max: 8, noNaN: true }),
  learningRate: fc.double({ min: 1e-6, max: 1, noNaN: true }),
}) as fc.Arbitrary<MetricsRow>;

/** Text mutations: truncate, flip a character, splice junk, duplicate a slice. */
const mutate = (text: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.nat(text.length).map((n) => text.slice(0, n)),
    fc
      .tuple(fc.nat(Math.max(0, text.length - 1)), fc.integer({ min: 1, max: 0xffff }))
      .map(([i, c]) => text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1)),
    fc
      .tuple(fc.nat(text.length), fc.string({ maxLength: 10 }))
      .map(([i, junk]) => text.slice(0, i) + junk + text.slice(i)),
    fc.constantFrom('', '\n', 'null', '[]', '{}', 'NaN', '\u0000\u0000'),
  );

const nonEmptyLines = (t: string) => t.split('\n').filter((l) => l.trim()).length;

describe('run-directory readers fuzz', () => {
  it('parseMetricsJsonl: every non-empty line is a row or counted as skipped; rows are numbers', () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 6 }).chain((rows) => mutate(rows.map(metricsJsonLine).join(''))),
        (text) => {
          const { rows, skipped } = parseMetricsJsonl(text);
          expect(rows.length + skipped).toBe(nonEmptyLines(text));
          for (const r of rows) {
            expect(typeof r.step).toBe('number');
            expect(Number.isNaN(r.bitsPerDim)).toBe(false);
          }
        },
      ),
      { seed: 18, numRuns: 400 },
    );
  });

  it('parseMetricsCsv: rows or skipped lines, or an error naming metrics.csv', () => {
    const header =
      'kind,step,epoch,lossNats,bitsPerDim,ci95,images,learningRate,imagesPerSec,elapsedSeconds\n';
    fc.assert(
      fc.property(
        fc
          .array(row, { maxLength: 6 })
          .chain((rows) => mutate(header + rows.map((r) => `${metricsCsvLine(r)}\n`).join(''))),
        (text) => {
          try {
            const { rows, skipped } = parseMetricsCsv(text);
            if (nonEmptyLines(text) > 0)
              expect(rows.length + skipped).toBe(nonEmptyLines(text) - 1);
            for (const r of rows) expect(Number.isNaN(r.bitsPerDim)).toBe(false);
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
            expect((e as Error).message).toMatch(/^metrics\.csv has no 'kind' and 'bitsPerDim'/);
          }
        },
      ),
      { seed: 18, numRuns: 400 },
    );
  });

  it('parseLatest: a safe checkpoint name, or an error naming the file', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.nat(99_999).chain((n) => mutate(JSON.stringify({ checkpoint: `step-${n}`, step: n }))),
          fc.json(),
          fc.string(),
        ),
        (text) => {
          try {
            const name = parseLatest(text, 'run/checkpoints/latest.json');
            expect(name).toMatch(/^[\w.-]+$/);
            expect(['.', '..']).not.toContain(name);
          } catch (e) {
            expect((e as Error).message).toMatch(/^run\/checkpoints\/latest\.json does not name/);
          }
        },
      ),
      { seed: 18, numRuns: 400 },
    );
  });

  it('checkCheckpointMeta: the meta, or an error naming the file and the missing part', () => {
    const good = {
      settings: { data: { classes: ['apple'] }, model: { imageShape: [28, 28, 1] } },
      progress: { step: 3, epoch: 0 },
    };
    fc.assert(
      fc.property(
        fc.oneof(
          mutate(JSON.stringify(good)).map((t) => {
            try {
              return JSON.parse(t) as unknown;
            } catch {
              return t;
            }
          }),
          fc.jsonValue(),
          fc.anything(),
        ),
        (meta) => {
          try {
            expect(checkCheckpointMeta(meta, 'ck/checkpoint.json')).toBe(meta);
          } catch (e) {
            expect((e as Error).message).toMatch(/^ck\/checkpoint\.json has no /);
          }
        },
      ),
      { seed: 18, numRuns: 400 },
    );
  });
});
