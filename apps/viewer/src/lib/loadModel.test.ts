import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import { PixelCNN, type PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';
import { nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { createTrainer, saveRunCheckpoint } from '@pixelcnn/trainer';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { diskFetch } from '../../test/diskFetch';
import { fetchModelArtifacts, locateModel, NoModelError } from './loadModel';

const BASE = 'http://viewer.test/run/';
const CONFIG: PixelCNNConfig & { imageShape: [number, number, number] } = {
  imageShape: [4, 4, 1],
  conditionalShape: [],
  numClasses: 2,
  high: 7,
  numResnet: 1,
  numHierarchies: 2,
  numFilters: 4,
  numLogisticMix: 2,
  seed: 3,
};
const SETTINGS = {
  data: { classes: ['apple', 'fish'], tfdsLabels: [6, 116], perClass: 40, heldOut: 0.25 },
  model: CONFIG,
  train: {
    batchSize: 4,
    microBatch: 0,
    epochs: 1,
    steps: 2,
    learningRate: 1e-3,
    lrDecay: 1,
    warmupSteps: 0,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    gradClipNorm: 0,
    ema: 0.9,
    seed: 7,
    evalImages: 8,
    evalBatch: 8,
    checkpointEvery: 0,
    keepCheckpoints: 2,
  },
};

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-load-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const images = () =>
  tf.tensor4d(
    Array.from({ length: 32 }, (_, i) => (i * 5) % 8),
    [2, 4, 4, 1],
  );

/** logProb of two fixed images (classes 0 and 1) under a model. */
async function scores(dist: PixelCNN): Promise<number[]> {
  const x = images();
  const lp = dist.logProb(x, { conditionalInput: [0, 1] });
  const out = Array.from(await lp.data());
  tf.dispose([x, lp]);
  return out;
}

/**
 * A run directory written by the trainer's own code (pixelcnn-dist's saveCheckpoint under it):
 * EMA = the initial weights, raw weights moved by +0.01. Returns the logProbs each set gives.
 */
async function trainerRun(name: string): Promise<{ dir: string; ema: number[]; raw: number[] }> {
  const dir = path.join(tmp, name);
  const trainer = createTrainer(SETTINGS);
  const model = trainer.dist;
  model.markInitialized();
  const emaScores = await scores(model);
  for (const v of model.trainableVariables) tf.tidy(() => v.assign(tf.add(v, 0.01)));
  const rawScores = await scores(model);
  await saveRunCheckpoint(
    dir,
    trainer,
    {
      settings: SETTINGS,
      progress: {
        step: 2,
        epoch: 1,
        batchInEpoch: 0,
        elapsedSeconds: 1,
        lastEval: { step: 2, epoch: 1, bitsPerDim: 2.5, ci95: 0.1, images: 8 },
      },
      backend: 'test',
    },
    2,
  );
  trainer.dispose();
  model.dispose();
  return { dir, ema: emaScores, raw: rawScores };
}

const close = (a: number[], b: number[]) => {
  for (const [i, x] of a.entries()) expect(x).toBeCloseTo(b[i], 4);
};

describeBackends('loading a trainer checkpoint', () => {
  it('finds the latest checkpoint of a run and loads its EMA weights (or the raw ones)', async () => {
    const run = await trainerRun('run-a');
    const fetchFn = diskFetch(run.dir, BASE);
    const loc = await locateModel(BASE, fetchFn);
    expect(loc.kind).toBe('trainer');
    expect(loc.label).toBe('checkpoints/step-00000002');
    const { artifacts, facts } = await fetchModelArtifacts(loc, fetchFn);
    expect(facts).toMatchObject({
      classes: ['apple', 'fish'],
      heldOut: 0.25,
      perClass: 40,
      step: 2,
      weights: 'ema',
      lastEval: { bitsPerDim: 2.5, ci95: 0.1, images: 8 },
    });
    const fromEma = PixelCNN.fromArtifacts(artifacts);
    close(await scores(fromEma), run.ema);
    fromEma.dispose();
    const raw = await fetchModelArtifacts(loc, fetchFn, 'weights');
    expect(raw.facts.weights).toBe('weights');
    const fromRaw = PixelCNN.fromArtifacts(raw.artifacts);
    close(await scores(fromRaw), run.raw);
    expect(Math.abs(run.raw[0] - run.ema[0])).toBeGreaterThan(1e-3); // the two sets differ
    fromRaw.dispose();
  });

  it('finds a model from a checkpoints/ folder, a checkpoint directory, a hint, or a PixelCNN.save', async () => {
    const run = await trainerRun('run-b');
    const ckRel = 'checkpoints/step-00000002';
    const at = async (root: string, hint?: string) =>
      locateModel(BASE, diskFetch(root, BASE), hint).then((l) => [l.kind, l.label]);
    expect(await at(path.join(run.dir, 'checkpoints'))).toEqual(['trainer', 'step-00000002']);
    expect(await at(path.join(run.dir, ckRel))).toEqual(['trainer', '.']);
    expect(await at(run.dir, ckRel)).toEqual(['trainer', ckRel]);

    const saved = path.join(tmp, 'saved');
    const model = new PixelCNN(CONFIG);
    await model.save(nodeFileIO(saved), { metadata: { classes: ['apple', 'fish'], step: 5 } });
    const want = await scores(model);
    model.dispose();
    const fetchFn = diskFetch(saved, BASE);
    const loc = await locateModel(BASE, fetchFn);
    expect([loc.kind, loc.label]).toEqual(['pixelcnn', '.']);
    const { artifacts, facts } = await fetchModelArtifacts(loc, fetchFn);
    expect(facts).toMatchObject({ classes: ['apple', 'fish'], step: 5, weights: 'saved' });
    const again = PixelCNN.fromArtifacts(artifacts);
    close(await scores(again), want);
    again.dispose();
  });

  it('says clearly what is wrong with a missing, truncated or incompatible model', async () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-')); // one per backend run
    const err = await locateModel(BASE, diskFetch(empty, BASE)).catch((e) => e);
    expect(err).toBeInstanceOf(NoModelError);
    expect(err.tried).toEqual([
      'trainer.json',
      'latest.json',
      'checkpoints/latest.json',
      'model.json',
    ]);

    const run = await trainerRun('run-c');
    const ck = path.join(run.dir, 'checkpoints', 'step-00000002');
    const fetchFn = diskFetch(run.dir, BASE);
    const loc = await locateModel(BASE, fetchFn);
    // truncated trainer state (where the EMA weights are)
    const bin = path.join(ck, 'trainer.bin');
    const whole = fs.readFileSync(bin);
    fs.writeFileSync(bin, whole.subarray(0, 100));
    await expect(fetchModelArtifacts(loc, fetchFn)).rejects.toThrow(
      /checkpoints\/step-00000002\/trainer\.bin/,
    );
    // missing file: the EMA weights cannot load; the raw ones still do
    fs.rmSync(bin);
    await expect(fetchModelArtifacts(loc, fetchFn)).rejects.toThrow(
      'checkpoints/step-00000002/trainer.bin is missing (HTTP 404',
    );
    expect((await fetchModelArtifacts(loc, fetchFn, 'weights')).facts.weights).toBe('weights');
    fs.writeFileSync(bin, whole);
    // a config that does not make these weights (an edited model.json)
    const modelJson = path.join(ck, 'model.json');
    const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
    json.modelTopology.config.numFilters = 6;
    fs.writeFileSync(modelJson, JSON.stringify(json));
    const { artifacts } = await fetchModelArtifacts(loc, fetchFn, 'weights');
    expect(() => PixelCNN.fromArtifacts(artifacts)).toThrow(
      /has shape \[.*\] but the config gives \[/,
    );
    // latest.json naming a checkpoint that is gone
    fs.writeFileSync(
      path.join(run.dir, 'checkpoints', 'latest.json'),
      '{"checkpoint":"step-00000009"}',
    );
    await expect(locateModel(BASE, fetchFn)).rejects.toThrow(
      'checkpoints/latest.json names step-00000009, but checkpoints/step-00000009/trainer.json is missing',
    );
    // a checkpoint of pixelcnn 0.1 (its own checkpoint.json format): what to do
    const old = path.join(tmp, `old-${path.basename(empty)}`, 'checkpoints', 'step-00000003');
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, 'checkpoint.json'), '{}');
    fs.writeFileSync(path.join(old, '..', 'latest.json'), '{"checkpoint":"step-00000003"}');
    await expect(locateModel(BASE, diskFetch(path.join(old, '..', '..'), BASE))).rejects.toThrow(
      /checkpoints\/step-00000003 is a checkpoint of pixelcnn 0\.1 .*Train the run again/,
    );
  });
});
