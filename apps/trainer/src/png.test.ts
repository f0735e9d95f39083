import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, createRaster, drawLine, encodePng, type Raster } from './png';

/** An independent minimal PNG reader for the test: chunks, CRCs, IHDR, unfiltered scanlines. */
function decodePng(buf: Buffer) {
  expect([...buf.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const chunks: { type: string; body: Buffer }[] = [];
  let off = 8;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    const crc = buf.readUInt32BE(off + 8 + len);
    expect(crc, `CRC of ${type}`).toBe(zlib.crc32(buf.subarray(off + 4, off + 8 + len)));
    chunks.push({ type, body });
    off += 12 + len;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const ihdr = chunks[0].body;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  expect(ihdr[8]).toBe(8);
  const channels = ihdr[9] === 0 ? 1 : ihdr[9] === 2 ? 3 : -1;
  const raw = zlib.inflateSync(chunks[1].body);
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)], 'filter type').toBe(0);
    data.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, data };
}

describe('crc32', () => {
  it('gives the standard check value for "123456789"', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('matches node:zlib crc32 on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32(bytes)).toBe(zlib.crc32(bytes));
      }),
    );
  });
});

describe('encodePng', () => {
  it('round-trips grayscale and RGB rasters of any size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1 as const, 3 as const),
        fc.integer(),
        (width, height, channels, seed) => {
          const data = new Uint8Array(width * height * channels);
          for (let i = 0; i < data.length; i++) data[i] = (seed + i * 37) & 255;
          const r: Raster = { width, height, channels, data };
          const back = decodePng(encodePng(r));
          expect(back).toEqual({ width, height, channels, data });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps a drawn line where it was drawn', () => {
    const r = createRaster(10, 10, 3, [255, 255, 255]);
    drawLine(r, 0, 0, 9, 9, [255, 0, 0]);
    const back = decodePng(encodePng(r));
    for (let i = 0; i < 10; i++) {
      expect([...back.data.subarray((i * 10 + i) * 3, (i * 10 + i) * 3 + 3)]).toEqual([255, 0, 0]);
    }
    expect([...back.data.subarray(3, 6)]).toEqual([255, 255, 255]);
  });

  it('rejects inconsistent rasters with a clear message', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).toThrow(
      'Error in encodePng: data has 3 bytes, expected 2x2x1 = 4',
    );
    expect(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) })).toThrow(
      /width and height must be positive integers/,
    );
    expect(() =>
      encodePng({ width: 1, height: 1, channels: 4 as 3, data: new Uint8Array(4) }),
    ).toThrow(/channels must be 1 or 3, got 4/);
  });
});
