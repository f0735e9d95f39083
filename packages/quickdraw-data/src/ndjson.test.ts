import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect } from '../test/helpers';
import { TFDS_ORDER } from './classNames';
import { ndjsonLines, parseDrawing, parseDrawingStream, parseNdjson } from './ndjson';

const read = (format: string, name: string) =>
  fs.readFileSync(path.join(quickdrawDir(), 'full', format, `${name}.ndjson`), 'utf8');

const good = {
  word: 'cat',
  countrycode: 'VE',
  timestamp: '2017-03-02 23:25:10.07453 UTC',
  recognized: true,
  key_id: '5201136883597312',
  drawing: [
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
  ],
};
const line = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });

describe('ndjson on the real files', () => {
  it('parses the simplified file of every class: 25 drawings of that word', () => {
    const names = fs
      .readdirSync(path.join(quickdrawDir(), 'full', 'simplified'))
      .map((f) => f.replace(/\.ndjson$/, ''));
    expect(names).toHaveLength(344);
    expect(TFDS_ORDER.filter((n) => !names.includes(n))).toEqual(['zigzag']);
    for (const name of names) {
      const drawings = parseNdjson(read('simplified', name), 'simplified', { source: name });
      expect(drawings).toHaveLength(25);
      for (const d of drawings) expect(d.word).toBe(name);
    }
  });

  it('parses the raw files; their drawings are the simplified ones (same key_id, same order)', () => {
    for (const name of ['cat', 'alarm clock', 'train']) {
      const raw = parseNdjson(read('raw', name), 'raw');
      const simplified = parseNdjson(read('simplified', name), 'simplified');
      expect(raw.length).toBeGreaterThan(5);
      const n = Math.min(raw.length, simplified.length);
      expect(raw.slice(0, n).map((d) => d.key_id)).toEqual(
        simplified.slice(0, n).map((d) => d.key_id),
      );
      for (const d of raw) for (const s of d.drawing) expect(s).toHaveLength(3);
    }
  });

  it('streams a file in arbitrary chunks with the same result as parsing it whole', async () => {
    const text = read('simplified', 'The Eiffel Tower');
    const bytes = new TextEncoder().encode(text);
    const whole = parseNdjson(text, 'simplified');
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 997) chunks.push(bytes.subarray(i, i + 997));
    expect(await collect(parseDrawingStream(chunks, 'simplified'))).toEqual(whole);
    expect(await collect(parseDrawingStream(chunks, 'simplified', { limit: 3 }))).toEqual(
      whole.slice(0, 3),
    );
    expect(await collect(parseDrawingStream(chunks, 'simplified', { limit: 0 }))).toEqual([]);
  });
});

