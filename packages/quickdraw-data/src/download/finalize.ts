import fsp from 'node:fs/promises';
import type { ChecksumEntry } from '../checksums';
import { BITMAP_BYTES, encodeNpyHeader, parseNpyHeader } from '../npy';
import { readBitmapHeader } from '../openBitmapFile';
import { type CacheMeta, resultOf } from './cache';
import { removeQuietly, sha256Of, sizeOf } from './files';
import { type Ctx, type DownloadResult, report } from './types';

// Finalisation: check the finished .part file, fix a partial .npy's header, verify, move it in.

/**
 * Turn a finished transfer into a cache entry: a .npy must parse (a prefix gets the header of
 * its row count), a complete file must match `entry` (size and sha256) when given; then the
 * file moves to `final` with its `.json` sidecar. On any failure the download is deleted.
 */
export async function finalize(
  ctx: Ctx,
  part: string,
  final: string,
  outcome: { complete: boolean; drawings: number | null },
  entry: ChecksumEntry | undefined,
): Promise<DownloadResult> {
  const fn = 'downloadClass';
  const { className, format } = ctx;
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
  if (outcome.complete && entry) {
    if (bytes !== entry.size || sha256 !== entry.sha256) {
      await removeQuietly(part);
      throw new Error(
        `Error in ${fn}: checksum mismatch for ${ctx.url}: got ${bytes} bytes with sha256 ${sha256}, expected ${entry.size} bytes with sha256 ${entry.sha256} (the download was deleted)`,
      );
    }
  }
  const meta: CacheMeta = {
    version: 1,
    className,
    format,
    url: ctx.url,
    complete: outcome.complete,
    drawings,
    bytes,
    sha256,
    checkedAgainstTable: Boolean(entry && outcome.complete),
  };
  await fsp.rename(part, final);
  await fsp.writeFile(`${final}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  report(ctx, { phase: 'done', receivedBytes: bytes, totalBytes: bytes, attempt: 0 });
  return resultOf(meta, final, false);
}
