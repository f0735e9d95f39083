import fs from 'node:fs';
import path from 'node:path';
import { verifyCheckpoint } from '@pixelcnn/pixelcnn-dist/node';
import {
  CHECKPOINT_FILE,
  isCheckpointName,
  LATEST_FILE,
  type LatestPointer,
  locateCheckpoint,
  NoCheckpointError,
  parseLatest,
  RUN_LAYOUT,
  type RunReader,
} from '@pixelcnn/pixelcnn-dist/run';
import { writeJsonAtomic } from './atomic';

/** Record `name` as the newest checkpoint under `checkpointsDir` (atomic). */
export function writeLatest(
  checkpointsDir: string,
  name: string,
  info: Omit<LatestPointer, 'checkpoint'> = {},
): void {
  const pointer: LatestPointer = { checkpoint: name, ...info };
  writeJsonAtomic(path.join(checkpointsDir, LATEST_FILE), pointer);
}

/** The checkpoint name `checkpointsDir/latest.json` holds, if it holds one. */
export function readLatest(checkpointsDir: string): string | undefined {
  const file = path.join(checkpointsDir, LATEST_FILE);
  try {
    return parseLatest(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
}

/** Checkpoint directory names under `checkpointsDir`, oldest first. */
export function listCheckpoints(checkpointsDir: string): string[] {
  if (!fs.existsSync(checkpointsDir)) return [];
  return fs
    .readdirSync(checkpointsDir)
    .filter(
      (n) => isCheckpointName(n) && fs.existsSync(path.join(checkpointsDir, n, CHECKPOINT_FILE)),
    )
    .sort();
}

/** Delete all but the newest `keep` checkpoints (never the one `latest.json` names). */
export function pruneCheckpoints(checkpointsDir: string, keep: number): void {
  const all = listCheckpoints(checkpointsDir);
  const latest = readLatest(checkpointsDir);
  for (const name of all.slice(0, Math.max(0, all.length - keep))) {
    if (name !== latest)
      fs.rmSync(path.join(checkpointsDir, name), { recursive: true, force: true });
  }
}

/** The run-directory contract's reader over node:fs, rooted at `root`. */
export function fsRunReader(root: string): RunReader {
  const missing = (e: unknown) =>
    ['ENOENT', 'ENOTDIR', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '');
  return {
    async readText(rel) {
      try {
        return fs.readFileSync(path.join(root, ...rel.split('/')), 'utf8');
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
    },
    async list(rel) {
      try {
        return fs.readdirSync(path.join(root, ...rel.split('/')));
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
    },
  };
}

/**
 * Find a checkpoint directory from what a user typed: a checkpoint directory itself, a
 * `checkpoints/` directory, or a run directory (its `checkpoints/latest.json`). Clear error when
 * nothing is there.
 */
export async function resolveCheckpointDir(p: string): Promise<string> {
  const abs = path.resolve(p);
  if (!fs.existsSync(abs)) throw new Error(`no checkpoint at ${abs}: it does not exist`);
  try {
    const found = await locateCheckpoint(fsRunReader(abs));
    return path.join(abs, ...found.dir.split('/'));
  } catch (e) {
    if (e instanceof NoCheckpointError) {
      throw new Error(
        `no checkpoint at ${abs}: expected a checkpoint directory (with ${CHECKPOINT_FILE}), a run directory or its ${RUN_LAYOUT.checkpoints}/ folder`,
      );
    }
    throw e;
  }
}

/**
 * {@link resolveCheckpointDir}, then check that checkpoint whole (sizes, checksums) before any
 * work. A damaged one is refused, naming the newest intact checkpoint beside it and the command
 * that uses it (`commandFor`). We do not fall back to it silently: resuming from it would redo
 * steps and replace the newer checkpoint's successors, sampling would show another model than
 * the one asked for, and a warning scrolls away under a progress bar; the user decides.
 */
export async function resolveIntactCheckpoint(
  p: string,
  commandFor: (dir: string) => string,
): Promise<string> {
  const dir = await resolveCheckpointDir(p);
  try {
    await verifyCheckpoint(dir);
    return dir;
  } catch (e) {
    const why = (e as Error).message.replace(/^Error in verifyCheckpoint: /, '');
    const parent = path.dirname(dir);
    const older = listCheckpoints(parent)
      .filter((n) => n < path.basename(dir))
      .reverse();
    for (const name of older) {
      const candidate = path.join(parent, name);
      const intact = await verifyCheckpoint(candidate).then(
        () => true,
        () => false,
      );
      if (intact) {
        throw new Error(
          `the checkpoint ${dir} is damaged: ${why}\nthe newest intact checkpoint is ${candidate}; use it with:\n  ${commandFor(candidate)}`,
        );
      }
    }
    throw new Error(
      `the checkpoint ${dir} is damaged: ${why}${older.length ? `\nnone of the ${older.length} older checkpoints beside it is intact either` : ''}`,
    );
  }
}

/** The run directory a checkpoint belongs to (`<run>/checkpoints/step-N` -> `<run>`). */
export function runDirOf(checkpointDir: string): string {
  const parent = path.dirname(checkpointDir);
  return path.basename(parent) === RUN_LAYOUT.checkpoints ? path.dirname(parent) : parent;
}
