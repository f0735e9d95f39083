import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { TINY } from '../test/tiny';
import type { PixelCNNConfig } from './config';
import { loadCheckpoint, nodeFileIO, saveCheckpoint, verifyCheckpoint } from './node';
import { PixelCNN } from './pixelCnn';
import { Trainer, type TrainerOptions } from './trainer';
import { decodeTrainerState, encodeTrainerState, type TrainerSnapshot } from './trainerState';

const config: PixelCNNConfig = {
  ...TINY,
  conditionalShape: [],
  numClasses: 2,
  dropoutP: 0.5, // dropout on: the masks must repeat after a restore
  seed: 13,
  constantChannel: true, // the slot shapes below count the ones channel
};

/** Everything that must survive a restore: micro-batches, EMA, dropout, a schedule, clipping. */
const options = (): TrainerOptions => ({
  learningRate: 1e-2,
  microBatchSize: 2,
  emaDecay: 0.9,
  clipGradNorm: 5,
  seed: 7,
  // biome-ignore lint/suspicious/noThenProperty: a schedule field, not a thenable (never a function)
  schedule: { kind: 'warmup', steps: 3, then: { kind: 'exponential', decay: 0.8 } },
});

/** Batch `step` of a fixed stream: [4, 4, 4, 1] values 0..3, with labels. */
function batch(step: number): { x: tf.Tensor4D; labels: number[] } {
  const x = tf.tensor4d(
    Array.from({ length: 64 }, (_, i) => (i * (step + 3) + Math.floor(i / 16) * step) % 4),
    [4, 4, 4, 1],
  );
  return { x, labels: [0, 1, step % 2, 1] };
}

async function run(trainer: Trainer, from: number, to: number): Promise<number[]> {
  const losses: number[] = [];
  for (let step = from; step < to; step++) {
    const { x, labels } = batch(step);
    const r = await trainer.trainStep(x, { conditionalInput: labels });
    expect(r.skipped).toBe(false);
    losses.push(r.loss);
    x.dispose();
  }
  return losses;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Weights, optimizer slots and EMA shadows of a trainer, byte for byte. */
async function fingerprint(trainer: Trainer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const n of trainer.dist.namedVariables()) {
    out.set(`weight ${n.name}`, bytes((await n.variable.data()) as Float32Array));
  }
  const s = await trainer.exportState();
  for (const t of [...s.optimizer.slots, ...s.optimizer.extra]) {
    out.set(`optimizer ${t.name}`, bytes(t.data));
  }
  for (const t of s.ema?.shadows ?? []) out.set(`ema ${t.name}`, bytes(t.data));
  return out;
}

function expectSameBytes(a: Map<string, Buffer>, b: Map<string, Buffer>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  const differ = [...a].filter(([k, v]) => !v.equals(b.get(k)!)).map(([k]) => k);
  expect(differ).toEqual([]);
}

const N = 5;
const K = 2;

/**
 * A straight run of `n` steps (its losses: `expected`), and a second model and trainer made the
 * same way that ran its first `k` steps (`head`), to be saved and resumed.
 */
async function straightAndHead(
  make: (model: PixelCNN) => Trainer = (model) => new Trainer(model, options()),
  k = K,
  n = N,
) {
  const straightModel = new PixelCNN(config);
  const straight = make(straightModel);
  const expected = await run(straight, 0, n);
  const first = new PixelCNN(config);
  const t1 = make(first);
  const head = await run(t1, 0, k);
  return { straightModel, straight, expected, first, t1, head };
}

