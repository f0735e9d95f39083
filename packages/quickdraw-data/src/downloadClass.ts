import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryRecordLength } from './binaryDrawings';
import { type ChecksumTable, officialChecksums } from './checksums';
import { resolveIn } from './classNames';
import { BITMAP_BYTES, encodeNpyHeader, npyHeaderLength, parseNpyHeader } from './npy';
import { readBitmapHeader } from './openBitmapFile';
import { classFileUrl, formatExtension, QUICKDRAW_BUCKET_URL, type QuickDrawFormat } from './urls';

/** Env var with the default base URL (http(s) URL, file: URL or directory). */
export const BASE_URL_ENV = 'QUICKDRAW_BASE_URL';
/** Env var with the default cache directory. */
export const CACHE_DIR_ENV = 'QUICKDRAW_CACHE_DIR';

/** Where files come from: a server (the bucket or a mirror) or a local directory like the bucket. */
export type QuickDrawLocation = { kind: 'http'; url: string } | { kind: 'dir'; dir: string };

/**
 * Resolve a base URL option: `baseUrl`, else env QUICKDRAW_BASE_URL, else the public bucket.
 * `http(s)://...` is a server; `file://...` or a plain path is a local directory laid out like the
 * bucket (`full/numpy_bitmap/<name>.npy`, ...), e.g. the shared `quickdraw/` folder.
 */
export function resolveBaseUrl(baseUrl?: string): QuickDrawLocation {
  const raw = baseUrl ?? (process.env[BASE_URL_ENV] || QUICKDRAW_BUCKET_URL);
  if (typeof raw !== 'string' || raw.trim().length === 0) {
    throw new Error('Error in resolveBaseUrl: baseUrl must be a non-empty string');
  }
  if (/^https?:\/\//i.test(raw)) return { kind: 'http', url: raw.endsWith('/') ? raw : `${raw}/` };
  if (/^file:/i.test(raw)) return { kind: 'dir', dir: fileURLToPath(raw) };
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(raw)) {
    throw new Error(
      `Error in resolveBaseUrl: unsupported URL '${raw}'; use http(s)://, file:// or a directory path`,
    );
  }
  return { kind: 'dir', dir: path.resolve(raw) };
}

/** The cache directory: env QUICKDRAW_CACHE_DIR, else `.quickdraw-cache` in the working directory. */
export function defaultCacheDir(): string {
  return path.resolve(process.env[CACHE_DIR_ENV] || '.quickdraw-cache');
}

/** Reported through `onProgress`. */
export interface DownloadProgress {
  className: string;
  format: QuickDrawFormat;
  /** The URL or local file being fetched. */
  url: string;
  /**
   * 'cached': a valid cache entry is used; 'cache-invalid': a cache entry failed its checks and
   * was deleted (`message` says why); 'download': bytes arrived; 'retry': an attempt failed and
   * will be retried (`message`); 'verify': hashing; 'done': the file is in place.
   */
  phase: 'cached' | 'cache-invalid' | 'download' | 'retry' | 'verify' | 'done';
  receivedBytes: number;
  /** Bytes expected in all, when known. */
  totalBytes?: number;
  /** 1-based attempt number. */
  attempt: number;
  message?: string;
}

export interface DownloadOptions {
  /** Default 'numpy_bitmap'. */
  format?: QuickDrawFormat;
  /**
   * Fetch only the first N drawings: for .npy an HTTP Range request for the header + N * 784
   * bytes (written as a valid .npy of shape (N, 784)); for .ndjson / .bin the transfer stops after
   * N lines / records. Default: the whole file.
   */
  maxDrawings?: number;
  /** See {@link resolveBaseUrl}. */
  baseUrl?: string;
  /** See {@link defaultCacheDir}. */
  cacheDir?: string;
  /**
   * Verify complete numpy_bitmap files against this table (default: the official one,
   * {@link officialChecksums}); `false` skips the sha256 check (mirrors of other files).
   */
  checksums?: ChecksumTable | false;
  /**
   * How to check a cache entry before use (default 'size': metadata, size and .npy header);
   * 'sha256' also re-hashes the file. Entries failing a check are deleted and downloaded again.
   */
  verifyCache?: 'size' | 'sha256';
  /** Retries after consecutive failed attempts without progress (default 4). */
  retries?: number;
  /** First retry delay in ms, doubled each time (default 1000, capped at 30 s). */
  retryDelayMs?: number;
  /** Idle socket timeout in ms (default 30000). */
  timeoutMs?: number;
  /** Ignore the cache (default false). */
  force?: boolean;
  onProgress?: (p: DownloadProgress) => void;
}

