import { deflateSync } from 'node:zlib';
import { crc32 } from '@pixelcnn/pixelcnn-dist/internals';

/** An 8-bit image in row-major order: `data[(y * width + x) * channels + c]`. */
export interface Raster {
  width: number;
  height: number;
  /** 1 = grayscale, 3 = RGB. */
  channels: 1 | 3;
  data: Uint8Array;
}

/** CRC-32 (ISO 3309, the one PNG and zlib use): pixelcnn-dist's, which checks weight files. */
export { crc32 };

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(body.buffer, body.byteOffset, body.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/**
 * Encode an 8-bit grayscale or RGB raster as a PNG (IHDR, one IDAT, IEND; filter type 0 on
 * every scanline; zlib deflate from node:zlib).
 */
export function encodePng(r: Raster): Buffer {
  const { width, height, channels, data } = r;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(
      `Error in encodePng: width and height must be positive integers, got ${width}x${height}`,
    );
  }
  if (channels !== 1 && channels !== 3) {
    throw new Error(`Error in encodePng: channels must be 1 or 3, got ${channels}`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(
      `Error in encodePng: data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: grayscale / truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering (we always pick filter 0)
  ihdr[12] = 0; // no interlace
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    Buffer.from(data.buffer, data.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from(PNG_SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A raster filled with one value (gray) or colour (RGB). */
export function createRaster(
  width: number,
  height: number,
  channels: 1 | 3,
  fill: number | readonly [number, number, number] = 0,
): Raster {
  const data = new Uint8Array(width * height * channels);
  if (typeof fill === 'number') data.fill(fill);
  else if (channels === 1) data.fill(fill[0]);
  else for (let i = 0; i < width * height; i++) data.set(fill, i * 3);
  return { width, height, channels, data };
}

export type Color = readonly [number, number, number];

/** Set one pixel (clipped to the raster); RGB colours are averaged for gray rasters. */
export function setPixel(r: Raster, x: number, y: number, color: Color | number): void {
  if (x < 0 || y < 0 || x >= r.width || y >= r.height) return;
  const i = (y * r.width + x) * r.channels;
  if (typeof color === 'number') {
    for (let c = 0; c < r.channels; c++) r.data[i + c] = color;
  } else if (r.channels === 1) {
    r.data[i] = Math.round((color[0] + color[1] + color[2]) / 3);
  } else {
    r.data[i] = color[0];
    r.data[i + 1] = color[1];
    r.data[i + 2] = color[2];
  }
}

export function fillRect(
  r: Raster,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Color | number,
): void {
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) setPixel(r, xx, yy, color);
}

/**
 * Copy a grayscale image (`pixels[row * width + col]`, 0..255) into `r` at (x, y), each pixel
 * enlarged to a `scale` x `scale` block; `invert` draws 255 - v (black ink on white).
 */
export function blitGray(
  r: Raster,
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  x: number,
  y: number,
  o: { scale?: number; invert?: boolean } = {},
): void {
  const scale = o.scale ?? 1;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      let v = Math.max(0, Math.min(255, Math.round(pixels[row * width + col])));
      if (o.invert) v = 255 - v;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++)
          setPixel(r, x + col * scale + dx, y + row * scale + dy, v);
    }
  }
}

/** A straight line (Bresenham), `thickness` pixels wide (a square brush). */
export function drawLine(
  r: Raster,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Color | number,
  thickness = 1,
): void {
  x0 = Math.round(x0);
  y0 = Math.round(y0);
  x1 = Math.round(x1);
  y1 = Math.round(y1);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  const lo = -Math.floor((thickness - 1) / 2);
  for (;;) {
    for (let a = 0; a < thickness; a++)
      for (let b = 0; b < thickness; b++) setPixel(r, x0 + lo + a, y0 + lo + b, color);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}