/** `f` with a new temporary directory, removed afterwards. */
async function inTempDir(f: (root: string) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixelcnn-ckpt-'));
  try {
    await f(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describeBackends('Trainer state', () => {
  it(`resumes bit-exactly through exportState / importState and bytes (${K} + ${N - K} = ${N} steps)`, async () => {
    const { straightModel, straight, expected, first, t1, head } = await straightAndHead();
    const { json, bin } = encodeTrainerState(await t1.exportState());
    const artifacts = await first.toArtifacts();
    t1.dispose();
    first.dispose();

    // a fresh model and trainer, the state through JSON text and bytes
    const model = PixelCNN.fromArtifacts(artifacts);
    const { snapshot } = decodeTrainerState(JSON.stringify(json), bin.slice());
    expect(snapshot.step).toBe(K);
    expect(snapshot.optimizer.className).toBe('Adam');
    expect(snapshot.optimizer.iterations).toBe(K);
    expect(snapshot.optimizer.slots).toHaveLength(2 * model.namedVariables().length);
    expect(snapshot.optimizer.slots[0].name).toBe(`${model.namedVariables()[0].name}/m`);
    expect(snapshot.ema?.numUpdates).toBe(K);
    const t2 = new Trainer(model, options());
    await t2.importState(snapshot);
    expect(t2.step).toBe(K);
    expect(t2.learningRate).toBe(1e-2 * 0.8 ** K);
    const tail = await run(t2, K, N);

    expect([...head, ...tail]).toEqual(expected); // identical losses, not merely close
    expectSameBytes(await fingerprint(straight), await fingerprint(t2));
    straight.dispose();
    straightModel.dispose();
    t2.dispose();
    model.dispose();
  });

  it('does not repeat the straight run when the state is not restored (the test can fail)', async () => {
    const { straightModel, straight, expected, first, t1 } = await straightAndHead();
    const model = PixelCNN.fromArtifacts(await first.toArtifacts());
    const t2 = new Trainer(model, options()); // weights restored, trainer state not
    const tail = await run(t2, K, N);
    expect(tail).not.toEqual(expected.slice(K));
    for (const d of [straight, straightModel, t1, first, t2, model]) d.dispose();
  });

  it('saveCheckpoint / loadCheckpoint: a PixelCNN.load directory plus the state, bit-exact resume', async () => {
    await inTempDir(async (root) => {
      const { straightModel, straight, expected, first, t1, head } = await straightAndHead();
      const dir = path.join(root, 'runs', 'step-2');
      await saveCheckpoint(dir, t1, { extra: { epoch: 1, order: [3, 1, 2] } });
      expect(fs.readdirSync(dir).sort()).toEqual([
        'model.json',
        'trainer.bin',
        'trainer.json',
        'weights.bin',
      ]);
      expect(fs.readdirSync(path.dirname(dir))).toEqual(['step-2']); // no temp dir left
      // model.json + weights.bin are exactly what PixelCNN.save writes
      const plain = path.join(root, 'plain');
      await first.save(nodeFileIO(plain));
      for (const f of ['model.json', 'weights.bin']) {
        expect(
          fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(plain, f))),
        ).toBe(true);
      }
      // and PixelCNN.load opens the checkpoint as a model
      const asModel = await PixelCNN.load(nodeFileIO(dir));
      expect(asModel.numParameters).toBe(first.numParameters);
      asModel.dispose();
      // overwriting replaces it atomically (same content here)
      await saveCheckpoint(dir, t1, { extra: { epoch: 1, order: [3, 1, 2] } });
      expect(fs.readdirSync(path.dirname(dir))).toEqual(['step-2']);
      t1.dispose();
      first.dispose();

      const { model, trainer, extra } = await loadCheckpoint(dir);
      expect(extra).toEqual({ epoch: 1, order: [3, 1, 2] });
      expect(trainer.step).toBe(K);
      expect(trainer.seed).toBe(7);
      expect(trainer.schedule).toEqual(options().schedule);
      const tail = await run(trainer, K, N);
      expect([...head, ...tail]).toEqual(expected);
      expectSameBytes(await fingerprint(straight), await fingerprint(trainer));
      for (const d of [straight, straightModel, trainer, model]) d.dispose();
    });
  });

  it('restores other tfjs optimizers (RMSProp with momentum) through the class registry', async () => {
    await inTempDir(async (root) => {
      const make = (model: PixelCNN) =>
        new Trainer(model, {
          ...options(),
          optimizer: tf.train.rmsprop(1e-2, 0.9, 0.5),
          disposeOptimizer: true,
        });
      const { straightModel, straight, expected, first, t1, head } = await straightAndHead(
        make,
        1,
        3,
      );
      await saveCheckpoint(root, t1);
      t1.dispose();
      first.dispose();
      const { model, trainer } = await loadCheckpoint(root);
      expect(trainer.optimizer.getClassName()).toBe('RMSProp');
      expect([...head, ...(await run(trainer, 1, 3))]).toEqual(expected);
      expectSameBytes(await fingerprint(straight), await fingerprint(trainer));
      for (const d of [straight, straightModel, trainer, model]) d.dispose();
    });
  });

  it('says what is wrong with a missing, corrupt, truncated or foreign checkpoint, naming the file', async () => {
    await inTempDir(async (root) => {
      const model = new PixelCNN(config);
      const trainer = new Trainer(model, { ...options(), schedule: (t, lr) => lr / (1 + t) });
      await run(trainer, 0, 1);
      const dir = path.join(root, 'ckpt');
      await saveCheckpoint(dir, trainer);
      const json = path.join(dir, 'trainer.json');
      const bin = path.join(dir, 'trainer.bin');

      await expect(loadCheckpoint(dir)).rejects.toThrow(
        "Error in loadCheckpoint: the checkpoint's learning-rate schedule was a function, which cannot be saved: pass it again, loadCheckpoint(dir, { trainer: { schedule } })",
      );
      const again = await loadCheckpoint(dir, { trainer: { schedule: (t, lr) => lr / (1 + t) } });
      expect(again.trainer.learningRate).toBe(1e-2 / 2);
      again.trainer.dispose();
      again.model.dispose();

      const good = fs.readFileSync(bin);
      const flipped = Buffer.from(good);
      flipped[5] ^= 0x01;
      fs.writeFileSync(bin, flipped);
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        `Error in loadCheckpoint: ${bin} fails its CRC-32 check (corrupt, or from another save; resume from another checkpoint, or start again from the model alone (PixelCNN.load))`,
      );
      fs.writeFileSync(bin, good.subarray(0, 100));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        new RegExp(
          `Error in loadCheckpoint: ${bin} has 100 bytes but ${json} lists \\d+ \\(truncated`,
        ),
      );
      fs.rmSync(bin);
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        `Error in loadCheckpoint: cannot read ${bin} (ENOENT): an incomplete checkpoint; resume from another one`,
      );
      fs.writeFileSync(bin, good);

      const text = fs.readFileSync(json, 'utf8');
      fs.writeFileSync(json, text.replace('"version": 1', '"version": 2'));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        `Error in loadCheckpoint: ${json} has trainer-state version 2; this library reads version 1: resume it with the release that wrote it, or start again from the model alone (PixelCNN.load)`,
      );
      fs.writeFileSync(json, text.slice(0, 50));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        new RegExp(`Error in loadCheckpoint: ${json} is not valid JSON .*: a corrupt file`),
      );
      fs.writeFileSync(json, JSON.stringify({ format: 'something-else' }));
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        `Error in loadCheckpoint: ${json} is not a trainer state (format 'something-else', expected 'pixelcnn-trainer-state')`,
      );
      fs.rmSync(json);
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        `Error in loadCheckpoint: ${json} is missing: ${dir} is a model save without training state (open the model with PixelCNN.load(nodeFileIO(dir)); saveCheckpoint(dir, trainer) writes both)`,
      );
      await expect(loadCheckpoint(path.join(root, 'nothing'))).rejects.toThrow(
        /Error in loadCheckpoint: .*nothing is not a checkpoint: cannot read .*trainer.json \(ENOENT\)/,
      );
      trainer.dispose();
      model.dispose();
    });
  });

  it('verifyCheckpoint checks every file without building the model, as loadCheckpoint would', async () => {
    await inTempDir(async (root) => {
      const model = new PixelCNN(config);
      const trainer = new Trainer(model, options());
      await run(trainer, 0, 1);
      const dir = path.join(root, 'ckpt');
      await saveCheckpoint(dir, trainer);
      // No tensors at all: the CLI checks checkpoints before any backend has started.
      const engine = tf.engine() as unknown as { makeTensor: (...a: unknown[]) => unknown };
      const makeTensor = engine.makeTensor;
      engine.makeTensor = () => {
        throw new Error('verifyCheckpoint made a tensor');
      };
      try {
        await verifyCheckpoint(dir);
      } finally {
        engine.makeTensor = makeTensor;
      }
      const weights = path.join(dir, 'weights.bin');
      const good = fs.readFileSync(weights);
      const flipped = Buffer.from(good);
      flipped[good.length >> 1] ^= 0x10;
      fs.writeFileSync(weights, flipped);
      await expect(verifyCheckpoint(dir)).rejects.toThrow(
        new RegExp(`Error in verifyCheckpoint: cannot load the model of ${dir}: .*CRC`, 'i'),
      );
      fs.writeFileSync(weights, good.subarray(0, 64));
      await expect(verifyCheckpoint(dir)).rejects.toThrow(/truncated weights file/);
      fs.writeFileSync(weights, good);
      fs.writeFileSync(path.join(dir, 'trainer.bin'), Buffer.alloc(10));
      await expect(verifyCheckpoint(dir)).rejects.toThrow(
        /Error in verifyCheckpoint: .*trainer\.bin has 10 bytes/,
      );
      trainer.dispose();
      model.dispose();
    });
  });

  it('importState refuses a state of another optimizer or model', async () => {
    const model = new PixelCNN(config);
    const trainer = new Trainer(model, options());
    await run(trainer, 0, 1);
    const s: TrainerSnapshot = await trainer.exportState();
    const sgd = tf.train.sgd(0.1);
    const other = new Trainer(model, { optimizer: sgd });
    await expect(other.importState(s)).rejects.toThrow(
      "Error in Trainer.importState: the state is of a Adam optimizer, this trainer's is SGD (make the trainer with the same optimizer)",
    );
    const wider = new PixelCNN({ ...config, numFilters: 6 });
    const t3 = new Trainer(wider, options());
    await expect(t3.importState(s)).rejects.toThrow(
      /Error in Trainer.importState: optimizer slot 0 is 'init\/vertical\/v\/m' \[2, 3, 2, 4\], expected one for 'init\/vertical\/v' \[2, 3, 2, 6\] \(saved with another model\?\)/,
    );
    for (const d of [trainer, other, t3, model, wider]) d.dispose();
    sgd.dispose();
  });
});
