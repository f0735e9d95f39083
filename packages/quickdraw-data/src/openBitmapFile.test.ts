import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { collect } from '../test/helpers';
import { BITMAP_BYTES, encodeBitmapNpy, encodeNpyHeader } from './npy';
import { iterateBitmapRows, openBitmapFile, readBitmapHeader } from './openBitmapFile';

const shared = (name: string) => path.join(quickdrawDir(), 'full', 'numpy_bitmap', `${name}.npy`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qd-npy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Row r of a file, read independently with readFileSync. */
const rowOf = (bytes: Buffer, offset: number, r: number) =>
  new Uint8Array(bytes.subarray(offset + r * BITMAP_BYTES, offset + (r + 1) * BITMAP_BYTES));

describe('openBitmapFile on the real files', () => {
  it('reads row ranges and scattered rows through a file handle', async () => {
    const file = shared('alarm clock');
    const bytes = fs.readFileSync(file);
    const f = await openBitmapFile(file);
    try {
      expect(f.name).toBe('alarm clock');
      expect(f.rows).toBe(4000);
      expect(f.header.dataOffset).toBe(128);
      const range = await f.read(1234, 3);
      for (let k = 0; k < 3; k++) {
        expect(range.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES)).toEqual(
          rowOf(bytes, 128, 1234 + k),
        );
      }
      const rows = [3999, 0, 17, 18, 19, 17, 2500];
      const got = await f.readRows(rows);
      rows.forEach((r, k) => {
        expect(got.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES)).toEqual(
          rowOf(bytes, 128, r),
        );
      });
      expect((await f.read(5, 0)).length).toBe(0);
    } finally {
      await f.close();
    }
  });

  it('limits rows with maxRows and names partial downloads after their class', async () => {
    const f = await openBitmapFile(shared('train'), { maxRows: 10, name: 'train' });
    expect(f.rows).toBe(10);
    await expect(f.read(9, 2)).rejects.toThrow('row 10 of');
    await f.close();
    const partial = path.join(tmp, 'cat.first5.npy');
    fs.writeFileSync(partial, encodeBitmapNpy(new Uint8Array(5 * BITMAP_BYTES)));
    const p = await openBitmapFile(partial);
    expect(p.name).toBe('cat');
    await p.close();
  });

  it('streams all rows in chunks', async () => {
    const file = shared('train');
    const bytes = fs.readFileSync(file);
    const chunks = await collect(iterateBitmapRows(file, { chunkRows: 300 }));
    expect(chunks.map((c) => [c.start, c.count])).toEqual([
      [0, 300],
      [300, 300],
      [600, 300],
      [900, 100],
    ]);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.images.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c.images, at);
      at += c.images.length;
    }
    expect(Buffer.from(all).equals(bytes.subarray(128))).toBe(true);
    const part = await collect(iterateBitmapRows(file, { start: 998, end: 1000 }));
    expect(part.map((c) => c.count)).toEqual([2]);
  });
});

describe('openBitmapFile errors', () => {
  const write = (name: string, data: Uint8Array | string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, data);
    return file;
  };

  it('explains truncated files, HTML pages, trailing bytes and wrong dtypes', async () => {
    const cut = write('cut.npy', fs.readFileSync(shared('cat')).subarray(0, 1_000_000));
    await expect(openBitmapFile(cut)).rejects.toThrow(
      `Error in openBitmapFile: ${cut} is truncated: the header says 4000 rows (3136000 data bytes) but 999872 bytes follow the header (1275 complete rows)`,
    );
    const html = write('html.npy', '<!DOCTYPE html><html><body>Too many requests</body></html>');
    await expect(openBitmapFile(html)).rejects.toThrow(
      `Error in openBitmapFile: ${html} is not a .npy file (no \\x93NUMPY magic): it is an HTML/XML page`,
    );
    const long = new Uint8Array(2 * BITMAP_BYTES + 128 + 1);
    long.set(encodeNpyHeader([2, BITMAP_BYTES]));
    const trailing = write('trailing.npy', long);
    await expect(readBitmapHeader(trailing)).rejects.toThrow(
      `Error in readBitmapHeader: ${trailing} has 1 unexpected bytes after its 2 rows`,
    );
    const header = new TextEncoder().encode(
      `${`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 784), }`.padEnd(117, ' ')}\n`,
    );
    const f4 = new Uint8Array(128 + 4 * BITMAP_BYTES);
    f4.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    f4.set(header, 10);
    await expect(openBitmapFile(write('f4.npy', f4))).rejects.toThrow(
      "has dtype '<f4', expected uint8 ('|u1')",
    );
    const empty = write('empty.npy', '');
    await expect(openBitmapFile(empty)).rejects.toThrow(
      `Error in openBitmapFile: ${empty} is empty`,
    );
    const short = write('short.npy', encodeNpyHeader([1, BITMAP_BYTES]).subarray(0, 60));
    await expect(openBitmapFile(short)).rejects.toThrow(
      'is truncated inside the .npy header (60 of 128 bytes)',
    );
  });

  it('refuses directories and devices by name (they used to fail with a bare EISDIR)', async () => {
    const dir = path.join(tmp, 'dir.npy');
    fs.mkdirSync(dir, { recursive: true });
    for (const open of [readBitmapHeader, openBitmapFile]) {
      await expect(open(dir)).rejects.toThrow(`${dir} is a directory, not a .npy file`);
    }
    await expect(collect(iterateBitmapRows(dir))).rejects.toThrow(
      `Error in openBitmapFile: ${dir} is a directory, not a .npy file`,
    );
    if (fs.existsSync('/dev/zero')) {
      await expect(openBitmapFile('/dev/zero')).rejects.toThrow(
        'Error in openBitmapFile: /dev/zero is not a regular file (a device, FIFO or socket)',
      );
    }
  });

  it('rejects missing files, bad arguments and use after close', async () => {
    await expect(openBitmapFile(path.join(tmp, 'nope.npy'))).rejects.toThrow(
      `Error in openBitmapFile: cannot open ${path.join(tmp, 'nope.npy')}: ENOENT`,
    );
    await expect(readBitmapHeader(path.join(tmp, 'nope.npy'))).rejects.toThrow(
      'Error in readBitmapHeader: cannot open',
    );
    await expect(openBitmapFile(shared('cat'), { maxRows: -2 })).rejects.toThrow(
      'Error in openBitmapFile: maxRows must be an integer >= 0, got -2',
    );
    const f = await openBitmapFile(shared('cat'));
    await expect(f.readRows([4000])).rejects.toThrow(
      `row 4000 of ${shared('cat')} is outside 0..3999`,
    );
    await expect(f.read(0, -1)).rejects.toThrow('count must be an integer >= 0, got -1');
    await f.close();
    await expect(f.read(0, 1)).rejects.toThrow(
      `Error in openBitmapFile: ${shared('cat')} is closed`,
    );
    await expect(collect(iterateBitmapRows(shared('cat'), { chunkRows: 0 }))).rejects.toThrow(
      'Error in iterateBitmapRows: chunkRows must be a positive integer, got 0',
    );
    await expect(
      collect(iterateBitmapRows(shared('train'), { start: 5, end: 1001 })),
    ).rejects.toThrow('rows [5, 1001) are outside [0, 1000)');
  });
});
