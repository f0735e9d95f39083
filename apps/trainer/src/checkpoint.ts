import fs from 'node:fs';
import path from 'node:path';
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

export const CHECKPOINT_FORMAT = 'pixelcnn-trainer-checkpoint';
export const CHECKPOINTS_SUBDIR = 'checkpoints';
export const LATEST_FILE = 'latest.json';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** `step-00000120`: checkpoint directory names sort by step. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

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
    fs.writeFileSync(path.join(tmp, 'checkpoint.json'), `${JSON.stringify(file, null, 2)}\n`);
  });
}

/** Read a checkpoint directory written by `writeCheckpoint`, checking sizes. */
export function readCheckpoint<M>(dir: string): {
  meta: M;
  groups: Record<string, TensorEntry[]>;
} {
  const jsonPath = path.join(dir, 'checkpoint.json');
  if (!fs.existsSync(jsonPath)) {
    throw new Error(`not a checkpoint: ${dir} has no checkpoint.json`);
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
export function writeLatest(checkpointsDir: string, name: string, info: object = {}): void {
  writeJsonAtomic(path.join(checkpointsDir, LATEST_FILE), { checkpoint: name, ...info });
}

/** Checkpoint directory names under `checkpointsDir`, oldest first. */
export function listCheckpoints(checkpointsDir: string): string[] {
  if (!fs.existsSync(checkpointsDir)) return [];
  return fs
    .readdirSync(checkpointsDir)
    .filter(
      (n) =>
        /^step-\d{8}$/.test(n) && fs.existsSync(path.join(checkpointsDir, n, 'checkpoint.json')),
    )
    .sort();
}

/** Delete all but the newest `keep` checkpoints (never the one `latest.json` names). */
export function pruneCheckpoints(checkpointsDir: string, keep: number): void {
  const all = listCheckpoints(checkpointsDir);
  let latest: string | undefined;
  try {
    latest = JSON.parse(fs.readFileSync(path.join(checkpointsDir, LATEST_FILE), 'utf8')).checkpoint;
  } catch {
    latest = undefined;
  }
  for (const name of all.slice(0, Math.max(0, all.length - keep))) {
    if (name !== latest)
      fs.rmSync(path.join(checkpointsDir, name), { recursive: true, force: true });
  }
}

/**
 * Find a checkpoint directory from what a user typed: a checkpoint directory itself, a
 * `checkpoints/` directory, or a run directory (its `checkpoints/latest.json`). Clear error when
 * nothing is there.
 */
export function resolveCheckpointDir(p: string): string {
  const abs = path.resolve(p);
  if (!fs.existsSync(abs)) throw new Error(`no checkpoint at ${abs}: it does not exist`);
  if (fs.existsSync(path.join(abs, 'checkpoint.json'))) return abs;
  for (const dir of [abs, path.join(abs, CHECKPOINTS_SUBDIR)]) {
    const latestPath = path.join(dir, LATEST_FILE);
    if (fs.existsSync(latestPath)) {
      let name: string | undefined;
      try {
        name = JSON.parse(fs.readFileSync(latestPath, 'utf8')).checkpoint;
      } catch {
        name = undefined;
      }
      if (name && fs.existsSync(path.join(dir, name, 'checkpoint.json')))
        return path.join(dir, name);
    }
    const all = listCheckpoints(dir);
    if (all.length) return path.join(dir, all[all.length - 1]);
  }
  throw new Error(
    `no checkpoint at ${abs}: expected a checkpoint directory (with checkpoint.json), a run directory or its checkpoints/ folder`,
  );
}

/** The run directory a checkpoint belongs to (`<run>/checkpoints/step-N` -> `<run>`). */
export function runDirOf(checkpointDir: string): string {
  const parent = path.dirname(checkpointDir);
  return path.basename(parent) === CHECKPOINTS_SUBDIR ? path.dirname(parent) : parent;
}
