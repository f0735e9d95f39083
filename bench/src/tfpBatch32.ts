// `pnpm --filter @pixelcnn/bench tfp-batch32`: TFP's default PixelCNN trains on wasm at an
// effective batch of 32 (micro-batches of 1) without running out of the 4 GB heap: two steps,
// with the time, loss and wasm heap of each. About 7 minutes on 2 cores. Its parameter counts are
// printed, both computed: effective (our variables, every one used) and what Keras counts for
// TFP's network (full masked kernels whose masked entries are stored zeros).
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN, parameterCounts, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

const r = await initBackend({ prefer: 'wasm', wasmThreads: 2, ignoreEnv: true });
const dist = new PixelCNN({ imageShape: [28, 28, 1], seed: 1 });
const x = tf.floor(tf.randomUniform([32, 28, 28, 1], 0, 256, 'float32', 1));
const counts = parameterCounts(dist.plan, {
  weightNorm: dist.config.useWeightNorm,
  activation: dist.config.resnetActivation,
});
const millions = (n: number) => `${(n / 1e6).toFixed(1)} M`;
console.log(
  `TFP defaults: ${millions(counts.effective)} effective parameters (${counts.effective}); TFP's Keras count ${millions(counts.tfpKeras)} (${counts.tfpKeras})`,
);
const t = new Trainer(dist, { learningRate: 1e-3, microBatchSize: 1, emaDecay: 0.9995, seed: 1 });
for (let i = 0; i < 2; i++) {
  const s = await t.trainStep(x);
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer
    .byteLength;
  console.log(
    `${r.summary}: TFP defaults, step ${s.step} of batch 32 in ${s.microBatches} micro-batches: ${(s.ms / 1000).toFixed(1)} s, loss ${s.bitsPerDim.toFixed(3)} bits/dim, skipped ${s.skipped}, wasm heap ${(heap / 2 ** 20).toFixed(0)} MB`,
  );
}
