import fs from 'node:fs';
import path from 'node:path';

/**
 * The directories from `dir` up to (not including) its nearest existing ancestor, outermost
 * first: what `mkdir -p dir` would create.
 */
function missingDirs(dir: string, exists: (p: string) => boolean): string[] {
  const missing: string[] = [];
  for (let p = path.resolve(dir); !exists(p); ) {
    missing.push(p);
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  return missing.reverse();
}

const ignoreExists = (e: unknown) => {
  if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
};

/**
 * `mkdir -p` one level at a time. Node's `mkdir(dir, { recursive: true })` never returns for a
 * path under a pseudo-filesystem that answers ENOENT to every mkdir (`/proc/nope` spins one core
 * forever, Node 20); creating each missing level on its own fails at once with that error.
 */
export function makeDirsSync(dir: string): void {
  for (const d of missingDirs(dir, fs.existsSync)) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      ignoreExists(e);
    }
  }
}

/** {@link makeDirsSync}, with async mkdir calls. */
export async function makeDirs(dir: string): Promise<void> {
  for (const d of missingDirs(dir, fs.existsSync)) {
    await fs.promises.mkdir(d).catch(ignoreExists);
  }
}
