import type { BinaryDrawing, Stroke } from './types';

/** Fixed part of a `.bin` record: key_id u64, countrycode 2 bytes, recognized i8, timestamp u32, n_strokes u16. */
const RECORD_HEAD = 8 + 2 + 1 + 4 + 2;

/**
 * Length in bytes of the `.bin` record starting at `offset`, or -1 when `bytes` ends before the
 * record does. Layout (little-endian): `key_id u64 | countrycode 2 ASCII | recognized i8 |
 * timestamp u32 | n_strokes u16 | n_strokes x (n_points u16 | x[n_points] u8 | y[n_points] u8)`.
 */
export function binaryRecordLength(bytes: Uint8Array, offset = 0): number {
  let p = offset + RECORD_HEAD;
  if (p > bytes.length) return -1;
  const strokes = bytes[p - 2] | (bytes[p - 1] << 8);
  for (let s = 0; s < strokes; s++) {
    if (p + 2 > bytes.length) return -1;
    const n = bytes[p] | (bytes[p + 1] << 8);
    p += 2 + 2 * n;
    if (p > bytes.length) return -1;
  }
  return p - offset;
}

function decodeRecord(bytes: Uint8Array, offset: number): BinaryDrawing {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyId = view.getBigUint64(offset, true).toString();
  const countrycode = String.fromCharCode(bytes[offset + 8], bytes[offset + 9]);
  const recognized = view.getInt8(offset + 10) !== 0;
  const timestamp = view.getUint32(offset + 11, true);
  const strokes = view.getUint16(offset + 15, true);
  let p = offset + RECORD_HEAD;
  const drawing: Stroke[] = [];
  for (let s = 0; s < strokes; s++) {
    const n = view.getUint16(p, true);
    p += 2;
    const xs = Array.from(bytes.subarray(p, p + n));
    const ys = Array.from(bytes.subarray(p + n, p + 2 * n));
    p += 2 * n;
    drawing.push([xs, ys]);
  }
  return { key_id: keyId, countrycode, recognized, timestamp, drawing };
}

/**
 * Iterate over the records of a whole `.bin` file held in memory. A record cut short by the end
 * of the data is an error naming its index and byte offset.
 */
export function* iterateBinaryDrawings(
  bytes: Uint8Array,
  options: { source?: string; limit?: number } = {},
): Generator<BinaryDrawing> {
  const source = options.source ?? 'the data';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let offset = 0;
  let index = 0;
  while (offset < bytes.length && index < limit) {
    const len = binaryRecordLength(bytes, offset);
    if (len < 0) {
      throw new Error(
        `Error in parseBinaryDrawings: ${source} is truncated: record ${index} at byte ${offset} runs past the end (${bytes.length - offset} bytes left)`,
      );
    }
    yield decodeRecord(bytes, offset);
    offset += len;
    index++;
  }
}

/** All records of a `.bin` file held in memory (see {@link iterateBinaryDrawings}). */
export function parseBinaryDrawings(
  bytes: Uint8Array,
  options: { source?: string; limit?: number } = {},
): BinaryDrawing[] {
  return [...iterateBinaryDrawings(bytes, options)];
}

/**
 * Bytes that arrive in chunks, read from the front: appending is amortised O(chunk) (the store
 * grows by doubling), so a record that claims more bytes than ever arrive costs linear time,
 * not a copy of everything so far per chunk.
 */
export class ByteQueue {
  private store = new Uint8Array(0);
  private head = 0;
  private tail = 0;

  /** The queued bytes (a view, valid until the next `push`). */
  get bytes(): Uint8Array {
    return this.store.subarray(this.head, this.tail);
  }

  push(chunk: Uint8Array): void {
    const live = this.tail - this.head;
    if (this.tail + chunk.length > this.store.length) {
      if (live + chunk.length <= this.store.length / 2) {
        this.store.copyWithin(0, this.head, this.tail);
      } else {
        const next = new Uint8Array(Math.max(2 * (live + chunk.length), 1 << 12));
        next.set(this.bytes);
        this.store = next;
      }
      this.head = 0;
      this.tail = live;
    }
    this.store.set(chunk, this.tail);
    this.tail += chunk.length;
  }

  /** Drop `n` bytes from the front. */
  shift(n: number): void {
    this.head += n;
  }
}

