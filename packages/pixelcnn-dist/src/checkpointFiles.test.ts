import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { TINY } from '../test/tiny';
import {
  CHECKPOINT_FILE_NAMES,
  type CheckpointHandlers,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpointFrom,
  saveCheckpointTo,
} from './checkpointFiles';
import type { PixelCNNConfig } from './config';
import { loadCheckpoint, saveCheckpoint } from './node';
import { PixelCNN } from './pixelCnn';
import { Trainer, type TrainerOptions } from './trainer';

const config: PixelCNNConfig = {
  ...TINY,
  conditionalShape: [],
  numClasses: 2,
  dropoutP: 0.5, // the dropout masks must repeat after a restore too
  seed: 5,
};
const options = (): TrainerOptions => ({
  learningRate: 1e-2,
  microBatchSize: 2,
  emaDecay: 0.9,
  seed: 3,
  schedule: { kind: 'exponential', decay: 0.9 },
});

/** Batch `step` of a fixed stream: [4, 4, 4, 1] values 0..3 with labels. */
async function step(trainer: Trainer, s: number): Promise<number> {
  const x = tf.tensor4d(
    Array.from({ length: 64 }, (_, i) => (i * (s + 2) + Math.floor(i / 16)) % 4),
    [4, 4, 4, 1],
  );
  const r = await trainer.trainStep(x, { conditionalInput: [0, 1, s % 2, 1] });
  x.dispose();
  return r.loss;
}
async function steps(trainer: Trainer, from: number, to: number): Promise<number[]> {
  const out: number[] = [];
  for (let s = from; s < to; s++) out.push(await step(trainer, s));
  return out;
}

/** tfjs IO handlers over a Map, storing structured clones (as IndexedDB does). */
function memoryStore() {
  const records = new Map<string, tf.io.ModelArtifacts>();
  const handler = (key: string): tf.io.IOHandler => ({
    async save(a) {
      records.set(key, structuredClone(a));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
    async load() {
      const a = records.get(key);
      if (!a) throw new Error(`no record '${key}'`);
      return structuredClone(a);
    },
  });
  const at = (name: string): CheckpointHandlers => ({
    model: handler(name),
    state: handler(`${name}/trainer`),
  });
  return { records, at };
}

describeBackends('checkpoint files and IO handlers', () => {
  it('encodeCheckpoint gives the bytes saveCheckpoint writes; decodeCheckpoint resumes bit-exactly', async () => {
    const straight = new Trainer(new PixelCNN(config), options());
    const expected = await steps(straight, 0, 4);

    const first = new Trainer(new PixelCNN(config), options());
    const head = await steps(first, 0, 2);
    const files = await encodeCheckpoint(first, { extra: { epoch: 0, note: 'browser' } });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixelcnn-files-'));
    try {
      await saveCheckpoint(root, first, { extra: { epoch: 0, note: 'browser' } });
      for (const name of CHECKPOINT_FILE_NAMES) {
        const written = fs.readFileSync(path.join(root, name));
        expect(written.equals(Buffer.from(files[name])), name).toBe(true);
      }
      // and the Node loader opens the same files
      const viaDir = await loadCheckpoint(root);
      expect(viaDir.trainer.step).toBe(2);
      viaDir.trainer.dispose();
      viaDir.model.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    first.dispose();
    first.dist.dispose();

    const { model, trainer, extra } = await decodeCheckpoint(files);
    expect(extra).toEqual({ epoch: 0, note: 'browser' });
    expect(trainer.step).toBe(2);
    expect([...head, ...(await steps(trainer, 2, 4))]).toEqual(expected); // identical, not close
    for (const d of [trainer, model, straight, straight.dist]) d.dispose();
  });

  it('decodeCheckpoint names the damaged file', async () => {
    const trainer = new Trainer(new PixelCNN(config), options());
    await steps(trainer, 0, 1);
    const files = await encodeCheckpoint(trainer);
    const bin = files['trainer.bin'].slice();
    bin[3] ^= 0x20;
    await expect(
      decodeCheckpoint({ ...files, 'trainer.bin': bin }, { where: 'run.zip/step-00000001' }),
    ).rejects.toThrow(
      'Error in decodeCheckpoint: run.zip/step-00000001/trainer.bin fails its CRC-32 check',
    );
    await expect(
      decodeCheckpoint(
        { ...files, 'weights.bin': files['weights.bin'].slice(0, 40) },
        { where: 'step-1' },
      ),
    ).rejects.toThrow(/^Error in decodeCheckpoint: cannot load the model of step-1: .*truncated/);
    trainer.dispose();
    trainer.dist.dispose();
  });

  it('saveCheckpointTo / loadCheckpointFrom (IO handlers, as indexeddb://) resume bit-exactly and refuse a torn pair', async () => {
    const store = memoryStore();
    const straight = new Trainer(new PixelCNN(config), options());
    const expected = await steps(straight, 0, 5);

    const first = new Trainer(new PixelCNN(config), options());
    const head = await steps(first, 0, 3);
    await saveCheckpointTo(store.at('run'), first, { extra: { progress: { step: 3 } } });
    expect([...store.records.keys()].sort()).toEqual(['run', 'run/trainer']);
    // the model record is a plain PixelCNN save: PixelCNN.load opens it alone
    const alone = await PixelCNN.load(store.at('run').model);
    expect(alone.numParameters).toBe(first.dist.numParameters);
    alone.dispose();

    // a later save whose state write never happened: the model is newer than the state
    await step(first, 3);
    await first.dist.save(store.at('run').model);
    await expect(loadCheckpointFrom(store.at('run'))).rejects.toThrow(
      'Error in loadCheckpointFrom: the model and the trainer state of the checkpoint are from different saves (a save was cut off between them)',
    );
    await expect(loadCheckpointFrom(store.at('nothing'))).rejects.toThrow(
      "Error in loadCheckpointFrom: cannot read the trainer state of the checkpoint: no record 'nothing/trainer'",
    );
    first.dispose();
    first.dist.dispose();

    const again = new Trainer(new PixelCNN(config), options());
    await steps(again, 0, 3);
    await saveCheckpointTo(store.at('run'), again, { extra: { progress: { step: 3 } } });
    again.dispose();
    again.dist.dispose();
    const { model, trainer, extra } = await loadCheckpointFrom(store.at('run'));
    expect(extra).toEqual({ progress: { step: 3 } });
    expect([...head, ...(await steps(trainer, 3, 5))]).toEqual(expected);
    for (const d of [trainer, model, straight, straight.dist]) d.dispose();
  });
});
