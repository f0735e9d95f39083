// usage: node memprobe.mjs filters resnet hier mb [H]
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
const [F, R, Hh, mb, side = 28, K = 5] = process.argv.slice(2).map(Number);
await initBackend({ backend: 'wasm' });
const wasm = tf.backend().wasm;
const heap = () => wasm.HEAPU8.buffer.byteLength;
const h0 = heap();
const tfp = process.env.TFP === '1';
const dist = tfp ? new PixelCNN({ imageShape: [side, side, 1], conditionalShape: [], numClasses: 4, seed: 0 }) : new PixelCNN({ imageShape: [side, side, 1], high: 255, conditionalShape: [], numClasses: 4,
  numResnet: R, numHierarchies: Hh, numFilters: F, numLogisticMix: K, dropoutP: 0.5, seed: 0 });
const trainer = new Trainer(dist, { emaDecay: 0.995, microBatchSize: mb });
const x = tf.randomUniformInt([mb, side, side, 1], 0, 256).cast('float32');
const labels = Array.from({ length: mb }, (_, i) => i % 4);
await trainer.trainStep(x, { conditionalInput: labels });
const h1 = heap();
let peak = 0;
const prof = await tf.profile(async () => { await trainer.trainStep(x, { conditionalInput: labels }); });
const h2 = heap();
const params = dist.trainableVariables.reduce((a, v) => a + v.size, 0);
let A = 0; for (const b of dist.plan.blocks) if (b.kind === 'resnet') A += b.resolution[0] * b.resolution[1] * dist.plan.filters;
console.log(JSON.stringify({ A, head: dist.plan.headUnits * side * side, K, F, R, Hh, mb, side, params, heap0: h0, heapAfter1: h1, heapAfter2: h2, profPeak: prof.peakBytes, live: tf.memory().numBytes }));
