import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryDrawingArb as drawingArb, toBinary } from '../test/helpers';
import {
  BinaryDrawingDecoder,
  binaryRecordLength,
  encodeBinaryDrawings,
  iterateBinaryDrawings,
  parseBinaryDrawings,
} from './binaryDrawings';
import { parseNdjson } from './ndjson';
import type { BinaryDrawing } from './types';

const simplified = (name: string) =>
  parseNdjson(
    fs.readFileSync(path.join(quickdrawDir(), 'full', 'simplified', `${name}.ndjson`), 'utf8'),
    'simplified',
  );

describe('.bin records', () => {
  it('follow the documented layout byte for byte', () => {
    // key_id u64 | countrycode 2 ASCII | recognized i8 | timestamp u32 | n_strokes u16 |
    // n_strokes x (n_points u16 | x[n] u8 | y[n] u8), little-endian: built by hand here.
    const bytes = new Uint8Array(8 + 2 + 1 + 4 + 2 + (2 + 3 * 2) + (2 + 1 * 2));
    const v = new DataView(bytes.buffer);
    v.setBigUint64(0, 5201136883597312n, true);
    bytes.set([0x56, 0x45], 8); // "VE"
    v.setInt8(10, 1);
    v.setUint32(11, 1488497110, true);
    v.setUint16(15, 2, true);
    v.setUint16(17, 3, true);
    bytes.set([10, 20, 30, 1, 2, 3], 19);
    v.setUint16(25, 1, true);
    bytes.set([255, 0], 27);
    const expected: BinaryDrawing = {
      key_id: '5201136883597312',
      countrycode: 'VE',
      recognized: true,
      timestamp: 1488497110,
      drawing: [
        [
          [10, 20, 30],
          [1, 2, 3],
        ],
        [[255], [0]],
      ],
    };
    expect(binaryRecordLength(bytes)).toBe(bytes.length);
    expect(parseBinaryDrawings(bytes)).toEqual([expected]);
    expect(encodeBinaryDrawings([expected])).toEqual(bytes);
  });

  it('round-trip the real simplified drawings of several classes', () => {
    for (const name of ['cat', 'The Eiffel Tower', 'zebra']) {
      const drawings = simplified(name).map(toBinary);
      const bytes = encodeBinaryDrawings(drawings);
      expect(parseBinaryDrawings(bytes)).toEqual(drawings);
      expect(parseBinaryDrawings(bytes, { limit: 2 })).toEqual(drawings.slice(0, 2));
    }
  });

  it('round-trip arbitrary drawings, whole or streamed in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(drawingArb, { maxLength: 5 }),
        fc.integer({ min: 1, max: 23 }),
        (drawings, step) => {
          const bytes = encodeBinaryDrawings(drawings);
          expect(parseBinaryDrawings(bytes)).toEqual(drawings);
          const decoder = new BinaryDrawingDecoder();
          const streamed: BinaryDrawing[] = [];
          for (let i = 0; i < bytes.length; i += step) {
            streamed.push(...decoder.push(bytes.subarray(i, i + step)));
          }
          decoder.end();
          expect(streamed).toEqual(drawings);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('report truncated data with the record index and offset', () => {
    const drawings = simplified('cat').slice(0, 3).map(toBinary);
    const bytes = encodeBinaryDrawings(drawings);
    const second = binaryRecordLength(bytes);
    const cut = bytes.subarray(0, bytes.length - 1);
    expect(() => parseBinaryDrawings(cut, { source: 'cat.bin' })).toThrow(
      `Error in parseBinaryDrawings: cat.bin is truncated: record 2 at byte ${second + binaryRecordLength(bytes, second)} runs past the end`,
    );
    expect(binaryRecordLength(bytes.subarray(0, 5))).toBe(-1);
    expect(binaryRecordLength(bytes.subarray(0, second - 1))).toBe(-1);
    const decoder = new BinaryDrawingDecoder('stream');
    expect(decoder.push(bytes.subarray(0, second + 4))).toHaveLength(1);
    expect(() => decoder.end()).toThrow(
      `Error in BinaryDrawingDecoder: stream is truncated: record 1 at byte ${second} is incomplete (4 bytes)`,
    );
    expect([...iterateBinaryDrawings(new Uint8Array(0))]).toEqual([]);
  });

  it('refuse a record that claims more bytes than arrive, in linear time', () => {
    // One record declaring 65535 strokes of 65535 points (8.6 GB), then 32 MiB in 64 KiB chunks:
    // re-copying everything buffered per chunk took ~20 s; the decoder must fail at the end.
    const chunk = new Uint8Array(1 << 16).fill(0xff);
    const decoder = new BinaryDrawingDecoder('huge.bin');
    const t0 = performance.now();
    for (let i = 0; i < 512; i++) expect(decoder.push(chunk)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(() => decoder.end()).toThrow(
      `Error in BinaryDrawingDecoder: huge.bin is truncated: record 0 at byte 0 is incomplete (${512 << 16} bytes)`,
    );
  });

  it('reject values the format cannot hold', () => {
    const d: BinaryDrawing = {
      key_id: '1',
      countrycode: 'US',
      recognized: false,
      timestamp: 0,
      drawing: [[[0], [0]]],
    };
    const enc = (patch: Partial<BinaryDrawing>) => () => encodeBinaryDrawings([{ ...d, ...patch }]);
    expect(enc({ key_id: '18446744073709551616' })).toThrow(
      "Error in encodeBinaryDrawings: drawing 0 key_id must be a decimal u64 string, got '18446744073709551616'",
    );
    expect(enc({ key_id: '-3' })).toThrow('key_id must be a decimal u64 string');
    expect(enc({ countrycode: 'USA' })).toThrow(
      "countrycode must be 2 ASCII characters, got 'USA'",
    );
    expect(enc({ countrycode: 'Ü1' })).toThrow('countrycode must be 2 ASCII characters');
    expect(enc({ timestamp: 2 ** 32 })).toThrow('timestamp must be a u32, got 4294967296');
    expect(enc({ timestamp: 1.5 })).toThrow('timestamp must be a u32');
    expect(enc({ drawing: [[[256], [0]]] })).toThrow(
      'drawing 0 stroke 0 has coordinate 256; the .bin format holds integers 0..255',
    );
    expect(enc({ drawing: [[[1, 2], [0]]] })).toThrow('stroke 0 must be [xs, ys] of equal length');
    expect(enc({ drawing: [[new Array(65536).fill(0), new Array(65536).fill(0)]] })).toThrow(
      'stroke 0 has more than 65535 points',
    );
    expect(enc({ drawing: 'x' as never })).toThrow('drawing 0 needs 0..65535 strokes');
  });
});
