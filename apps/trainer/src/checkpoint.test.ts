import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHECKPOINT_FILE,
  checkpointName,
  LEGACY_CHECKPOINT_FILE,
} from '@pixelcnn/pixelcnn-dist/run';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listCheckpoints,
  pruneCheckpoints,
  readLatest,
  resolveCheckpointDir,
  runDirOf,
  writeLatest,
} from './checkpoint';
import { readCheckpointMeta } from './modelState';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-ckpt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A checkpoint directory as far as finding it goes: its marker file. */
function fakeCheckpoint(d: string, file = CHECKPOINT_FILE, text = '{}'): void {
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, file), text);
}

describe('checkpoints of a run directory', () => {
  it('finds checkpoints from a run dir, a checkpoints dir or the checkpoint itself', async () => {
    const ck = path.join(dir, 'checkpoints');
    for (const s of [5, 10, 15]) fakeCheckpoint(path.join(ck, checkpointName(s)));
    fs.mkdirSync(path.join(ck, 'step-00000020.tmp-1')); // a crash's leftover
    expect(listCheckpoints(ck)).toEqual(['step-00000005', 'step-00000010', 'step-00000015']);
    expect(await resolveCheckpointDir(dir)).toBe(path.join(ck, 'step-00000015'));
    writeLatest(ck, 'step-00000010', { step: 10, epoch: 1 });
    expect(readLatest(ck)).toBe('step-00000010');
    expect(await resolveCheckpointDir(dir)).toBe(path.join(ck, 'step-00000010'));
    expect(await resolveCheckpointDir(ck)).toBe(path.join(ck, 'step-00000010'));
    expect(await resolveCheckpointDir(path.join(ck, 'step-00000005'))).toBe(
      path.join(ck, 'step-00000005'),
    );
    expect(runDirOf(path.join(ck, 'step-00000005'))).toBe(dir);
    pruneCheckpoints(ck, 1);
    // keeps the newest and the one latest.json names
    expect(listCheckpoints(ck)).toEqual(['step-00000010', 'step-00000015']);
  });

  it('explains missing, foreign and 0.1 checkpoints', async () => {
    await expect(resolveCheckpointDir(path.join(dir, 'nope'))).rejects.toThrow(
      /no checkpoint at .*nope: it does not exist/,
    );
    await expect(resolveCheckpointDir(dir)).rejects.toThrow(/expected a checkpoint directory/);
    const d = path.join(dir, 'c');
    fakeCheckpoint(d, CHECKPOINT_FILE, '{"format":"pixelcnn-trainer-state"}');
    expect(() => readCheckpointMeta(d)).toThrow(/trainer\.json holds no run \(no 'extra'/);
    fs.writeFileSync(path.join(d, CHECKPOINT_FILE), '{');
    expect(() => readCheckpointMeta(d)).toThrow(/trainer\.json is not valid JSON/);
    const old = path.join(dir, 'old', 'checkpoints', checkpointName(4));
    fakeCheckpoint(old, LEGACY_CHECKPOINT_FILE);
    writeLatest(path.dirname(old), checkpointName(4));
    for (const p of [path.join(dir, 'old'), old]) {
      await expect(resolveCheckpointDir(p)).rejects.toThrow(
        /is a checkpoint of pixelcnn 0\.1 .*Train the run again with this version/,
      );
    }
    expect(() => readCheckpointMeta(old)).toThrow(/is a checkpoint of pixelcnn 0\.1/);
  });
});
