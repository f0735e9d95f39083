// `pnpm --filter @pixelcnn/bench tfp-choices [--steps N] [--arms a,b,...] [--seed S]`: the demo
// (1 resnet, 2 hierarchies, 32 filters, 5 mixture components, dropout 0, batch 32, EMA 0.995,
// Adam 1e-3; 2000 drawings per class of apple, fish, house, rainbow, class-conditional) trained
// with each choice of issue 16's points 1 and 4: the gate conv's data-init scale (PixelCNN++'s
// 0.1 or TFP's 1) and PixelCNN++'s constant input channel (on, or off as TFP). Same seed, same
// batches, same steps for every arm; prints a table of the training loss and the held-out
// bits/dim (EMA weights, 400 test drawings). Data: $QUICKDRAW_BASE_URL or ../shared/quickdraw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN, type PixelCNNConfig, Trainer } from '@pixelcnn/pixelcnn-dist';
import { loadQuickDraw } from '@pixelcnn/quickdraw-data/node';
import * as tf from '@tensorflow/tfjs-core';

const ARMS: Record<string, { label: string; config: Partial<PixelCNNConfig> }> = {
  ours: { label: 'ones channel, gate scale 0.1 (PixelCNN++)', config: {} },
  gate1: { label: 'ones channel, gate scale 1', config: { gateInitScale: 1 } },
  nochannel: { label: 'no ones channel, gate scale 0.1', config: { constantChannel: false } },
  tfp: {
    label: 'no ones channel, gate scale 1 (TFP)',
    config: { constantChannel: false, gateInitScale: 1 },
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const steps = Number(arg('steps', '250'));
const seed = Number(arg('seed', '1'));
const arms = arg('arms', Object.keys(ARMS).join(',')).split(',');
for (const a of arms) {
  if (!ARMS[a]) throw new Error(`unknown arm '${a}'; known: ${Object.keys(ARMS).join(', ')}`);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const baseUrl = process.env.QUICKDRAW_BASE_URL ?? path.resolve(here, '../../../shared/quickdraw');
const classes = ['apple', 'fish', 'house', 'rainbow'];

const backend = await initBackend({ prefer: 'wasm', wasmThreads: 2, ignoreEnv: true });
const data = await loadQuickDraw({
  classes,
  maxPerClass: 2000,
  labels: 'index',
  baseUrl,
  cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tfp-choices-')),
});
const test = await data.load('test', { maxExamples: 400, shuffle: true, seed: 1 });
console.log(
  `${backend.summary}; ${classes.join(', ')}: ${data.size('train')} train, ${test.images.shape[0]} held out; ${steps} steps of 32, seed ${seed}`,
);

const rows: string[] = [];
for (const a of arms) {
  const dist = new PixelCNN({
    imageShape: [28, 28, 1],
    conditionalShape: [],
    numClasses: classes.length,
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 32,
    numLogisticMix: 5,
    dropoutP: 0,
    seed,
    ...ARMS[a].config,
  });
  const trainer = new Trainer(dist, { learningRate: 1e-3, emaDecay: 0.995, seed });
  const t0 = performance.now();
  let step = 0;
  let lastLoss: number[] = [];
  for (let epoch = 0; step < steps; epoch++) {
    for await (const { images, labels } of data.batches({ batchSize: 32, seed, epoch })) {
      const r = await trainer.trainStep(images, { conditionalInput: labels });
      tf.dispose([images, labels]);
      step++;
      lastLoss = [...lastLoss.slice(-19), r.bitsPerDim];
      if (step % 50 === 0)
        console.log(`  ${a}: step ${step}, loss ${r.bitsPerDim.toFixed(3)} bits/dim`);
      if (step >= steps) break;
    }
  }
  const ev = await trainer.evaluate(test.images, { conditionalInput: test.labels, batchSize: 50 });
  const minutes = (performance.now() - t0) / 60000;
  const train = lastLoss.reduce((x, y) => x + y, 0) / lastLoss.length;
  const row = `| ${a} | ${ARMS[a].label} | ${train.toFixed(3)} | ${ev.bitsPerDim.toFixed(3)} | ${minutes.toFixed(1)} |`;
  console.log(row);
  rows.push(row);
  trainer.dispose();
  dist.dispose();
}
console.log(
  '\n| arm | network | train bits/dim (last 20 steps) | held-out bits/dim (EMA) | minutes |',
);
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
tf.dispose([test.images, test.labels]);
await data.close();
