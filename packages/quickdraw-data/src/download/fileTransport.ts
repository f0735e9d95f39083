import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { ByteRange, Opened } from '../httpTransport';

/**
 * Open a file of a local mirror as if it were served over HTTP: 404 when it is missing (or not
 * a file), 416 for a range past its end, else 200 (no range) or 206 with the asked bytes.
 */
export async function openLocal(file: string, range: ByteRange | null): Promise<Opened> {
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
  if (size === 0) {
    // An empty file: no stream (createReadStream cannot express the empty range 0..-1).
    return { status: range ? 206 : 200, start: 0, length: 0, total: 0, body: [], close() {} };
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
