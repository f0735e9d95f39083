import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, toBinary } from '../test/helpers';
import { encodeBinaryDrawings } from './binaryDrawings';
import { parseNdjson } from './ndjson';
import { readDrawingFile } from './readDrawingFile';

const shared = (format: string, name: string) =>
  path.join(quickdrawDir(), 'full', format, `${name}.ndjson`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-draw-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('readDrawingFile', () => {
  it('streams simplified and raw files line by line, like parsing them whole', async () => {
    for (const format of ['simplified', 'raw'] as const) {
      const file = shared(format, 'bicycle');
      const whole = parseNdjson(fs.readFileSync(file, 'utf8'), format);
      // A tiny highWaterMark splits lines (and UTF-8) across many chunks.
      expect(await collect(readDrawingFile(file, format, { highWaterMark: 101 }))).toEqual(whole);
      expect(await collect(readDrawingFile(file, format, { limit: 4 }))).toEqual(whole.slice(0, 4));
    }
  });

  it('streams .bin files record by record', async () => {
    const drawings = parseNdjson(
      fs.readFileSync(shared('simplified', 'house'), 'utf8'),
      'simplified',
    ).map(toBinary);
    const file = path.join(tmp, 'house.bin');
    fs.writeFileSync(file, encodeBinaryDrawings(drawings));
    expect(await collect(readDrawingFile(file, 'binary', { highWaterMark: 7 }))).toEqual(drawings);
    expect(await collect(readDrawingFile(file, 'binary', { limit: 2 }))).toEqual(
      drawings.slice(0, 2),
    );
    expect(await collect(readDrawingFile(file, 'binary', { limit: 0 }))).toEqual([]);
  });

  it('names the file and line or record of bad data', async () => {
    const lines = fs.readFileSync(shared('simplified', 'cat'), 'utf8').split('\n');
    const broken = path.join(tmp, 'broken.ndjson');
    fs.writeFileSync(broken, `${lines[0]}\n${lines[1].slice(0, 50)}`);
    await expect(collect(readDrawingFile(broken, 'simplified'))).rejects.toThrow(
      `Error in parseDrawing: ${broken} line 2 is not valid JSON, truncated or not an ndjson drawing file`,
    );
    // A simplified file read as raw: strokes have 2 arrays, not 3.
    await expect(collect(readDrawingFile(shared('simplified', 'cat'), 'raw'))).rejects.toThrow(
      'line 1 stroke 0 must be [xs, ys, ts] (raw format)',
    );
    const bin = path.join(tmp, 'cut.bin');
    const bytes = encodeBinaryDrawings(
      parseNdjson(lines.slice(0, 3).join('\n'), 'simplified').map(toBinary),
    );
    fs.writeFileSync(bin, bytes.subarray(0, bytes.length - 3));
    await expect(collect(readDrawingFile(bin, 'binary'))).rejects.toThrow(
      `Error in BinaryDrawingDecoder: ${bin} is truncated: record 2 at byte`,
    );
  });

  it('refuses a directory by name, and stops an endless device as ndjson', async () => {
    const dir = path.join(tmp, 'dir.ndjson');
    fs.mkdirSync(dir, { recursive: true });
    for (const format of ['simplified', 'raw', 'binary'] as const) {
      await expect(collect(readDrawingFile(dir, format))).rejects.toThrow(
        `Error in readDrawingFile: ${dir} is a directory, not a drawing file`,
      );
    }
    if (fs.existsSync('/dev/zero')) {
      // No newline ever: one line capped at MAX_NDJSON_LINE, not buffered until memory runs out.
      await expect(collect(readDrawingFile('/dev/zero', 'simplified'))).rejects.toThrow(
        'Error in ndjsonLines: /dev/zero line 1 is longer than 67108864 characters',
      );
      // As .bin, zero bytes are valid empty drawings: a limit ends the endless stream.
      expect(await collect(readDrawingFile('/dev/zero', 'binary', { limit: 3 }))).toHaveLength(3);
    }
  });

  it('rejects missing files and bad arguments', async () => {
    const missing = path.join(tmp, 'missing.ndjson');
    await expect(collect(readDrawingFile(missing, 'simplified'))).rejects.toThrow(
      `Error in readDrawingFile: cannot read ${missing}: ENOENT`,
    );
    await expect(collect(readDrawingFile(missing, 'npy' as never))).rejects.toThrow(
      "Error in readDrawingFile: format must be 'simplified', 'raw' or 'binary', got 'npy'",
    );
    await expect(collect(readDrawingFile(missing, 'raw', { limit: -1 }))).rejects.toThrow(
      'Error in readDrawingFile: limit must be >= 0, got -1',
    );
  });
});
