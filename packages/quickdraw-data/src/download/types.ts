import type { ChecksumTable } from '../checksums';
import type { ByteRange, Opened } from '../httpTransport';
import type { QuickDrawFormat } from '../urls';

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

/** What the steps of one download share. */
export interface Ctx {
  className: string;
  /** Whether the source is a local directory. */
  local: boolean;
  format: QuickDrawFormat;
  url: string;
  open(range: ByteRange | null): Promise<Opened>;
  options: DownloadOptions;
  /** Expected size of the complete file (from the checksum table), if any. */
  expectedSize?: number;
  maxDrawings?: number;
}

/** Tell `onProgress`, if any. */
export function report(ctx: Ctx, p: Omit<DownloadProgress, 'className' | 'format' | 'url'>): void {
  ctx.options.onProgress?.({ className: ctx.className, format: ctx.format, url: ctx.url, ...p });
}
