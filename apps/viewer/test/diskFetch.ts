import fs from 'node:fs';
import path from 'node:path';
import type { FetchLike } from '../src/lib/loadModel';

/**
 * Tests: a {@link FetchLike} that serves the files under `root` at `base` (e.g.
 * 'http://viewer.test/run/'), 404 for anything missing, and records every URL asked for.
 */
export function diskFetch(root: string, base: string): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const f = async (url: string) => {
    urls.push(url);
    if (!url.startsWith(base)) throw new Error(`diskFetch: ${url} is not under ${base}`);
    const rel = decodeURIComponent(url.slice(base.length));
    const file = path.join(root, rel);
    const exists = fs.existsSync(file) && fs.statSync(file).isFile();
    const bytes = exists ? fs.readFileSync(file) : Buffer.from('not found');
    return {
      ok: exists,
      status: exists ? 200 : 404,
      text: async () => bytes.toString('utf8'),
      arrayBuffer: async () =>
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    };
  };
  return Object.assign(f, { urls });
}
