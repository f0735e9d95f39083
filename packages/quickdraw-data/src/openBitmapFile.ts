import fs from 'node:fs/promises';
import path from 'node:path';
import {
  BITMAP_BYTES,
  type BitmapNpyHeader,
  checkBitmapHeader,
  npyHeaderLength,
  parseNpyHeader,
} from './npy';
import type { BitmapSource } from './quickDrawDataset';

/** An open numpy_bitmap `.npy` file: random access to rows through a file handle. */
export interface BitmapFile extends BitmapSource {
  readonly path: string;
  readonly header: BitmapNpyHeader;
  /** Rows available (the file's rows, or fewer with `maxRows`). */
  readonly rows: number;
  /** Rows `[start, start + count)`: `count * 784` bytes, `[count, 28, 28]` uint8. */
  read(start: number, count: number): Promise<Uint8Array>;
  /** The rows listed, in that order (contiguous runs are read together). */
  readRows(rows: ArrayLike<number>): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Read and check the header of a numpy_bitmap `.npy` file (any header length) without reading
 * its data. Throws clear errors for wrong magic (HTML pages saved as .npy...), a wrong dtype or
 * shape, truncated files and trailing bytes.
 */
export async function readBitmapHeader(file: string): Promise<BitmapNpyHeader> {
  const fn = 'readBitmapHeader';
  const fh = await openOrThrow(fn, file);
  try {
    return await headerOf(fn, fh, file);
  } finally {
    await fh.close();
  }
}

/** Open a regular file for random access (a directory or device fails here, by name). */
async function openOrThrow(fn: string, file: string): Promise<fs.FileHandle> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw new Error(`Error in ${fn}: cannot open ${file}: ${(e as Error).message}`);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new Error(
      st.isDirectory()
        ? `Error in ${fn}: ${file} is a directory, not a .npy file`
        : `Error in ${fn}: ${file} is not a regular file (a device, FIFO or socket); a .npy file is read by offset`,
    );
  }
  return fh;
}

/** The checked header, with errors attributed to `fn`. */
async function headerOf(fn: string, fh: fs.FileHandle, file: string): Promise<BitmapNpyHeader> {
  try {
    return await headerOfUnchecked(fh, file);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^Error in \w+: /, `Error in ${fn}: `));
  }
}

async function headerOfUnchecked(fh: fs.FileHandle, file: string): Promise<BitmapNpyHeader> {
  const { size } = await fh.stat();
  const first = new Uint8Array(Math.min(size, 512));
  await fh.read(first, 0, first.length, 0);
  const length = npyHeaderLength(first, file) ?? 12;
  let head = first;
  if (length > first.length && length <= size) {
    head = new Uint8Array(length);
    await fh.read(head, 0, length, 0);
  }
  return checkBitmapHeader(parseNpyHeader(head, file), { fileSize: size, source: file });
}

/**
 * Open a numpy_bitmap `.npy` file for memory-light random access (nothing but the header is read
 * up front). `name` defaults to the file name without `.npy` (and without a `.first<N>` suffix
 * of partial downloads). Close it when done.
 */
export async function openBitmapFile(
  file: string,
  options: { name?: string; maxRows?: number } = {},
): Promise<BitmapFile> {
  const fn = 'openBitmapFile';
  const { maxRows } = options;
  if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 0)) {
    throw new Error(`Error in ${fn}: maxRows must be an integer >= 0, got ${maxRows}`);
  }
  const fh = await openOrThrow(fn, file);
  let header: BitmapNpyHeader;
  try {
    header = await headerOf(fn, fh, file);
  } catch (e) {
    await fh.close();
    throw e;
  }
  const rows = Math.min(header.rows, maxRows ?? header.rows);
  const name = options.name ?? path.basename(file).replace(/(\.first\d+)?\.npy$/i, '');
  let closed = false;
  const check = (r: number) => {
    if (closed) throw new Error(`Error in ${fn}: ${file} is closed`);
    if (!Number.isInteger(r) || r < 0 || r >= rows) {
      throw new Error(`Error in ${fn}: row ${r} of ${file} is outside 0..${rows - 1}`);
    }
  };
  const readRun = async (out: Uint8Array, at: number, start: number, count: number) => {
    const bytes = count * BITMAP_BYTES;
    const { bytesRead } = await fh.read(out, at, bytes, header.dataOffset + start * BITMAP_BYTES);
    if (bytesRead !== bytes) {
      throw new Error(`Error in ${fn}: ${file} changed while open (short read at row ${start})`);
    }
  };
  return {
    path: file,
    name,
    header,
    rows,
    async read(start, count) {
      if (!Number.isInteger(count) || count < 0) {
        throw new Error(`Error in ${fn}: count must be an integer >= 0, got ${count}`);
      }
      const out = new Uint8Array(count * BITMAP_BYTES);
      if (count === 0) return out;
      check(start);
      check(start + count - 1);
      await readRun(out, 0, start, count);
      return out;
    },
    async readRows(list) {
      const n = list.length;
      const out = new Uint8Array(n * BITMAP_BYTES);
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < n; i++) check(list[i]);
      order.sort((a, b) => list[a] - list[b]);
      // Read runs of consecutive rows in one call, then place each row.
      let i = 0;
      while (i < n) {
        let j = i + 1;
        while (j < n && list[order[j]] === list[order[j - 1]] + 1) j++;
        const start = list[order[i]];
        const run = new Uint8Array((j - i) * BITMAP_BYTES);
        await readRun(run, 0, start, j - i);
        for (let k = i; k < j; k++) {
          out.set(
            run.subarray((k - i) * BITMAP_BYTES, (k - i + 1) * BITMAP_BYTES),
            order[k] * BITMAP_BYTES,
          );
        }
        i = j;
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/**
 * Stream the rows of a numpy_bitmap `.npy` file in chunks of `chunkRows` (default 1024, ~800 KB)
 * through a file handle, from row `start` (default 0) to `end` (exclusive, default all).
 */
export async function* iterateBitmapRows(
  file: string,
  options: { start?: number; end?: number; chunkRows?: number } = {},
): AsyncGenerator<{ start: number; count: number; images: Uint8Array }> {
  const fn = 'iterateBitmapRows';
  const { chunkRows = 1024 } = options;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) {
    throw new Error(`Error in ${fn}: chunkRows must be a positive integer, got ${chunkRows}`);
  }
  const f = await openBitmapFile(file);
  try {
    const start = options.start ?? 0;
    const end = options.end ?? f.rows;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end > f.rows ||
      start > end
    ) {
      throw new Error(
        `Error in ${fn}: rows [${start}, ${end}) are outside [0, ${f.rows}) of ${file}`,
      );
    }
    for (let s = start; s < end; s += chunkRows) {
      const count = Math.min(chunkRows, end - s);
      yield { start: s, count, images: await f.read(s, count) };
    }
  } finally {
    await f.close();
  }
}
