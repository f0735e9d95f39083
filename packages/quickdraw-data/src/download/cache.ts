import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ChecksumTable } from '../checksums';
import { readBitmapHeader } from '../openBitmapFile';
import { formatExtension, type QuickDrawFormat } from '../urls';
import { removeQuietly, sha256Of, sizeOf } from './files';
import { type Ctx, type DownloadResult, report } from './types';

// Cache validation: an entry is used only when its sidecar, size, .npy header and checksum agree.

/** The `.json` sidecar of a cache entry. */
export interface CacheMeta {
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

/** Where a class's file and its prefixes live in the cache. */
export function cachePaths(cacheDir: string, className: string, format: QuickDrawFormat) {
  const dir = path.join(cacheDir, format);
  const ext = formatExtension(format);
  return {
    dir,
    whole: path.join(dir, `${className}.${ext}`),
    partial: (n: number) => path.join(dir, `${className}.first${n}.${ext}`),
  };
}

export async function readMeta(file: string): Promise<CacheMeta | null> {
  try {
    return JSON.parse(await fsp.readFile(`${file}.json`, 'utf8')) as CacheMeta;
  } catch {
    return null;
  }
}

/** Why a cache entry cannot be used, or null when it can. */
export async function cacheProblem(
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

export function resultOf(meta: CacheMeta, file: string, fromCache: boolean): DownloadResult {
  const { className, format, url, complete, drawings, bytes, sha256 } = meta;
  return { className, format, path: file, url, complete, drawings, bytes, sha256, fromCache };
}

/**
 * The first usable cache entry for this request: the whole file, else (for `maxDrawings`) the
 * smallest cached prefix with at least that many drawings. Entries failing a check are deleted.
 */
export async function findCached(
  ctx: Ctx,
  paths: ReturnType<typeof cachePaths>,
  table: ChecksumTable | false,
): Promise<DownloadResult | null> {
  const { className, format, maxDrawings } = ctx;
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
  return null;
}
