import fs from 'node:fs';
import path from 'node:path';
import {
  CHECKPOINT_FILE,
  CHECKPOINT_FORMAT,
  isCheckpointName,
  LATEST_FILE,
  type LatestPointer,
  locateCheckpoint,
  NoCheckpointError,
  parseLatest,
  RUN_LAYOUT,
  type RunReader,
} from '@pixelcnn/pixelcnn-dist/run';
import { writeDirAtomic, writeJsonAtomic } from './atomic';

/** A named float32 array with its shape (one variable, one Adam moment, ...). */
export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Written as `checkpoint.json`; `tensors` lists each group's entries in `<group>.bin` order. */
export interface CheckpointFile<M> {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  meta: M;
  tensors: Record<string, { name: string; shape: number[] }[]>;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Write a checkpoint directory atomically (temp dir + rename): `checkpoint.json` (meta and the
 * tensor manifest) and one little-endian float32 `<group>.bin` per tensor group.
 */
export function writeCheckpoint<M>(
  dir: string,
  meta: M,
  groups: Record<string, readonly TensorEntry[]>,
): void {
  const file: CheckpointFile<M> = { format: CHECKPOINT_FORMAT, version: 1, meta, tensors: {} };
  writeDirAtomic(dir, (tmp) => {
    for (const [group, entries] of Object.entries(groups)) {
      file.tensors[group] = entries.map((e) => ({ name: e.name, shape: [...e.shape] }));
      const total = entries.reduce((a, e) => a + e.data.length, 0);
      const buf = Buffer.alloc(total * 4);
      let off = 0;
      for (const e of entries) {
        if (e.data.length !== size(e.shape)) {
          throw new Error(
            `Error in writeCheckpoint: tensor '${e.name}' has ${e.data.length} values, shape [${e.shape}] needs ${size(e.shape)}`,
          );
        }
        for (let i = 0; i < e.data.length; i++) buf.writeFloatLE(e.data[i], (off + i) * 4);
        off += e.data.length;
      }
      fs.writeFileSync(path.join(tmp, `${group}.bin`), buf);
    }
    fs.writeFileSync(path.join(tmp, CHECKPOINT_FILE), `${JSON.stringify(file, null, 2)}\n`);
  });
}

/** Read a checkpoint directory written by `writeCheckpoint`, checking sizes. */
export function readCheckpoint<M>(dir: string): {
  meta: M;
  groups: Record<string, TensorEntry[]>;
} {
  const jsonPath = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(jsonPath)) {
    throw new Error(`not a checkpoint: ${dir} has no ${CHECKPOINT_FILE}`);
  }
  let file: CheckpointFile<M>;
  try {
    file = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`corrupt checkpoint ${jsonPath}: ${(e as Error).message}`);
  }
  if (file.format !== CHECKPOINT_FORMAT || file.version !== 1) {
    throw new Error(
      `not a checkpoint of this trainer: ${jsonPath} has format '${file.format}' version ${file.version}`,
    );
  }
  const groups: Record<string, TensorEntry[]> = {};
  for (const [group, manifest] of Object.entries(file.tensors)) {
    const binPath = path.join(dir, `${group}.bin`);
    if (!fs.existsSync(binPath))
      throw new Error(`corrupt checkpoint ${dir}: ${group}.bin is missing`);
    const buf = fs.readFileSync(binPath);
    const total = manifest.reduce((a, m) => a + size(m.shape), 0);
    if (buf.length !== total * 4) {
      throw new Error(
        `corrupt checkpoint ${dir}: ${group}.bin has ${buf.length} bytes, the manifest needs ${total * 4}`,
      );
    }
    let off = 0;
    groups[group] = manifest.map((m) => {
      const n = size(m.shape);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = buf.readFloatLE((off + i) * 4);
      off += n;
      return { name: m.name, shape: m.shape, data };
    });
  }
  return { meta: file.meta, groups };
}

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

/** The run directory a checkpoint belongs to (`<run>/checkpoints/step-N` -> `<run>`). */
export function runDirOf(checkpointDir: string): string {
  const parent = path.dirname(checkpointDir);
  return path.basename(parent) === RUN_LAYOUT.checkpoints ? path.dirname(parent) : parent;
}
