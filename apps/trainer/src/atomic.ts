import fs from 'node:fs';
import path from 'node:path';
import { makeDirsSync } from '@pixelcnn/pixelcnn-dist/node';

let counter = 0;
const tmpSuffix = () => `.tmp-${process.pid}-${Date.now().toString(36)}-${counter++}`;

/**
 * Write a file so readers see the old content or the new, never a torn one: write a temporary
 * file beside it, flush it, then rename over the target (atomic within one filesystem).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = file + tmpSuffix();
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** `writeFileAtomic` of pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Make sure `dir` exists and we can write into it, before any long work. Throws a clear error
 * naming the directory otherwise.
 */
export function ensureWritableDir(dir: string, what = 'output directory'): string {
  const abs = path.resolve(dir);
  try {
    makeDirsSync(abs);
    const probe = path.join(abs, `.write-test${tmpSuffix()}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new Error(
      `cannot write to the ${what} ${abs}${code ? ` (${code})` : ''}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return abs;
}
