import fs from 'node:fs';
import path from 'node:path';
import { tempSuffix } from './atomic';
import { makeDirsSync } from './makeDirs';

/**
 * Make sure `dir` exists and can be written into, before any long work: creates it
 * ({@link makeDirsSync}) and writes and removes a probe file in it. Returns the absolute path.
 * Throws `cannot write to the <what> <dir> (<code>): <reason>` otherwise, e.g.
 * `cannot write to the output directory /proc/nope (ENOENT): …`.
 */
export function ensureWritableDir(dir: string, what = 'output directory'): string {
  const abs = path.resolve(dir);
  try {
    makeDirsSync(abs);
    const probe = path.join(abs, `.write-test${tempSuffix('tmp')}`);
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
