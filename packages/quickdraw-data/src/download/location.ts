import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classFileUrl, formatExtension, QUICKDRAW_BUCKET_URL, type QuickDrawFormat } from '../urls';

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

/** The URL (server) or path (local directory) of a class's file at `location`. */
export function classFileAt(
  location: QuickDrawLocation,
  className: string,
  format: QuickDrawFormat,
): string {
  return location.kind === 'http'
    ? classFileUrl(className, format, location.url)
    : path.join(location.dir, 'full', format, `${className}.${formatExtension(format)}`);
}

/**
 * The default cache directory, absolute: env QUICKDRAW_CACHE_DIR, else `.quickdraw-cache`, either
 * resolved against `cwd` (default the process's working directory).
 */
export function defaultCacheDir(cwd: string = process.cwd()): string {
  return path.resolve(cwd, process.env[CACHE_DIR_ENV] || '.quickdraw-cache');
}
