// The one HTTP transport (fetch: Node >= 20.19 or a browser), used by the downloader and by
// fetchBitmaps. Browser-safe: no Node imports.

/** A transfer failure; `retryable` for a broken connection, not for wrong data. */
export class TransferError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** One response, as the downloader reads it (HTTP or a local file). */
export interface Opened {
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

/** A byte range to ask for. */
export interface ByteRange {
  start: number;
  /** Inclusive; open-ended when undefined. */
  end?: number;
}

export interface OpenHttpOptions {
  /** Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
  /** Give up (a retryable TransferError) when no byte arrives for this long; default never. */
  timeoutMs?: number;
  /** Follow at most this many redirects by hand (Node); default: fetch follows them itself. */
  maxRedirects?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Refuse a 206 without a Content-Range header (default true). A browser does not see the
   * header unless the server exposes it to CORS; pass false to trust the requested start then.
   */
  requireContentRange?: boolean;
}

/** The message of a fetch failure with its cause ('fetch failed' says little on its own). */
function reason(e: unknown): string {
  const err = e as Error & { cause?: { message?: string } };
  const cause = err?.cause?.message;
  return cause ? `${err.message} (${cause})` : String(err?.message ?? e);
}

/**
 * GET `url` (with `Range: bytes=start-end` when `range` is given) and describe the response:
 * status, where its body starts in the file and the file's size from Content-Range.
 */
export async function openHttp(
  url: string,
  range: ByteRange | null,
  options: OpenHttpOptions = {},
): Promise<Opened> {
  const { timeoutMs, maxRedirects } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = () => new TransferError(`no data from ${url} for ${timeoutMs} ms`, true);
  const arm = () => {
    if (timeoutMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(stalled()), timeoutMs);
  };
  const failure = (e: unknown) => {
    const why = controller.signal.reason;
    if (controller.signal.aborted && why instanceof TransferError) return why;
    return e instanceof TransferError ? e : new TransferError(`${url}: ${reason(e)}`, true);
  };
  const close = () => {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort();
  };
  const headers: Record<string, string> = { ...options.headers };
  if (range) headers.Range = `bytes=${range.start}-${range.end ?? ''}`;

  let res: Response;
  let at = url;
  try {
    for (let hops = 0; ; hops++) {
      arm();
      res = await doFetch(at, {
        headers,
        signal,
        redirect: maxRedirects === undefined ? 'follow' : 'manual',
      });
      const location = res.headers.get('location');
      if (maxRedirects === undefined || res.status < 300 || res.status >= 400 || !location) break;
      await res.body?.cancel().catch(() => {});
      if (hops >= maxRedirects) throw new TransferError(`too many redirects at ${url}`, false);
      at = new URL(location, at).toString();
    }
  } catch (e) {
    close();
    throw failure(e);
  }

  const { status } = res;
  const length = res.headers.get('content-length');
  const opened: Opened = {
    status,
    start: 0,
    length: length !== null ? Number(length) : undefined,
    contentType: res.headers.get('content-type') ?? undefined,
    body: (async function* () {
      const reader = res.body?.getReader();
      if (!reader) return;
      try {
        for (;;) {
          arm();
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (e) {
            // A stall is a TransferError; a broken connection is for the caller to word.
            const why = controller.signal.reason;
            throw controller.signal.aborted && why instanceof TransferError
              ? why
              : new Error(reason(e));
          }
          if (next.done) return;
          yield next.value;
        }
      } finally {
        clearTimeout(timer);
        reader.cancel().catch(() => {});
      }
    })(),
    close,
  };
  const cr = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  if (status === 200) opened.total = opened.length;
  if (cr) {
    if (cr[1] !== undefined) opened.start = Number(cr[1]);
    if (cr[3] !== '*') opened.total = Number(cr[3]);
  } else if (status === 206) {
    if (options.requireContentRange ?? true) {
      close();
      throw new TransferError(`${url} answered 206 without a valid Content-Range`, true);
    }
    opened.start = range?.start ?? 0;
  }
  clearTimeout(timer);
  return opened;
}
