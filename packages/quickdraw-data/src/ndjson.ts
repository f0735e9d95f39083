import type { RawDrawing, RawStroke, SimplifiedDrawing, Stroke } from './types';

/** The two ndjson flavours of the dataset. */
export type NdjsonFormat = 'simplified' | 'raw';

type Drawing<F extends NdjsonFormat> = F extends 'simplified' ? SimplifiedDrawing : RawDrawing;

function fail(fn: string, where: string, what: string): Error {
  return new Error(`Error in ${fn}: ${where} ${what}`);
}

function checkString(fn: string, where: string, o: Record<string, unknown>, field: string): void {
  if (typeof o[field] !== 'string') {
    throw fail(fn, where, `has no string '${field}' (got ${JSON.stringify(o[field])})`);
  }
}

/**
 * Parse and validate one line of a simplified (`format: 'simplified'`, strokes `[xs, ys]` of
 * integers 0..255) or raw (`'raw'`, strokes `[xs, ys, ts]` of finite numbers) ndjson file.
 * `where` names the line in error messages (e.g. "cat.ndjson line 3").
 */
export function parseDrawing<F extends NdjsonFormat>(
  line: string,
  format: F,
  where = 'the line',
): Drawing<F> {
  const fn = 'parseDrawing';
  if (format !== 'simplified' && format !== 'raw') {
    throw new Error(
      `Error in ${fn}: format must be 'simplified' or 'raw', got '${String(format)}'`,
    );
  }
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    const text = line.length > 60 ? `${line.slice(0, 60)}...` : line;
    throw fail(
      fn,
      where,
      `is not valid JSON, truncated or not an ndjson drawing file (${(e as Error).message}): ${text}`,
    );
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw fail(fn, where, 'is not a JSON object');
  }
  const rec = o as Record<string, unknown>;
  for (const f of ['word', 'countrycode', 'timestamp', 'key_id']) checkString(fn, where, rec, f);
  if (typeof rec.recognized !== 'boolean') {
    throw fail(fn, where, `has no boolean 'recognized' (got ${JSON.stringify(rec.recognized)})`);
  }
  const drawing = rec.drawing;
  if (!Array.isArray(drawing)) throw fail(fn, where, "has no 'drawing' array");
  const arity = format === 'simplified' ? 2 : 3;
  for (let s = 0; s < drawing.length; s++) {
    const stroke = drawing[s];
    if (!Array.isArray(stroke) || stroke.length !== arity) {
      throw fail(
        fn,
        where,
        `stroke ${s} must be ${arity === 2 ? '[xs, ys]' : '[xs, ys, ts]'} (${format} format)`,
      );
    }
    const n = Array.isArray(stroke[0]) ? stroke[0].length : -1;
    for (let a = 0; a < arity; a++) {
      const arr = stroke[a];
      if (!Array.isArray(arr) || arr.length !== n) {
        throw fail(fn, where, `stroke ${s} has arrays of different lengths or a non-array`);
      }
      for (const v of arr) {
        const ok =
          format === 'simplified'
            ? Number.isInteger(v) && v >= 0 && v <= 255
            : typeof v === 'number' && Number.isFinite(v);
        if (!ok) {
          throw fail(
            fn,
            where,
            `stroke ${s} has ${JSON.stringify(v)}; ${format === 'simplified' ? 'simplified coordinates are integers 0..255' : 'raw values are finite numbers'}`,
          );
        }
      }
    }
    if (n === 0) throw fail(fn, where, `stroke ${s} has no points`);
  }
  return {
    word: rec.word as string,
    countrycode: rec.countrycode as string,
    timestamp: rec.timestamp as string,
    recognized: rec.recognized as boolean,
    key_id: rec.key_id as string,
    drawing: drawing as Stroke[] & RawStroke[],
  } as Drawing<F>;
}

/**
 * Parse a whole ndjson text (one drawing a line; blank lines, `\r\n` and a missing final newline
 * are fine), validating every line.
 */
export function parseNdjson<F extends NdjsonFormat>(
  text: string,
  format: F,
  options: { source?: string; limit?: number } = {},
): Drawing<F>[] {
  const out: Drawing<F>[] = [];
  const source = options.source ?? 'ndjson';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    const line = lines[i].trim();
    if (line.length === 0) continue;
    out.push(parseDrawing(line, format, `${source} line ${i + 1}`));
  }
  return out;
}

/** Longest line {@link ndjsonLines} accepts by default: 64 Mi characters (real ones are < 1 Mi). */
export const MAX_NDJSON_LINE = 2 ** 26;

/**
 * Split a stream of byte (or string) chunks into lines, decoding UTF-8 across chunk borders.
 * Yields each line without its `\n` / `\r\n`; a final line without newline is yielded too.
 * Works on Node streams and on `Response.body` (web streams are async iterable in Node 20 and
 * modern browsers). A line longer than `maxLineLength` (default {@link MAX_NDJSON_LINE}) is an
 * error naming `source`: binary data or an endless stream (a device) is not buffered forever.
 */
export async function* ndjsonLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: { source?: string; maxLineLength?: number } = {},
): AsyncGenerator<string> {
  const { source = 'ndjson', maxLineLength = MAX_NDJSON_LINE } = options;
  const decoder = new TextDecoder('utf-8');
  // The current line's pieces: joined once at its newline, so a file without newlines costs
  // linear time (no re-scan or re-copy of the growing line per chunk).
  let parts: string[] = [];
  let length = 0;
  let lineNo = 1;
  const add = (piece: string) => {
    length += piece.length;
    if (length > maxLineLength) {
      throw new Error(
        `Error in ndjsonLines: ${source} line ${lineNo} is longer than ${maxLineLength} characters: not an ndjson file (binary data, or an endless stream)?`,
      );
    }
    parts.push(piece);
  };
  const take = () => {
    const line = stripCr(parts.join(''));
    parts = [];
    length = 0;
    lineNo++;
    return line;
  };
  for await (const chunk of chunks) {
    const s = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', from)) {
      add(s.slice(from, nl));
      yield take();
      from = nl + 1;
    }
    if (from < s.length) add(s.slice(from));
  }
  add(decoder.decode());
  if (length > 0) yield take();
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Parse drawings from a stream of chunks line by line (memory: one line at a time), validating
 * each, stopping after `limit` drawings. Errors name `source` and the line number.
 */
export async function* parseDrawingStream<F extends NdjsonFormat>(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  format: F,
  options: { source?: string; limit?: number } = {},
): AsyncGenerator<Drawing<F>> {
  const source = options.source ?? 'ndjson';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return;
  let lineNo = 0;
  let count = 0;
  for await (const raw of ndjsonLines(chunks, { source })) {
    lineNo++;
    const line = raw.trim();
    if (line.length === 0) continue;
    yield parseDrawing(line, format, `${source} line ${lineNo}`);
    if (++count >= limit) return;
  }
}
