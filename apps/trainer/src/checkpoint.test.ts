import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkpointName } from '@pixelcnn/pixelcnn-dist/run';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listCheckpoints,
  pruneCheckpoints,
  readCheckpoint,
  resolveCheckpointDir,
  runDirOf,
  writeCheckpoint,
  writeLatest,
} from './checkpoint';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-ckpt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const entries = () => [
  { name: 'a', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) },
  { name: 'b', shape: [], data: Float32Array.from([Math.PI]) },
];

describe('checkpoints', () => {
  it('round-trips meta and float32 tensors bit-exactly', () => {
    const d = path.join(dir, 'checkpoints', checkpointName(12));
    writeCheckpoint(d, { step: 12, note: 'x' }, { weights: entries(), optimizer: [] });
    const back = readCheckpoint<{ step: number }>(d);
    expect(back.meta).toEqual({ step: 12, note: 'x' });
    expect(back.groups.weights).toEqual(entries());
    expect(back.groups.optimizer).toEqual([]);
    expect(Object.is(back.groups.weights[0].data[4], -0)).toBe(true);
  });

  it('finds checkpoints from a run dir, a checkpoints dir or the checkpoint itself', async () => {
    const ck = path.join(dir, 'checkpoints');
    for (const s of [5, 10, 15]) writeCheckpoint(path.join(ck, checkpointName(s)), { s }, {});
    expect(listCheckpoints(ck)).toEqual(['step-00000005', 'step-00000010', 'step-00000015']);
    expect(await resolveCheckpointDir(dir)).toBe(path.join(ck, 'step-00000015'));
    writeLatest(ck, 'step-00000010');
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

  it('explains missing and corrupt checkpoints', async () => {
    await expect(resolveCheckpointDir(path.join(dir, 'nope'))).rejects.toThrow(
      /no checkpoint at .*nope: it does not exist/,
    );
    await expect(resolveCheckpointDir(dir)).rejects.toThrow(/expected a checkpoint directory/);
    const d = path.join(dir, 'c');
    writeCheckpoint(d, {}, { weights: entries() });
    fs.writeFileSync(path.join(d, 'weights.bin'), Buffer.alloc(8));
    expect(() => readCheckpoint(d)).toThrow(/weights.bin has 8 bytes, the manifest needs 28/);
    fs.writeFileSync(path.join(d, 'checkpoint.json'), '{"format":"other","version":1}');
    expect(() => readCheckpoint(d)).toThrow(/not a checkpoint of this trainer/);
    fs.writeFileSync(path.join(d, 'checkpoint.json'), '{');
    expect(() => readCheckpoint(d)).toThrow(/corrupt checkpoint/);
    expect(() =>
      writeCheckpoint(
        path.join(dir, 'e'),
        {},
        { w: [{ name: 'x', shape: [2], data: new Float32Array(3) }] },
      ),
    ).toThrow("Error in writeCheckpoint: tensor 'x' has 3 values, shape [2] needs 2");
  });
});