/** A file in the cache. */
export interface DownloadResult {
  className: string;
  format: QuickDrawFormat;
  /** Absolute path of the cached file. */
  path: string;
  /** Where it came from. */
  url: string;
  /** Whether it is the complete file (else the first `drawings` drawings). */
  complete: boolean;
  /** Rows of a .npy file; drawings of a partial .ndjson/.bin file; null when not counted. */
  drawings: number | null;
  bytes: number;
  sha256: string;
  /** True when an existing cache entry was used. */
  fromCache: boolean;
}

interface CacheMeta {
  version: 1;
  className: string;
  format: QuickDrawFormat;
  url: string;
  complete: boolean;
  drawings: number | null;
  bytes: number;
  sha256: string;
  checkedAgainstTable: boolean;
}

class TransferError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Transports: one response-like shape for HTTP and local files.

interface Opened {
  status: number;
  /** Absolute offset of the first body byte. */
  start: number;
  /** Body length when known. */
  length?: number;
  /** Size of the whole file when known. */
  total?: number;
  contentType?: string;
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  close(): void;
}

interface Range {
  start: number;
  /** Inclusive; open-ended when undefined. */
  end?: number;
}

function openHttp(url: string, range: Range | null, timeoutMs: number, hops = 0): Promise<Opened> {
  const mod = url.startsWith('https:') ? https : http;
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
  if (range) headers.Range = `bytes=${range.start}-${range.end ?? ''}`;
  return new Promise<Opened>((resolve, reject) => {
    const req = mod.get(url, { headers, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hops >= 5) {
          reject(new TransferError(`too many redirects at ${url}`, false));
          return;
        }
        const next = new URL(res.headers.location, url).toString();
        openHttp(next, range, timeoutMs, hops + 1).then(resolve, reject);
        return;
      }
      const length = res.headers['content-length'];
      const opened: Opened = {
        status,
        start: 0,
        length: length !== undefined ? Number(length) : undefined,
        contentType: res.headers['content-type'],
        body: res,
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      const cr = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (status === 200) opened.total = opened.length;
      if (cr) {
        if (cr[1] !== undefined) opened.start = Number(cr[1]);
        if (cr[3] !== '*') opened.total = Number(cr[3]);
      } else if (status === 206) {
        res.resume();
        reject(new TransferError(`${url} answered 206 without a valid Content-Range`, true));
        return;
      }
      resolve(opened);
    });
    req.on('timeout', () =>
      req.destroy(new TransferError(`no data from ${url} for ${timeoutMs} ms`, true)),
    );
    req.on('error', (e) =>
      reject(e instanceof TransferError ? e : new TransferError(`${url}: ${e.message}`, true)),
    );
  });
}

async function openLocal(file: string, range: Range | null): Promise<Opened> {
  let size: number;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    return { status: 404, start: 0, body: [], close() {} };
  }
  if (range && range.start >= size && !(range.start === 0 && size === 0)) {
    return { status: 416, start: 0, total: size, body: [], close() {} };
  }
  const start = range?.start ?? 0;
  const end = Math.min(size - 1, range?.end ?? size - 1);
  const stream = fs.createReadStream(file, { start, end });
  return {
    status: range ? 206 : 200,
    start,
    length: end - start + 1,
    total: size,
    body: stream,
    close: () => stream.destroy(),
  };
}

// ---------------------------------------------------------------------------------------------
// Prefix limiters: where the first N drawings end, found while the bytes stream in.

