import { ByteQueue, binaryRecordLength } from '../binaryDrawings';
import { TransferError } from '../httpTransport';
import { BITMAP_BYTES, npyHeaderLength, parseNpyHeader } from '../npy';
import type { QuickDrawFormat } from '../urls';

// Prefix limiters: where the first N drawings of each format end, found while the bytes stream in.

export interface Limiter {
  /** Feed the bytes at absolute offset `pos` (contiguous from 0). */
  feed(chunk: Uint8Array, pos: number): void;
  /** Absolute end of the wanted prefix, once known. */
  end: number | undefined;
  /** Whether the prefix is the whole file. */
  complete: boolean;
  /** Drawings in the prefix. */
  drawings: number;
  /** Whether `feed` needs earlier bytes to decide (false once decided). */
  needsBytes(): boolean;
  /** Inclusive Range end to ask for next (undefined: open-ended). */
  rangeEnd(have: number): number | undefined;
  /** The file ended at `size` before the prefix did. */
  eof(size: number, source: string): void;
}

/** Official header length, the guess for the first Range request of a .npy prefix. */
const NPY_HEADER_GUESS = 80;

export function npyLimiter(n: number): Limiter {
  let head = new Uint8Array(0);
  const lim: Limiter = {
    end: undefined,
    complete: false,
    drawings: 0,
    needsBytes: () => lim.end === undefined,
    feed(chunk, pos) {
      if (lim.end !== undefined || pos !== head.length) return;
      const merged = new Uint8Array(head.length + chunk.length);
      merged.set(head);
      merged.set(chunk, head.length);
      head = merged.slice(0, Math.min(merged.length, 1 << 16));
      const len = npyHeaderLength(head, 'the download');
      if (len === null || head.length < len) return;
      const header = parseNpyHeader(head, 'the download');
      const rows = header.shape[0] ?? 0;
      if (header.shape.length !== 2 || header.shape[1] !== BITMAP_BYTES) {
        throw new TransferError(
          `the download has shape (${header.shape.join(', ')}), expected (N, ${BITMAP_BYTES})`,
          false,
        );
      }
      lim.drawings = Math.min(rows, n);
      lim.complete = rows <= n;
      lim.end = len + lim.drawings * BITMAP_BYTES;
    },
    rangeEnd(have) {
      const end = lim.end ?? NPY_HEADER_GUESS + n * BITMAP_BYTES;
      return have < end ? end - 1 : undefined;
    },
    eof(size, source) {
      throw new TransferError(
        lim.end === undefined
          ? `${source} ended after ${size} bytes, inside the .npy header`
          : `${source} ended after ${size} bytes, but its header promises ${lim.end}: truncated file`,
        false,
      );
    },
  };
  return lim;
}

function lineLimiter(n: number): Limiter {
  let seen = 0;
  const lim: Limiter = {
    end: undefined,
    complete: false,
    drawings: 0,
    needsBytes: () => lim.end === undefined,
    feed(chunk, pos) {
      if (lim.end !== undefined) return;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        if (++seen === n) {
          lim.end = pos + i + 1;
          lim.drawings = n;
          return;
        }
      }
      lim.drawings = seen;
    },
    rangeEnd: () => undefined,
    eof(size) {
      lim.end = size;
      lim.complete = true;
    },
  };
  return lim;
}

function recordLimiter(n: number): Limiter {
  // Bytes from the start of the first incomplete record on.
  const pending = new ByteQueue();
  let next = 0;
  const lim: Limiter = {
    end: undefined,
    complete: false,
    drawings: 0,
    needsBytes: () => lim.end === undefined,
    feed(chunk) {
      if (lim.end !== undefined) return;
      pending.push(chunk);
      const bytes = pending.bytes;
      let at = 0;
      for (;;) {
        const len = at < bytes.length ? binaryRecordLength(bytes, at) : -1;
        if (len < 0) break;
        at += len;
        next += len;
        if (++lim.drawings === n) {
          lim.end = next;
          return;
        }
      }
      pending.shift(at);
    },
    rangeEnd: () => undefined,
    eof(size, source) {
      if (pending.bytes.length > 0) {
        throw new TransferError(`${source} ends inside a .bin record (truncated file)`, false);
      }
      lim.end = size;
      lim.complete = true;
    },
  };
  return lim;
}

export function makeLimiter(format: QuickDrawFormat, n: number): Limiter {
  if (format === 'numpy_bitmap') return npyLimiter(n);
  if (format === 'binary') return recordLimiter(n);
  return lineLimiter(n);
}

/** `lim.feed`, turning a content error (not a .npy file, ...) into a fatal TransferError. */
export function feed(lim: Limiter, chunk: Uint8Array, pos: number): void {
  try {
    lim.feed(chunk, pos);
  } catch (e) {
    if (e instanceof TransferError) throw e;
    throw new TransferError((e as Error).message.replace(/^Error in \w+: /, ''), false);
  }
}