describe('ndjsonLines', () => {
  it('splits like String.split for any chunking, including multi-byte UTF-8 and CRLF', async () => {
    const piece = fc.constantFrom('a', 'é', '字', '🙂', '\n', '\r\n', ' ');
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        async (pieces, sizes) => {
          const text = pieces.join('');
          const bytes = new TextEncoder().encode(text);
          const chunks: Uint8Array[] = [];
          for (let i = 0, k = 0; i < bytes.length; k++) {
            const n = sizes[k % sizes.length];
            chunks.push(bytes.subarray(i, i + n));
            i += n;
          }
          const expected = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
          if (expected[expected.length - 1] === '') expected.pop();
          expect(await collect(ndjsonLines(chunks))).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('costs linear time on a stream without newlines, and caps the line length', async () => {
    // 32 MiB in 64 KiB chunks and no newline: re-scanning the growing line per chunk took ~8 s.
    const chunk = new Uint8Array(1 << 16).fill(0x61);
    const chunks = Array.from({ length: 512 }, () => chunk);
    const t0 = performance.now();
    const lines = await collect(ndjsonLines(chunks));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(lines.map((l) => l.length)).toEqual([2 ** 25]);
    await expect(
      collect(ndjsonLines(['ab\n', 'cdef', 'gh\nij'], { source: 'x.ndjson', maxLineLength: 5 })),
    ).rejects.toThrow(
      'Error in ndjsonLines: x.ndjson line 2 is longer than 5 characters: not an ndjson file',
    );
    expect(await collect(ndjsonLines(['ab\n', 'cde', 'f\nij'], { maxLineLength: 4 }))).toEqual([
      'ab',
      'cdef',
      'ij',
    ]);
  });

  it('accepts string chunks', async () => {
    expect(await collect(ndjsonLines(['a\nb', 'c\n', 'd']))).toEqual(['a', 'bc', 'd']);
  });
});

describe('parseDrawing validation', () => {
  it('accepts a valid line and returns Google field names', () => {
    expect(parseDrawing(line({}), 'simplified')).toEqual(good);
  });

  it('rejects invalid JSON and truncated lines, naming the line', () => {
    const text = `${line({})}\n${line({}).slice(0, 40)}\n`;
    expect(() => parseNdjson(text, 'simplified', { source: 'cat.ndjson' })).toThrow(
      'Error in parseDrawing: cat.ndjson line 2 is not valid JSON, truncated or not an ndjson drawing file',
    );
    expect(() => parseDrawing('<!DOCTYPE html>', 'raw')).toThrow('is not valid JSON');
  });

  it('rejects non-objects and missing or mistyped fields', () => {
    expect(() => parseDrawing('[1, 2]', 'simplified')).toThrow(
      'Error in parseDrawing: the line is not a JSON object',
    );
    expect(() => parseDrawing(line({ word: 3 }), 'simplified')).toThrow(
      "the line has no string 'word' (got 3)",
    );
    expect(() => parseDrawing(line({ key_id: undefined }), 'simplified')).toThrow(
      "has no string 'key_id'",
    );
    expect(() => parseDrawing(line({ recognized: 'yes' }), 'simplified')).toThrow(
      `has no boolean 'recognized' (got "yes")`,
    );
    expect(() => parseDrawing(line({ drawing: {} }), 'simplified')).toThrow(
      "has no 'drawing' array",
    );
  });

  it('rejects malformed strokes', () => {
    expect(() => parseDrawing(line({ drawing: [[[1, 2]]] }), 'simplified')).toThrow(
      'stroke 0 must be [xs, ys] (simplified format)',
    );
    expect(() => parseDrawing(line({}), 'raw')).toThrow(
      'stroke 0 must be [xs, ys, ts] (raw format)',
    );
    expect(() => parseDrawing(line({ drawing: [[[1, 2], [3]]] }), 'simplified')).toThrow(
      'stroke 0 has arrays of different lengths or a non-array',
    );
    expect(() => parseDrawing(line({ drawing: [[[], []]] }), 'simplified')).toThrow(
      'stroke 0 has no points',
    );
    for (const bad of [256, -1, 1.5, '3']) {
      expect(() => parseDrawing(line({ drawing: [[[bad], [0]]] }), 'simplified')).toThrow(
        `stroke 0 has ${JSON.stringify(bad)}; simplified coordinates are integers 0..255`,
      );
    }
    expect(() => parseDrawing(line({ drawing: [[[0.5], [1e300], ['t']]] }), 'raw')).toThrow(
      'stroke 0 has "t"; raw values are finite numbers',
    );
    expect(() => parseDrawing(line({}), 'binary' as never)).toThrow(
      "Error in parseDrawing: format must be 'simplified' or 'raw', got 'binary'",
    );
  });

  it('names the line of a bad drawing inside a stream', async () => {
    const chunks = [`${line({})}\n\n${line({ countrycode: null })}\n`];
    await expect(
      collect(parseDrawingStream(chunks, 'simplified', { source: 's' })),
    ).rejects.toThrow("Error in parseDrawing: s line 3 has no string 'countrycode' (got null)");
  });
});
