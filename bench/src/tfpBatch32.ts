// `pnpm --filter @pixelcnn/bench tfp-batch32 [--micro-batch N|auto] [--recompute true|false|auto]`:
// TFP's default PixelCNN trains on wasm at an effective batch of 32 inside the 4 GB heap, on the
// Trainer's automatic micro-batch (the fastest that fits) unless given: two steps, with the time
// per image, loss and wasm heap of each. About 3 minutes on 2 cores. Its parameter counts are
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
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const mbArg = opt('--micro-batch') ?? 'auto';
const rArg = opt('--recompute') ?? 'auto';
const t = new Trainer(dist, {
  learningRate: 1e-3,
  microBatchSize: mbArg === 'auto' ? 'auto' : Number(mbArg),
  recomputeBlocks: rArg === 'auto' ? 'auto' : rArg === 'true',
  emaDecay: 0.9995,
  seed: 1,
});
for (let i = 0; i < 2; i++) {
  const s = await t.trainStep(x);
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer
    .byteLength;
  console.log(
    `${r.summary}: TFP defaults, step ${s.step} of batch 32 in ${s.microBatches} micro-batches${s.recomputedBlocks ? ' (recomputed blocks)' : ''}: ${(s.ms / 1000).toFixed(1)} s (${(s.ms / 32000).toFixed(2)} s per image), loss ${s.bitsPerDim.toFixed(3)} bits/dim, skipped ${s.skipped}, wasm heap ${(heap / 2 ** 20).toFixed(0)} MB`,
  );
}