/**
 * Incremental `.bin` decoder for streamed data: `push` chunks as they arrive and get the records
 * completed so far; `end()` throws if a partial record is left over.
 */
export class BinaryDrawingDecoder {
  private readonly queue = new ByteQueue();
  private consumed = 0;
  private index = 0;

  constructor(private readonly source = 'the data') {}

  /** Records completed by this chunk, in order. */
  push(chunk: Uint8Array): BinaryDrawing[] {
    this.queue.push(chunk);
    const bytes = this.queue.bytes;
    const out: BinaryDrawing[] = [];
    let offset = 0;
    for (;;) {
      const len = offset < bytes.length ? binaryRecordLength(bytes, offset) : -1;
      if (len < 0) break;
      out.push(decodeRecord(bytes, offset));
      offset += len;
    }
    this.queue.shift(offset);
    this.consumed += offset;
    this.index += out.length;
    return out;
  }

  /** Call after the last chunk: throws when the data ended inside a record. */
  end(): void {
    const left = this.queue.bytes.length;
    if (left > 0) {
      throw new Error(
        `Error in BinaryDrawingDecoder: ${this.source} is truncated: record ${this.index} at byte ${this.consumed} is incomplete (${left} bytes)`,
      );
    }
  }
}

/**
 * Encode drawings in Google's `.bin` layout (see {@link binaryRecordLength}); the inverse of
 * {@link parseBinaryDrawings}. Validates every field's range.
 */
export function encodeBinaryDrawings(drawings: readonly BinaryDrawing[]): Uint8Array {
  const fn = 'encodeBinaryDrawings';
  let size = 0;
  drawings.forEach((d, i) => {
    const where = `drawing ${i}`;
    if (typeof d.key_id !== 'string' || !/^\d+$/.test(d.key_id) || BigInt(d.key_id) >= 2n ** 64n) {
      throw new Error(
        `Error in ${fn}: ${where} key_id must be a decimal u64 string, got '${d.key_id}'`,
      );
    }
    if (typeof d.countrycode !== 'string' || !/^[\x20-\x7e]{2}$/.test(d.countrycode)) {
      throw new Error(
        `Error in ${fn}: ${where} countrycode must be 2 ASCII characters, got '${d.countrycode}'`,
      );
    }
    if (!Number.isInteger(d.timestamp) || d.timestamp < 0 || d.timestamp > 0xffffffff) {
      throw new Error(`Error in ${fn}: ${where} timestamp must be a u32, got ${d.timestamp}`);
    }
    if (!Array.isArray(d.drawing) || d.drawing.length > 0xffff) {
      throw new Error(`Error in ${fn}: ${where} needs 0..65535 strokes`);
    }
    size += RECORD_HEAD;
    d.drawing.forEach((stroke, s) => {
      const [xs, ys] = Array.isArray(stroke) ? stroke : [];
      if (!Array.isArray(xs) || !Array.isArray(ys) || xs.length !== ys.length) {
        throw new Error(`Error in ${fn}: ${where} stroke ${s} must be [xs, ys] of equal length`);
      }
      if (xs.length > 0xffff) {
        throw new Error(`Error in ${fn}: ${where} stroke ${s} has more than 65535 points`);
      }
      for (const v of [...xs, ...ys]) {
        if (!Number.isInteger(v) || v < 0 || v > 255) {
          throw new Error(
            `Error in ${fn}: ${where} stroke ${s} has coordinate ${v}; the .bin format holds integers 0..255`,
          );
        }
      }
      size += 2 + 2 * xs.length;
    });
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const d of drawings) {
    view.setBigUint64(p, BigInt(d.key_id), true);
    out[p + 8] = d.countrycode.charCodeAt(0);
    out[p + 9] = d.countrycode.charCodeAt(1);
    view.setInt8(p + 10, d.recognized ? 1 : 0);
    view.setUint32(p + 11, d.timestamp, true);
    view.setUint16(p + 15, d.drawing.length, true);
    p += RECORD_HEAD;
    for (const [xs, ys] of d.drawing) {
      view.setUint16(p, xs.length, true);
      out.set(xs, p + 2);
      out.set(ys, p + 2 + xs.length);
      p += 2 + 2 * xs.length;
    }
  }
  return out;
}
