import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { makeDirs } from './makeDirs';

let counter = 0;

/**
 * A name suffix no other writer uses: `.kind-<pid>-<time>-<n>`, for temporaries beside a target
 * (`file.tmp-…`, `dir.old-…`) so a crash's leftovers are recognisable and never collide.
 */
export function tempSuffix(kind: string): string {
  return `.${kind}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** The data a file is written with. */
export type FileData = string | Uint8Array;

/**
 * Write a file so readers see the old content or the new, never a torn one: write a temporary
 * file beside it, flush it to disk, then rename it over the target (atomic within one
 * filesystem). On failure the temporary file is removed and the old file is left as it was.
 */
export function writeFileAtomicSync(file: string, data: FileData): void {
  const tmp = file + tempSuffix('tmp');
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

/** Write a file and flush it to disk before resolving. */
async function writeFileSynced(file: string, data: FileData): Promise<void> {
  const h = await fsp.open(file, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * {@link writeFileAtomicSync} without blocking the event loop: the same temporary sibling,
 * flush and rename, so readers see the old content or the new; on failure the temporary is
 * removed and `file` is untouched.
 */
export async function writeFileAtomic(file: string, data: FileData): Promise<void> {
  const tmp = file + tempSuffix('tmp');
  try {
    await writeFileSynced(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write the directory `dir` holding exactly `files` (name -> content), replacing an older `dir`,
 * so that a crash leaves the old directory or the new one, never a half-written one: every file
 * is written and flushed into a temporary sibling `dir.tmp-*` that is then renamed to `dir` (an
 * existing `dir` is first renamed aside to `dir.old-*` and deleted after). At worst a crash
 * leaves a stray `dir.tmp-*` or `dir.old-*` sibling (between the two renames of a replacement,
 * no `dir` and the previous version whole in `dir.old-*`). Missing parent directories are created
 * ({@link makeDirs}). On failure the temporary directory is removed and the error rethrown.
 */
export async function writeDirAtomic<Name extends string>(
  dir: string,
  files: Readonly<Record<Name, FileData>>,
): Promise<void> {
  const target = path.resolve(dir);
  await makeDirs(path.dirname(target));
  const tmp = target + tempSuffix('tmp');
  try {
    await makeDirs(tmp);
    for (const [name, data] of Object.entries<FileData>(files)) {
      await writeFileSynced(path.join(tmp, name), data);
    }
    if (await exists(target)) {
      const old = target + tempSuffix('old');
      await fsp.rename(target, old);
      await fsp.rename(tmp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, target);
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
