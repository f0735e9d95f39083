import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BITMAP_BYTES,
  checkBitmapHeader,
  encodeBitmapNpy,
  encodeNpyHeader,
  npyHeaderLength,
  parseBitmapNpy,
  parseNpyHeader,
} from './npy';

/** Rows per class in the shared folder (its README). */
const SHARED_ROWS: Record<string, number> = {
  apple: 3000,
  bicycle: 3000,
  diamond: 3000,
  eye: 3000,
  fish: 3000,
  airplane: 4000,
  'alarm clock': 4000,
  banana: 4000,
  bird: 4000,
  book: 4000,
  cat: 4000,
  dog: 4000,
  flower: 4000,
  house: 4000,
  bowtie: 5000,
  lollipop: 5000,
  rainbow: 5000,
  train: 1000,
};

const sharedNpy = (name: string) =>
  path.join(quickdrawDir(), 'full', 'numpy_bitmap', `${name}.npy`);

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A v1.0 .npy header built by hand (independent of encodeNpyHeader). */
function v1(dict: string, pad = 0): Uint8Array {
  const body = `${dict}${' '.repeat(pad)}\n`;
  const out = new Uint8Array(10 + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, body.length & 0xff, body.length >> 8]);
  out.set(ascii(body), 10);
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('.npy headers of the real files', () => {
  it('reads the 128-byte headers of all 18 shared bitmap files', () => {
    for (const [name, rows] of Object.entries(SHARED_ROWS)) {
      const file = sharedNpy(name);
      const bytes = new Uint8Array(fs.readFileSync(file));
      const { header, images } = parseBitmapNpy(bytes, file);
      expect(header.dataOffset).toBe(128);
      expect(header).toMatchObject({ descr: '|u1', fortranOrder: false, version: [1, 0] });
      expect(header.shape).toEqual([rows, BITMAP_BYTES]);
      expect(images.length).toBe(rows * BITMAP_BYTES);
      expect(images[0]).toBe(bytes[128]);
    }
  });
});

describe('encodeNpyHeader / encodeBitmapNpy', () => {
  it('writes the official 80-byte header with 16-byte alignment and numpy 64-byte alignment by default', () => {
    const official = encodeNpyHeader([134800, 784], { alignment: 16 });
    expect(official.length).toBe(80);
    expect(new TextDecoder().decode(official.subarray(10))).toBe(
      `{'descr': '|u1', 'fortran_order': False, 'shape': (134800, 784), }${' '.repeat(3)}\n`,
    );
    // The shared files were written by numpy with 64-byte alignment: same header bytes.
    const shared = new Uint8Array(fs.readFileSync(sharedNpy('cat'))).subarray(0, 128);
    expect(encodeNpyHeader([4000, 784])).toEqual(shared);
  });

  it('round-trips bitmaps through encode and parse (any alignment)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(1, 16, 64, 100),
        fc.integer({ min: 0, max: 255 }),
        (rows, alignment, seed) => {
          const images = Uint8Array.from(
            { length: rows * BITMAP_BYTES },
            (_, i) => (i * 7 + seed) & 255,
          );
          const bytes = encodeBitmapNpy(images, { alignment });
          const parsed = parseBitmapNpy(bytes);
          expect(parsed.header.dataOffset % alignment).toBe(0);
          expect(parsed.rows).toBe(rows);
          expect(parsed.images).toEqual(images);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rewrites a header in place at a fixed length', () => {
    const h = encodeNpyHeader([1500, 784], { length: 80 });
    expect(h.length).toBe(80);
    expect(parseNpyHeader(h).shape).toEqual([1500, 784]);
    expect(parseNpyHeader(encodeNpyHeader([7])).shape).toEqual([7]);
  });

  it('rejects impossible requests', () => {
    expect(() => encodeNpyHeader([1500, 784], { length: 40 })).toThrow(
      'Error in encodeNpyHeader: a header for shape (1500, 784) needs',
    );
    expect(() => encodeNpyHeader([-1, 784])).toThrow(
      'Error in encodeNpyHeader: shape must hold integers >= 0, got [-1, 784]',
    );
    expect(() => encodeNpyHeader([1, 784], { alignment: 0 })).toThrow(
      'Error in encodeNpyHeader: alignment must be a positive integer, got 0',
    );
    expect(() => encodeBitmapNpy(new Uint8Array(100))).toThrow(
      'Error in encodeBitmapNpy: expected a Uint8Array of N * 784 pixels, got length 100',
    );
  });
});