interface Limiter {
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

function npyLimiter(n: number): Limiter {
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
  let pending = new Uint8Array(0);
  let next = 0;
  const lim: Limiter = {
    end: undefined,
    complete: false,
    drawings: 0,
    needsBytes: () => lim.end === undefined,
    feed(chunk) {
      if (lim.end !== undefined) return;
      // Bytes from `next` (start of the first incomplete record) up to pos + chunk.length.
      const merged = new Uint8Array(pending.length + chunk.length);
      merged.set(pending);
      merged.set(chunk, pending.length);
      let at = 0;
      for (;;) {
        const len = at < merged.length ? binaryRecordLength(merged, at) : -1;
        if (len < 0) break;
        at += len;
        next += len;
        if (++lim.drawings === n) {
          lim.end = next;
          return;
        }
      }
      pending = merged.slice(at);
    },
    rangeEnd: () => undefined,
    eof(size, source) {
      if (pending.length > 0) {
        throw new TransferError(`${source} ends inside a .bin record (truncated file)`, false);
      }
      lim.end = size;
      lim.complete = true;
    },
  };
  return lim;
}

function makeLimiter(format: QuickDrawFormat, n: number): Limiter {
  if (format === 'numpy_bitmap') return npyLimiter(n);
  if (format === 'binary') return recordLimiter(n);
  return lineLimiter(n);
}

/** `lim.feed`, turning a content error (not a .npy file, ...) into a fatal TransferError. */
function feed(lim: Limiter, chunk: Uint8Array, pos: number): void {
  try {
    lim.feed(chunk, pos);
  } catch (e) {
    if (e instanceof TransferError) throw e;
    throw new TransferError((e as Error).message.replace(/^Error in \w+: /, ''), false);
  }
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  className: string;
  /** Whether the source is a local directory. */
  local: boolean;
  format: QuickDrawFormat;
  url: string;
  open(range: Range | null): Promise<Opened>;
  options: DownloadOptions;
  /** Expected size of the complete file (from the checksum table), if any. */
  expectedSize?: number;
  maxDrawings?: number;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

function report(ctx: Ctx, p: Omit<DownloadProgress, 'className' | 'format' | 'url'>): void {
  ctx.options.onProgress?.({ className: ctx.className, format: ctx.format, url: ctx.url, ...p });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One attempt: continue `part` from its current size. Returns the outcome, or 'again' when the
 * response ended where a further request is needed (a guessed Range end).
 */
async function attemptOnce(
  ctx: Ctx,
  part: string,
  attempt: number,
  onData: () => void,
): Promise<{ complete: boolean; drawings: number | null } | 'again'> {
  let have = await sizeOf(part);
  let lim = ctx.maxDrawings !== undefined ? makeLimiter(ctx.format, ctx.maxDrawings) : null;
  if (lim && have > 0) {
    // Re-scan what is already there to know how far the prefix goes.
    let pos = 0;
    try {
      for await (const chunk of fs.createReadStream(part, { highWaterMark: 1 << 16 })) {
        if (!lim.needsBytes()) break;
        lim.feed(chunk as Buffer, pos);
        pos += (chunk as Buffer).length;
      }
    } catch (e) {
      await removeQuietly(part);
      throw new TransferError(
        `the partial download ${part} was corrupt and is deleted (${(e as Error).message}); restarting`,
        true,
      );
    }
    if (lim.end !== undefined && have >= lim.end) {
      await fsp.truncate(part, lim.end);
      return { complete: lim.complete, drawings: lim.drawings };
    }
  }
  const range: Range | null = have > 0 || lim ? { start: have, end: lim?.rangeEnd(have) } : null;
  const res = await ctx.open(range);
  try {
    const { status } = res;
    if (status === 404 || status === 410) {
      throw new TransferError(
        ctx.local
          ? `${ctx.url} does not exist in the local mirror`
          : `${ctx.url} was not found (HTTP ${status})`,
        false,
      );
    }
    if (status === 416) {
      if (res.total !== undefined && res.total === have) {
        if (!lim) return { complete: true, drawings: null };
        lim.eof(have, ctx.url);
        return { complete: lim.complete, drawings: lim.drawings };
      }
      await fsp.truncate(part, 0).catch(() => {});
      throw new TransferError(`${ctx.url} refused the range from byte ${have}; restarting`, true);
    }
    if (status === 408 || status === 429 || status >= 500) {
      throw new TransferError(`${ctx.url} answered HTTP ${status}`, true);
    }
    if (status !== 200 && status !== 206) {
      throw new TransferError(`${ctx.url} answered HTTP ${status}`, false);
    }
    if (/text\/html/i.test(res.contentType ?? '')) {
      throw new TransferError(
        `${ctx.url} sent an HTML page (Content-Type ${res.contentType}) instead of the data: a login, error or captive-portal page?`,
        false,
      );
    }
    if (status === 200 && have > 0) {
      // The server ignored the Range header: start over.
      await fsp.truncate(part, 0);
      have = 0;
      if (lim) lim = makeLimiter(ctx.format, ctx.maxDrawings!);
    } else if (status === 206 && res.start !== have) {
      await fsp.truncate(part, 0);
      throw new TransferError(
        `${ctx.url} sent bytes from ${res.start}, asked for ${have}; restarting`,
        true,
      );
    }
    if (!lim && ctx.expectedSize !== undefined && res.total !== undefined) {
      if (res.total !== ctx.expectedSize) {
        throw new TransferError(
          `${ctx.url} has ${res.total} bytes but the checksum table says ${ctx.expectedSize}: not the official file (pass checksums: false to accept other files)`,
          false,
        );
      }
    }
    const fh = await fsp.open(part, 'a');
    let pos = have;
    try {
      try {
        for await (const chunk of res.body) {
          let piece = chunk;
          if (!lim && pos === 0 && ctx.format === 'numpy_bitmap') {
            feed(npyLimiter(1), piece, 0); // sniff: an HTML page or other non-.npy data fails now
          }
          if (lim) {
            feed(lim, piece, pos);
            if (lim.end !== undefined && pos + piece.length > lim.end) {
              piece = piece.subarray(0, Math.max(0, lim.end - pos));
            }
          }
          if (piece.length > 0) {
            await fh.write(piece);
            pos += piece.length;
            onData();
            report(ctx, {
              phase: 'download',
              receivedBytes: pos,
              totalBytes: lim?.end ?? res.total,
              attempt,
            });
          }
          if (lim?.end !== undefined && pos >= lim.end) {
            return { complete: lim.complete, drawings: lim.drawings };
          }
        }
      } catch (e) {
        if (e instanceof TransferError) throw e;
        throw new TransferError(
          `connection to ${ctx.url} broke after ${pos} bytes: ${(e as Error).message}`,
          true,
        );
      }
    } finally {
      await fh.close();
    }
    const bodyEnd = res.start + (res.length ?? pos - res.start);
    if (pos < bodyEnd) {
      throw new TransferError(
        `${ctx.url} closed the connection after ${pos} of ${bodyEnd} bytes`,
        true,
      );
    }
    const atEof = res.total === undefined || pos >= res.total;
    if (!atEof) {
      // A shorter range than asked (a guessed .npy prefix end, or a server sending pieces).
      if (pos === have) throw new TransferError(`${ctx.url} sent no data from byte ${have}`, true);
      return 'again';
    }
    if (!lim) return { complete: true, drawings: null };
    lim.eof(pos, ctx.url);
    await fsp.truncate(part, lim.end!);
    return { complete: lim.complete, drawings: lim.drawings };
  } finally {
    res.close();
  }
}

async function transfer(
  ctx: Ctx,
  part: string,
): Promise<{ complete: boolean; drawings: number | null }> {
  const retries = ctx.options.retries ?? 4;
  const baseDelay = ctx.options.retryDelayMs ?? 1000;
  let failures = 0;
  let attempt = 0;
  for (;;) {
    attempt++;
    let progressed = false;
    try {
      const out = await attemptOnce(ctx, part, attempt, () => {
        progressed = true;
      });
      if (out === 'again') {
        failures = 0;
        continue;
      }
      return out;
    } catch (e) {
      const message = (e as Error).message;
      if (!(e instanceof TransferError)) throw e;
      if (!e.retryable) {
        // Wrong data, not a broken connection: keep nothing of it.
        await removeQuietly(part);
        throw new Error(`Error in downloadClass: ${message}`);
      }
      failures = progressed ? 1 : failures + 1;
      if (failures > retries) {
        throw new Error(
          `Error in downloadClass: gave up on ${ctx.url} after ${attempt} attempts (${failures} in a row without progress); last error: ${message}`,
        );
      }
      report(ctx, { phase: 'retry', receivedBytes: await sizeOf(part), attempt, message });
      await sleep(Math.min(30_000, baseDelay * 2 ** (failures - 1)));
    }
  }
}

function cachePaths(cacheDir: string, className: string, format: QuickDrawFormat) {
  const dir = path.join(cacheDir, format);
  const ext = formatExtension(format);
  return {
    dir,
    whole: path.join(dir, `${className}.${ext}`),
    partial: (n: number) => path.join(dir, `${className}.first${n}.${ext}`),
  };
}

async function readMeta(file: string): Promise<CacheMeta | null> {
  try {
    return JSON.parse(await fsp.readFile(`${file}.json`, 'utf8')) as CacheMeta;
  } catch {
    return null;
  }
}

/** Why a cache entry cannot be used, or null when it can. */
async function cacheProblem(
  ctx: Ctx,
  file: string,
  meta: CacheMeta | null,
  table: ChecksumTable | false,
): Promise<string | null> {
  const size = await sizeOf(file);
  if (!meta) return 'its metadata file is missing or unreadable';
  if (meta.version !== 1 || meta.className !== ctx.className || meta.format !== ctx.format) {
    return 'its metadata does not describe this class and format';
  }
  if (meta.bytes !== size) return `its size is ${size} bytes, the metadata says ${meta.bytes}`;
  if (ctx.format === 'numpy_bitmap') {
    try {
      const header = await readBitmapHeader(file);
      if (header.rows !== meta.drawings) {
        return `it has ${header.rows} rows, the metadata says ${meta.drawings}`;
      }
    } catch (e) {
      return (e as Error).message;
    }
    if (meta.complete && table) {
      const entry = table[ctx.className];
      if (!entry || entry.size !== size || entry.sha256 !== meta.sha256) {
        return 'it does not match the checksum table';
      }
    }
  }
  if (ctx.options.verifyCache === 'sha256') {
    report(ctx, { phase: 'verify', receivedBytes: size, totalBytes: size, attempt: 0 });
    const sha = await sha256Of(file);
    if (sha !== meta.sha256) return `its sha256 is ${sha}, the metadata says ${meta.sha256}`;
  }
  return null;
}

function resultOf(meta: CacheMeta, file: string, fromCache: boolean): DownloadResult {
  const { className, format, url, complete, drawings, bytes, sha256 } = meta;
  return { className, format, path: file, url, complete, drawings, bytes, sha256, fromCache };
}

/**
 * Download one class's file (or its first `maxDrawings` drawings) into the cache and return it;
 * a valid cache entry is reused. Interrupted transfers resume from the partial file with a Range
 * request; failed attempts are retried with exponential backoff; complete numpy_bitmap files are
 * checked against the sha256 table; every cache entry has a `.json` sidecar and is checked
 * (size, .npy header, table) before use: a corrupt entry is deleted and fetched again.
 *
 * With a local base directory the file is copied from it with the same checks.
 */
export async function downloadClass(
  name: string | number,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const fn = 'downloadClass';
  const className = resolveIn(fn, name, 'tfds');
  const format = options.format ?? 'numpy_bitmap';
  formatExtension(format);
  const { maxDrawings } = options;
  if (maxDrawings !== undefined && (!Number.isInteger(maxDrawings) || maxDrawings < 1)) {
    throw new Error(`Error in ${fn}: maxDrawings must be a positive integer, got ${maxDrawings}`);
  }
  for (const k of ['retries', 'retryDelayMs', 'timeoutMs'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new Error(`Error in ${fn}: ${k} must be a number >= 0, got ${v}`);
    }
  }
  if (options.verifyCache !== undefined && !['size', 'sha256'].includes(options.verifyCache)) {
    throw new Error(
      `Error in ${fn}: verifyCache must be 'size' or 'sha256', got '${options.verifyCache}'`,
    );
  }
  const table = options.checksums === undefined ? officialChecksums() : options.checksums;
  const location = resolveBaseUrl(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url =
    location.kind === 'http'
      ? classFileUrl(className, format, location.url)
      : path.join(location.dir, 'full', format, `${className}.${formatExtension(format)}`);
  const ctx: Ctx = {
    className,
    format,
    options,
    maxDrawings,
    url,
    local: location.kind === 'dir',
    open: (range) =>
      location.kind === 'http' ? openHttp(url, range, timeoutMs) : openLocal(url, range),
  };
  const paths = cachePaths(options.cacheDir ?? defaultCacheDir(), className, format);
  await fsp.mkdir(paths.dir, { recursive: true });

  // 1. The cache: the whole file, or a partial one with at least maxDrawings drawings.
  if (!options.force) {
    const candidates = [paths.whole];
    if (maxDrawings !== undefined) {
      const prefix = `${className}.first`;
      const suffix = `.${formatExtension(format)}`;
      const partials = (await fsp.readdir(paths.dir))
        .filter((f) => f.startsWith(prefix) && f.endsWith(suffix))
        .map((f) => Number(f.slice(prefix.length, f.length - suffix.length)))
        .filter((n) => Number.isInteger(n) && n >= maxDrawings)
        .sort((a, b) => a - b);
      candidates.push(...partials.map(paths.partial));
    }
    for (const file of candidates) {
      if (!fs.existsSync(file)) continue;
      const meta = await readMeta(file);
      const problem = await cacheProblem(ctx, file, meta, table);
      if (problem === null && meta) {
        report(ctx, {
          phase: 'cached',
          receivedBytes: meta.bytes,
          totalBytes: meta.bytes,
          attempt: 0,
        });
        return resultOf(meta, file, true);
      }
      report(ctx, {
        phase: 'cache-invalid',
        receivedBytes: 0,
        attempt: 0,
        message: `deleted cache entry ${file}: ${problem}`,
      });
      await removeQuietly(file);
      await removeQuietly(`${file}.json`);
    }
  }

  // 2. Transfer into a .part file (kept across interruptions for resuming).
  let entry: { size: number; sha256: string } | undefined;
  const checkWhole = format === 'numpy_bitmap' && table !== false;
  if (checkWhole) {
    entry = table[className];
    if (!entry) {
      throw new Error(
        `Error in ${fn}: the checksum table has no entry for '${className}'; pass checksums: false to skip verification`,
      );
    }
    ctx.expectedSize = entry.size;
  }
  const part = `${maxDrawings === undefined ? paths.whole : paths.partial(maxDrawings)}.part`;
  const outcome = await transfer(ctx, part);

  // 3. Check, fix the header of a partial .npy, verify, move into place.
  const bytes = await sizeOf(part);
  let drawings = outcome.drawings;
  try {
    if (format === 'numpy_bitmap') {
      const head = new Uint8Array(Math.min(bytes, 1 << 16));
      const fh = await fsp.open(part, 'r+');
      try {
        await fh.read(head, 0, head.length, 0);
        const header = parseNpyHeader(head, ctx.url);
        if (!outcome.complete) {
          const patched = encodeNpyHeader([outcome.drawings ?? 0, BITMAP_BYTES], {
            length: header.dataOffset,
          });
          await fh.write(patched, 0, patched.length, 0);
        }
      } finally {
        await fh.close();
      }
      drawings = (await readBitmapHeader(part)).rows;
    }
  } catch (e) {
    await removeQuietly(part);
    throw new Error(
      `Error in ${fn}: ${ctx.url} is not a valid numpy_bitmap file (the download was deleted): ${(e as Error).message}`,
    );
  }
  report(ctx, { phase: 'verify', receivedBytes: bytes, totalBytes: bytes, attempt: 0 });
  const sha256 = await sha256Of(part);
  if (checkWhole && outcome.complete && entry) {
    if (bytes !== entry.size || sha256 !== entry.sha256) {
      await removeQuietly(part);
      throw new Error(
        `Error in ${fn}: checksum mismatch for ${ctx.url}: got ${bytes} bytes with sha256 ${sha256}, expected ${entry.size} bytes with sha256 ${entry.sha256} (the download was deleted)`,
      );
    }
  }
  const final = outcome.complete ? paths.whole : paths.partial(maxDrawings!);
  const meta: CacheMeta = {
    version: 1,
    className,
    format,
    url: ctx.url,
    complete: outcome.complete,
    drawings,
    bytes,
    sha256,
    checkedAgainstTable: Boolean(checkWhole && outcome.complete),
  };
  await fsp.rename(part, final);
  await fsp.writeFile(`${final}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  report(ctx, { phase: 'done', receivedBytes: bytes, totalBytes: bytes, attempt: 0 });
  return resultOf(meta, final, false);
}

/**
 * {@link downloadClass} for several classes, `concurrency` at a time (default 2); results in
 * the order of `names`.
 */
export async function downloadClasses(
  names: readonly (string | number)[],
  options: DownloadOptions & { concurrency?: number } = {},
): Promise<DownloadResult[]> {
  const { concurrency = 2 } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `Error in downloadClasses: concurrency must be a positive integer, got ${concurrency}`,
    );
  }
  const out: DownloadResult[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      out[i] = await downloadClass(names[i], options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return out;
}
