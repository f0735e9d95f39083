import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBackends } from '@pixelcnn/backend/testing';
import { PixelCNN, type PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';
import { nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { Adam, saveCheckpoint, WeightAverage } from '@pixelcnn/trainer';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskFetch } from '../../test/diskFetch';
import { fetchModelArtifacts, locateModel, NoModelError } from './loadModel';
import { checkpointToArtifacts, parseTrainerCheckpoint } from './trainerCheckpoint';

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
 * A run directory written by the trainer's own saveCheckpoint: EMA = the initial weights, raw
 * weights moved by +0.01. Returns the logProbs each set gives.
 */
async function trainerRun(name: string): Promise<{ dir: string; ema: number[]; raw: number[] }> {
  const dir = path.join(tmp, name);
  const model = new PixelCNN(CONFIG);
  const named = model.namedVariables();
  const vars = named.map((n) => n.variable);
  const adam = new Adam(vars, SETTINGS.train);
  const ema = new WeightAverage(vars, 0.9);
  const emaScores = await scores(model);
  for (const v of vars) tf.tidy(() => v.assign(tf.add(v, 0.01)));
  const rawScores = await scores(model);
  const state = {
    model,
    names: named.map((n) => n.name),
    adam,
    ema,
    dispose() {
      ema.dispose();
      adam.dispose();
      model.dispose();
    },
  };
  saveCheckpoint(
    dir,
    state,
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
  state.dispose();
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
      'checkpoint.json',
      'latest.json',
      'checkpoints/latest.json',
      'model.json',
    ]);

    const run = await trainerRun('run-c');
    const ck = path.join(run.dir, 'checkpoints', 'step-00000002');
    const fetchFn = diskFetch(run.dir, BASE);
    // truncated EMA file
    const emaBin = path.join(ck, 'ema.bin');
    fs.writeFileSync(emaBin, fs.readFileSync(emaBin).subarray(0, 100));
    const loc = await locateModel(BASE, fetchFn);
    await expect(fetchModelArtifacts(loc, fetchFn)).rejects.toThrow(
      /checkpoints\/step-00000002\/ema\.bin has 100 bytes but checkpoint\.json lists \d+ \(truncated file/,
    );
    // missing file
    fs.rmSync(emaBin);
    await expect(fetchModelArtifacts(loc, fetchFn)).rejects.toThrow(
      'checkpoints/step-00000002/ema.bin is missing (HTTP 404',
    );
    // a config that does not make these weights (edited settings)
    const json = JSON.parse(fs.readFileSync(path.join(ck, 'checkpoint.json'), 'utf8'));
    json.meta.settings.model.numFilters = 6;
    const loc2 = { ...loc, text: JSON.stringify(json) };
    const { artifacts } = await fetchModelArtifacts(loc2, fetchFn, 'weights');
    expect(() => PixelCNN.fromArtifacts(artifacts)).toThrow(
      /has shape \[.*\] but the config gives \[/,
    );
    // latest.json naming a checkpoint that is gone
    fs.writeFileSync(
      path.join(run.dir, 'checkpoints', 'latest.json'),
      '{"checkpoint":"step-00000009"}',
    );
    await expect(locateModel(BASE, fetchFn)).rejects.toThrow(
      'checkpoints/latest.json names step-00000009, but checkpoints/step-00000009/checkpoint.json is missing',
    );
  });
});

describe('parseTrainerCheckpoint', () => {
  const good = {
    format: 'pixelcnn-trainer-checkpoint',
    version: 1,
    meta: { settings: SETTINGS, progress: { step: 1, epoch: 0 } },
    tensors: { weights: [{ name: 'a', shape: [2] }], ema: [{ name: 'a/ema', shape: [2] }] },
  };
  const text = (o: unknown) => JSON.stringify(o);

  it('rejects what is not a trainer checkpoint with a message naming the problem', () => {
    expect(() => parseTrainerCheckpoint('{', 'x.json')).toThrow('x.json is not valid JSON');
    expect(() => parseTrainerCheckpoint(text({ ...good, format: 'other' }), 'x.json')).toThrow(
      "x.json is not a checkpoint of the trainer (format 'other', expected 'pixelcnn-trainer-checkpoint')",
    );
    expect(() => parseTrainerCheckpoint(text({ ...good, version: 2 }), 'x.json')).toThrow(
      'x.json has checkpoint version 2; this viewer reads version 1',
    );
    expect(() =>
      parseTrainerCheckpoint(
        text({ ...good, meta: { ...good.meta, settings: { data: SETTINGS.data } } }),
        'x.json',
      ),
    ).toThrow('x.json has no model settings (meta.settings.model)');
    expect(() =>
      parseTrainerCheckpoint(
        text({ ...good, meta: { ...good.meta, settings: { model: CONFIG, data: {} } } }),
        'x.json',
      ),
    ).toThrow('x.json has no class list (meta.settings.data.classes)');
    expect(() =>
      parseTrainerCheckpoint(text({ ...good, meta: { ...good.meta, progress: {} } }), 'x.json'),
    ).toThrow('x.json has no training progress (meta.progress.step)');
    expect(() => parseTrainerCheckpoint(text({ ...good, tensors: {} }), 'x.json')).toThrow(
      'x.json lists no weights (tensors.weights)',
    );
    expect(() =>
      parseTrainerCheckpoint(
        text({ ...good, tensors: { weights: [{ name: 'a', shape: [-1] }] } }),
        'x.json',
      ),
    ).toThrow('x.json: tensors.weights has a bad entry {"name":"a","shape":[-1]}');
  });

  it('maps EMA names back to the weight names and checks the byte length', () => {
    const ck = parseTrainerCheckpoint(text(good));
    const a = checkpointToArtifacts(ck, 'ema', new Float32Array([1, 2]).buffer);
    expect(a.weightSpecs).toEqual([{ name: 'a', shape: [2], dtype: 'float32' }]);
    expect(a.format).toBe('pixelcnn-dist');
    expect(() => checkpointToArtifacts(ck, 'weights', new ArrayBuffer(12), 'w.bin')).toThrow(
      'w.bin has 12 bytes but checkpoint.json lists 8 (mismatched file',
    );
    const noEma = parseTrainerCheckpoint(
      text({ ...good, tensors: { weights: good.tensors.weights } }),
    );
    expect(() => checkpointToArtifacts(noEma, 'ema', new ArrayBuffer(8))).toThrow(
      "the checkpoint has no 'ema' tensors",
    );
  });
});
