import { resolveIn } from './classNames';
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
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {};
  if (maxDrawings !== undefined) {
    headers.Range = `bytes=0-${HEADER_ALLOWANCE + maxDrawings * BITMAP_BYTES - 1}`;
  }
  let response: Response;
  try {
    response = await doFetch(url, { headers, signal: options.signal });
  } catch (e) {
    throw new Error(`Error in ${fn}: could not fetch ${url}: ${(e as Error).message}`);
  }
  if (response.status !== 200 && response.status !== 206) {
    throw new Error(`Error in ${fn}: ${url} answered HTTP ${response.status}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
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
