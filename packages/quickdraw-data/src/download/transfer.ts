import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { type ByteRange, TransferError } from '../httpTransport';
import { removeQuietly, sizeOf } from './files';
import { feed, makeLimiter, npyLimiter } from './limiters';
import { type Ctx, report } from './types';

// Retry and resume: transfer into a .part file, continuing from its size after an interruption.

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
  const range: ByteRange | null =
    have > 0 || lim ? { start: have, end: lim?.rangeEnd(have) } : null;
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
            if (lim.complete && res.total !== undefined && res.total > lim.end) {
              // The header's rows end before the file does: the whole-file check would refuse it.
              throw new TransferError(
                `${ctx.url} has ${res.total - lim.end} unexpected bytes after the ${lim.drawings} rows its header promises (corrupt or mislabelled file)`,
                false,
              );
            }
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

/**
 * Fill `part` with the file (or its prefix of `ctx.maxDrawings` drawings): attempts resume from
 * the bytes already there; failures without progress are retried `retries` times with
 * exponential backoff; wrong data fails at once and deletes the partial file.
 */
export async function transfer(
  ctx: Ctx,
  part: string,
): Promise<{ complete: boolean; drawings: number | null }> {
  const retries = ctx.options.retries ?? 4;
  const baseDelay = ctx.options.retryDelayMs ?? 1000;
  let failures = 0;
  let attempt = 0;
  // The file exists from here on, even when no byte ever comes (an empty file answers 416).
  await fsp.appendFile(part, new Uint8Array(0));
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
        // Name the file even where the content check could not (it sees only bytes).
        const from = message.includes(ctx.url) ? '' : ` (from ${ctx.url})`;
        throw new Error(`Error in downloadClass: ${message}${from}`);
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
