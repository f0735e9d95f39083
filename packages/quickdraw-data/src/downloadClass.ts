import { makeDirs } from '@pixelcnn/node-fs';
import { officialChecksums } from './checksums';
import { resolveIn } from './classNames';
import { cachePaths, findCached } from './download/cache';
import { openLocal } from './download/fileTransport';
import { finalize } from './download/finalize';
import { classFileAt, defaultCacheDir, resolveBaseUrl } from './download/location';
import { transfer } from './download/transfer';
import type { Ctx, DownloadOptions, DownloadResult } from './download/types';
import { openHttp } from './httpTransport';
import { formatExtension } from './urls';

export {
  BASE_URL_ENV,
  CACHE_DIR_ENV,
  defaultCacheDir,
  type QuickDrawLocation,
  resolveBaseUrl,
} from './download/location';
export type { DownloadOptions, DownloadProgress, DownloadResult } from './download/types';

/** Redirects followed before giving up. */
const MAX_REDIRECTS = 5;

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
  const url = classFileAt(location, className, format);
  const ctx: Ctx = {
    className,
    format,
    options,
    maxDrawings,
    url,
    local: location.kind === 'dir',
    open: (range) =>
      location.kind === 'http'
        ? openHttp(url, range, {
            timeoutMs,
            maxRedirects: MAX_REDIRECTS,
            headers: { 'Accept-Encoding': 'identity' },
          })
        : openLocal(url, range),
  };
  const paths = cachePaths(options.cacheDir ?? defaultCacheDir(), className, format);
  // One level at a time: Node's recursive mkdir never returns under /proc (issue 18.1).
  await makeDirs(paths.dir).catch((e: NodeJS.ErrnoException) => {
    throw new Error(
      `Error in ${fn}: cannot create the cache directory ${paths.dir}${e.code ? ` (${e.code})` : ''}: ${e.message}`,
    );
  });

  // 1. The cache: the whole file, or a partial one with at least maxDrawings drawings.
  if (!options.force) {
    const cached = await findCached(ctx, paths, table);
    if (cached) return cached;
  }

  // 2. Transfer into a .part file (kept across interruptions for resuming).
  const entry = format === 'numpy_bitmap' && table !== false ? table[className] : undefined;
  if (format === 'numpy_bitmap' && table !== false) {
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
  const final = outcome.complete ? paths.whole : paths.partial(maxDrawings!);
  return finalize(ctx, part, final, outcome, entry);
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
