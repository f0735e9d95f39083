import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describeBackends } from '@pixelcnn/backend/testing';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import { nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import type { MetricsRow } from '@pixelcnn/pixelcnn-dist/run';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints } from './checkpoint';
import { fakeIo, TINY_NETWORK } from './fakeIo';
import { textHeight } from './font';
import { main } from './main';
import { readCheckpointMeta } from './modelState';

// A tiny network on real 28x28 QuickDraw drawings (two classes from the shared mirror): seconds
// per run on either backend. Dropout is on, so exact resumption also covers the dropout seeds.
const TINY = [
  '--classes',
  'apple,fish',
  '--per-class',
  '40',
  '--held-out',
  '0.25',
  ...TINY_NETWORK,
  '--dropout',
  '0.3',
  '--batch-size',
  '4',
  '--micro-batch',
  '2',
  '--ema',
  '0.9',
  '--eval-images',
  '8',
  '--eval-batch',
  '8',
  '--seed',
  '7',
];

const readRows = (run: string): MetricsRow[] =>
  fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

const latest = (run: string) => {
  const names = listCheckpoints(path.join(run, 'checkpoints'));
  return path.join(run, 'checkpoints', names[names.length - 1]);
};

/** IHDR width/height of a PNG and a check that its IDAT inflates to the right size. */
function pngSize(file: string): [number, number] {
  const buf = fs.readFileSync(file);
  expect(buf.subarray(1, 4).toString('ascii')).toBe('PNG');
  const w = buf.readUInt32BE(16);
  const h = buf.readUInt32BE(20);
  const channels = buf[25] === 2 ? 3 : 1;
  const idatLen = buf.readUInt32BE(33);
  expect(buf.toString('ascii', 37, 41)).toBe('IDAT');
  expect(zlib.inflateSync(buf.subarray(41, 41 + idatLen)).length).toBe(h * (w * channels + 1));
  return [w, h];
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-e2e-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describeBackends('train -> checkpoint -> resume -> sample -> eval', ({ backend }) => {
  const run = (name: string) => path.join(tmp, `${backend}-${name}`);
  const cli = async (argv: string[], extra = {}) => {
    const f = fakeIo(extra);
    const code = await main([...argv, '--backend', backend], f.io);
    return { code, out: f.out(), err: f.err() };
  };

  it('2 steps + resume 2 steps equals 4 steps straight (losses, weights, optimizer, EMA)', async () => {
    const straight = await cli(['train', ...TINY, '--steps', '4', '--out', run('straight')]);
    expect(straight.err).toBe('');
    expect(straight.code).toBe(0);
    expect(straight.out).toMatch(/backend: /);
    expect(straight.out).toMatch(/held-out \d+\.\d+ ± \d+\.\d+ bits\/dim/);

    const first = await cli(['train', ...TINY, '--steps', '2', '--out', run('resumed')]);
    expect(first.code).toBe(0);
    const second = await cli(['train', '--resume', run('resumed'), '--steps', '4']);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/resuming from .*step-00000002 \(step 2, epoch 1\)/);

    const a = readRows(run('straight')).filter((r) => r.kind === 'train');
    const b = readRows(run('resumed')).filter((r) => r.kind === 'train');
    expect(a.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(b.map((r) => r.lossNats)).toEqual(a.map((r) => r.lossNats));
    const ca = latest(run('straight'));
    const cb = latest(run('resumed'));
    expect(path.basename(ca)).toBe('step-00000004');
    // weights, and the trainer's whole state (Adam moments, EMA, step, seed), bit for bit
    for (const f of ['weights.bin', 'trainer.bin']) {
      expect(fs.readFileSync(path.join(cb, f)).equals(fs.readFileSync(path.join(ca, f))), f).toBe(
        true,
      );
    }
    const meta = readCheckpointMeta(cb);
    expect(meta.progress).toMatchObject({ step: 4, epoch: 0, batchInEpoch: 4 });
    // a CLI checkpoint is a PixelCNN.save directory
    const model = await PixelCNN.load(nodeFileIO(cb));
    expect(model.config).toMatchObject({ numFilters: 4, numResnet: 1, imageShape: [28, 28, 1] });
    const lp = model.logProb(tf.zeros([1, 28, 28, 1]), { conditionalInput: [1] });
    expect(Number.isFinite((await lp.data())[0])).toBe(true);
    tf.dispose(lp);
    model.dispose();
    // metrics.csv: header + one line per row of metrics.jsonl
    const csv = fs
      .readFileSync(path.join(run('resumed'), 'metrics.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'kind,step,epoch,lossNats,bitsPerDim,ci95,images,learningRate,imagesPerSec,elapsedSeconds',
    );
    expect(csv.length - 1).toBe(readRows(run('resumed')).length);
    expect(pngSize(path.join(run('resumed'), 'loss.png'))).toEqual([720, 440]);
  });

  it('a run stopped by Ctrl-C, or killed between checkpoints, resumes to the same per-step losses', async () => {
    const want = readRows(run('straight'))
      .filter((r) => r.kind === 'train')
      .map((r) => r.lossNats);
    expect(want).toHaveLength(4);
    const losses = (dir: string) =>
      readRows(dir)
        .filter((r) => r.kind === 'train')
        .map((r) => r.lossNats);

    const controller = new AbortController();
    const stopped = await cli(['train', ...TINY, '--steps', '4', '--out', run('stopped')], {
      signal: controller.signal,
      hooks: { afterStep: ({ step }: { step: number }) => step === 1 && controller.abort() },
    });
    expect(stopped.code).toBe(130);
    const resumed = await cli(['train', '--resume', run('stopped')]);
    expect(resumed.code).toBe(0);
    expect(losses(run('stopped'))).toEqual(want);

    // Killed after step 3 with a checkpoint every 2 steps: no checkpoint of step 3, but its
    // metrics row was written; the resumed run drops it and redoes step 3 exactly.
    const killed = await cli(
      ['train', ...TINY, '--steps', '4', '--checkpoint-every', '2', '--out', run('killed')],
      {
        hooks: {
          afterStep: ({ step }: { step: number }) => {
            if (step === 3) throw new Error('killed');
          },
        },
      },
    );
    expect(killed.code).toBe(1);
    expect(listCheckpoints(path.join(run('killed'), 'checkpoints'))).toEqual(['step-00000002']);
    expect(losses(run('killed'))).toEqual(want.slice(0, 3));
    const again = await cli(['train', '--resume', run('killed')]);
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    expect(losses(run('killed'))).toEqual(want);
  });

  it('a resume with another configuration is refused before any work', async () => {
    const r = await cli([
      'train',
      '--resume',
      run('resumed'),
      '--num-filters',
      '8',
      '--lr',
      '0.01',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /was made with another configuration:\n {2}--num-filters 8 \(checkpoint: 4\)\n {2}--lr 0\.01 \(checkpoint: 0\.001\)/,
    );
    const again = await cli(['train', ...TINY, '--steps', '2', '--out', run('resumed')]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a training run; continue it with --resume/);
  });

  // Sampling draws all 4 images at once, pixel by pixel: 784 cached-sampler steps. On webgpu over
  // a software adapter (SwiftShader, as here and in CI) a step of this network takes ~0.1 s
  // (~90 s a drawing, measured on the loaded 2-core box), past the default 2 minutes; QuickDraw's
  // 28x28 is what this test is about (the 8x8 --images run in images.test.ts samples on webgpu too).
  const sampleTimeout = backend === 'webgpu' ? 900_000 : 120_000;
  it(
    'sample writes one PNG per class (real on top, generated below), an overview and a sheet',
    async () => {
      const r = await cli([
        'sample',
        '--checkpoint',
        run('resumed'),
        '--n',
        '2',
        '--real',
        '3',
        '--seed',
        '5',
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const files = ['apple.png', 'fish.png', 'overview.png', 'sheet.png'].map((f) =>
        path.join(run('resumed'), 'samples', f),
      );
      for (const f of files) expect(r.out).toContain(path.relative(process.cwd(), f));
      // a title band (text at scale 2, 2 px padding above and below, a 2 px rule), 2 px padding,
      // then 2 rows of cells: per class 3 columns (max(n, real)) at scale 3 (84 + 2 px cells), the
      // overview at scale 2 (56 + 2 px cells); the sheet at scale 2 too, per class a row of real
      // drawings above one of generated ones (n = 2 fills one row of 3): 4 rows
      const titleBand = textHeight(2) + 2 * 2 + 2;
      const [w, h] = pngSize(files[0]);
      expect(h).toBe(titleBand + 2 + 2 * 86);
      expect(w).toBeGreaterThan(3 * 86);
      expect(pngSize(files[2])[1]).toBe(titleBand + 2 + 2 * 58);
      expect(pngSize(files[3])[1]).toBe(titleBand + 2 + 4 * 58);
      const info = JSON.parse(
        fs.readFileSync(path.join(run('resumed'), 'samples', 'samples.json'), 'utf8'),
      );
      expect(info).toMatchObject({ step: 4, n: 2, seed: 5, classes: ['apple', 'fish'] });
    },
    sampleTimeout,
  );

  it('eval reports held-out bits/dim with a 95% CI over images, overall and per class', async () => {
    const r = await cli(['eval', '--checkpoint', run('resumed'), '--json', '--no-ema']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.step).toBe(4);
    expect(rep.weights).toBe('raw');
    expect(rep.images).toBeGreaterThan(10);
    expect(rep.bitsPerDim).toBeGreaterThan(0);
    expect(rep.ci95).toBeGreaterThan(0);
    expect(rep.perClass.map((p: { class: string }) => p.class)).toEqual(['apple', 'fish']);
    const n = rep.perClass.reduce((a: number, p: { images: number }) => a + p.images, 0);
    expect(n).toBe(rep.images);
    const mean =
      rep.perClass.reduce(
        (a: number, p: { images: number; bitsPerDim: number }) => a + p.images * p.bitsPerDim,
        0,
      ) / n;
    expect(mean).toBeCloseTo(rep.bitsPerDim, 10);
  });

  it('Ctrl-C writes a checkpoint and stops; a NaN loss stops and keeps the last good checkpoint', async () => {
    const controller = new AbortController();
    const r = await cli(['train', ...TINY, '--steps', '4', '--out', run('ctrlc')], {
      signal: controller.signal,
      hooks: { afterStep: ({ step }: { step: number }) => step === 1 && controller.abort() },
    });
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/interrupted at step 1: checkpoint written to .*step-00000001/);
    expect(r.out).toMatch(/continue with: pixelcnn train --resume /);
    expect(listCheckpoints(path.join(run('ctrlc'), 'checkpoints'))).toEqual(['step-00000001']);

    // Resume with a checkpoint every step; the third step's loss turns NaN.
    const seen: number[] = [];
    const nan = await cli(['train', '--resume', run('ctrlc'), '--checkpoint-every', '1'], {
      hooks: {
        poisonBatch: (step: number) => step === 2,
        afterStep: ({ step }: { step: number }) => seen.push(step),
      },
    });
    expect(nan.code).toBe(3);
    expect(seen).toEqual([2]);
    expect(nan.err).toMatch(
      /^error: non-finite loss \(NaN\) at step 3 \(epoch 1\); the update was not applied and training stopped\./,
    );
    expect(nan.err).toMatch(
      /The last good checkpoint is .*step-00000002 \(untouched\); continue from it with a lower --lr/,
    );
    const ck = path.join(run('ctrlc'), 'checkpoints');
    expect(listCheckpoints(ck)).toEqual(['step-00000001', 'step-00000002']);
    expect(JSON.parse(fs.readFileSync(path.join(ck, 'latest.json'), 'utf8')).checkpoint).toBe(
      'step-00000002',
    );
  });
});