describe('parseNpyHeader', () => {
  it('reads version 2.0 and 3.0 headers (u32 length)', () => {
    const dict = ascii("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 784), }\n");
    for (const major of [2, 3]) {
      const head = new Uint8Array(12 + dict.length);
      head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
      new DataView(head.buffer).setUint32(8, dict.length, true);
      head.set(dict, 12);
      const h = parseNpyHeader(head);
      expect(h).toMatchObject({ version: [major, 0], shape: [3, 784], dataOffset: head.length });
    }
  });

  it('accepts double quotes and no trailing comma', () => {
    const h = parseNpyHeader(v1('{"descr": "<u1", "fortran_order": False, "shape": (2, 784)}'));
    expect(h.shape).toEqual([2, 784]);
    expect(checkBitmapHeader(h).rows).toBe(2);
  });

  it('says why bytes are not a .npy file', () => {
    const html = ascii('<!DOCTYPE html>\n<html><head><title>Error 404</title></head></html>');
    expect(() => parseNpyHeader(html, 'cat.npy')).toThrow(
      'Error in parseNpyHeader: cat.npy is not a .npy file (no \\x93NUMPY magic): it is an HTML/XML page (an error or login page saved under a .npy name?)',
    );
    expect(() => parseNpyHeader(ascii('  <html><body>hi</body></html>'))).toThrow('HTML/XML page');
    expect(() => parseNpyHeader(ascii('<Error><Code>NoSuchKey</Code></Error>'))).toThrow(
      'it looks like markup',
    );
    expect(() => parseNpyHeader(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(
      'it is gzip-compressed',
    );
    expect(() => parseNpyHeader(ascii('{"error": "quota exceeded"}'))).toThrow(
      'it looks like JSON text',
    );
    expect(() => parseNpyHeader(ascii('PK\x03\x04 and more bytes'))).toThrow(
      'it is a zip archive (.npz?)',
    );
    expect(() => parseNpyHeader(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))).toThrow(
      'the first bytes are 01 02 03 04',
    );
    expect(() => npyHeaderLength(ascii('\x93NUMPZ'))).toThrow(
      'Error in npyHeaderLength: the data is not a .npy file (no \\x93NUMPY magic)',
    );
  });

  it('detects truncation inside the preamble and the header', () => {
    expect(() => parseNpyHeader(new Uint8Array(0), 'x.npy')).toThrow(
      'Error in parseNpyHeader: x.npy is empty',
    );
    const h = encodeNpyHeader([5, 784]);
    expect(() => parseNpyHeader(h.subarray(0, 8))).toThrow(
      'Error in parseNpyHeader: the data is truncated: 8 bytes, shorter than a .npy preamble',
    );
    expect(() => parseNpyHeader(h.subarray(0, 50))).toThrow(
      'Error in parseNpyHeader: the data is truncated inside the .npy header (50 of 128 bytes)',
    );
    expect(npyHeaderLength(h.subarray(0, 9))).toBeNull();
  });

  it('rejects malformed header dicts and unknown versions', () => {
    expect(() => parseNpyHeader(v1('descr: u1'))).toThrow('malformed .npy header (not a dict)');
    expect(() => parseNpyHeader(v1("{'fortran_order': False, 'shape': (2, 784), }"))).toThrow(
      "malformed .npy header (no 'descr')",
    );
    expect(() => parseNpyHeader(v1("{'descr': '|u1', 'shape': (2, 784), }"))).toThrow(
      "(no 'fortran_order')",
    );
    expect(() => parseNpyHeader(v1("{'descr': '|u1', 'fortran_order': False}"))).toThrow(
      "(no 'shape')",
    );
    expect(() =>
      parseNpyHeader(v1("{'descr': '|u1', 'fortran_order': False, 'shape': (2, x), }")),
    ).toThrow('malformed .npy header (shape (2, x))');
    const v4 = encodeNpyHeader([1, 784]);
    v4[6] = 4;
    expect(() => parseNpyHeader(v4)).toThrow('has unsupported .npy format version 4.0');
  });
});

describe('checkBitmapHeader', () => {
  const header = (dict: string) => parseNpyHeader(v1(dict));

  it('rejects other dtypes, Fortran order and other shapes', () => {
    expect(() =>
      checkBitmapHeader(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 784), }")),
    ).toThrow("Error in checkBitmapHeader: the data has dtype '<f4', expected uint8 ('|u1')");
    expect(() =>
      checkBitmapHeader(header("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 784), }")),
    ).toThrow('is in Fortran order; expected C order');
    expect(() =>
      checkBitmapHeader(header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 28, 28), }")),
    ).toThrow('has shape (2, 28, 28), expected (N, 784)');
    expect(() =>
      checkBitmapHeader(header("{'descr': '|u1', 'fortran_order': False, 'shape': (784,), }")),
    ).toThrow('has shape (784), expected (N, 784)');
  });

  it('detects truncated data and trailing bytes', () => {
    const images = new Uint8Array(3 * BITMAP_BYTES).fill(9);
    const file = encodeBitmapNpy(images);
    expect(() => parseBitmapNpy(file.subarray(0, file.length - 1), 'dog.npy')).toThrow(
      'Error in checkBitmapHeader: dog.npy is truncated: the header says 3 rows (2352 data bytes) but 2351 bytes follow the header (2 complete rows)',
    );
    expect(() => parseBitmapNpy(file.subarray(0, 100))).toThrow('truncated inside the .npy header');
    expect(() => parseBitmapNpy(concat(file, Uint8Array.of(1, 2)))).toThrow(
      'has 2 unexpected bytes after its 3 rows',
    );
  });
});
