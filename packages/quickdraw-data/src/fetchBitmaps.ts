import { resolveIn } from './classNames';
import { openHttp, TransferError } from './httpTransport';
import { BITMAP_BYTES, type BitmapNpyHeader, checkBitmapHeader, parseNpyHeader } from './npy';
import { classFileUrl, QUICKDRAW_BUCKET_URL } from './urls';

export interface FetchBitmapsOptions {
  /** Bucket or mirror URL (default the public bucket; the server must allow CORS in browsers). */
  baseUrl?: string;
  /** Fetch only the first N drawings with an HTTP Range request (default: the whole file). */
  maxDrawings?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
}

/** Bytes requested beyond N rows when the header length is not known yet (official: 80). */
const HEADER_ALLOWANCE = 1024;

/**
 * Fetch the numpy_bitmap file of a class with `fetch` (browser or Node), or only its first
 * `maxDrawings` rows via a Range request, and check it.
 *
 * @returns `images`: `[rows * 784]` uint8 (`[rows, 28, 28]`), ready for {@link memorySource}.
 */
export async function fetchBitmaps(
  name: string | number,
  options: FetchBitmapsOptions = {},
): Promise<{ className: string; url: string; rows: number; images: Uint8Array }> {
  const fn = 'fetchBitmaps';
  const className = resolveIn(fn, name, 'tfds');
  const url = classFileUrl(className, 'numpy_bitmap', options.baseUrl ?? QUICKDRAW_BUCKET_URL);
  const { maxDrawings } = options;
  if (maxDrawings !== undefined && (!Number.isInteger(maxDrawings) || maxDrawings < 1)) {
    throw new Error(`Error in ${fn}: maxDrawings must be a positive integer, got ${maxDrawings}`);
  }
  const range =
    maxDrawings !== undefined
      ? { start: 0, end: HEADER_ALLOWANCE + maxDrawings * BITMAP_BYTES - 1 }
      : null;
  let bytes: Uint8Array;
  try {
    // A browser sees Content-Range only when the server exposes it: trust the asked start.
    const res = await openHttp(url, range, {
      fetch: options.fetch,
      signal: options.signal,
      requireContentRange: false,
    });
    try {
      if (res.status !== 200 && res.status !== 206) {
        throw new Error(`Error in ${fn}: ${url} answered HTTP ${res.status}`);
      }
      bytes = await readAll(res.body);
    } finally {
      res.close();
    }
  } catch (e) {
    const message = (e as Error).message;
    if (message.startsWith(`Error in ${fn}:`)) throw e;
    throw new Error(
      `Error in ${fn}: could not fetch ${e instanceof TransferError ? message : `${url}: ${message}`}`,
    );
  }
  const source = url;
  const header: BitmapNpyHeader = checkBitmapHeader(parseNpyHeader(bytes, source), { source });
  const wanted = Math.min(header.rows, maxDrawings ?? header.rows);
  const end = header.dataOffset + wanted * BITMAP_BYTES;
  if (bytes.length < end) {
    const have = Math.max(0, Math.floor((bytes.length - header.dataOffset) / BITMAP_BYTES));
    throw new Error(
      `Error in ${fn}: ${url} is truncated: wanted ${wanted} rows, got ${have} complete rows`,
    );
  }
  if (maxDrawings === undefined && bytes.length > end) {
    checkBitmapHeader(header, { fileSize: bytes.length, source }); // throws: trailing bytes
  }
  return {
    className,
    url,
    rows: wanted,
    images: bytes.slice(header.dataOffset, end),
  };
}

/** Concatenate a body's chunks. */
async function readAll(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    n += chunk.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
