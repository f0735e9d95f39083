// `pnpm --filter @pixelcnn/bench memory-probe [--tfp] [--only NAME,...] [--json FILE]`: the
// training-memory estimate of pixelcnn-dist (`estimateTrainingMemory`) against what one Trainer
// step really takes on wasm, with gated-resnet's fused kernels and with stock ops, with and
// without recomputed blocks: tf.profile's peak tensor bytes and the wasm heap's high-water mark,
// one process per row (the heap never shrinks). The fitted networks of the estimate, plus TFP's
// default one with --tfp (about 4 GB of memory and minutes per row). --json appends each row with
// the estimate's inputs (parameters, activation units, largest block, mixture pixels), for
// refitting its constants.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initBackend, PIXELCNN_FUSED_KERNELS } from '@pixelcnn/backend';
import { estimateTrainingMemory, PixelCNN, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { runRowInChild } from './childRun';

interface Row {
  name: string;
  filters: number;
  resnets: number;
  hierarchies: number;
  side: number;
  /** Image channels (default 1). */
  channels?: number;
  mixtures: number;
  microBatch: number;
  tfp?: boolean;
  /** Gradient checkpointing (the Trainer's recomputeBlocks). */
  recompute?: boolean;
  /** Without @pixelcnn/backend's fused elementwise kernels (what cpu and webgpu run). */
  stock?: boolean;
}

const MB = 2 ** 20;

async function measure(r: Row): Promise<string> {
  await initBackend({ prefer: 'wasm', ignoreEnv: true });
  if (r.stock) for (const k of PIXELCNN_FUSED_KERNELS) tf.unregisterKernel(k, 'wasm');
  const dist = new PixelCNN(
    r.tfp
      ? { imageShape: [r.side, r.side, 1], conditionalShape: [], numClasses: 4, seed: 0 }
      : {
          imageShape: [r.side, r.side, r.channels ?? 1],
          conditionalShape: [],
          numClasses: 4,
          numResnet: r.resnets,
          numHierarchies: r.hierarchies,
          numFilters: r.filters,
          numLogisticMix: r.mixtures,
          dropoutP: 0.5,
          seed: 0,
        },
  );
  const trainer = new Trainer(dist, {
    emaDecay: 0.995,
    microBatchSize: r.microBatch,
    recomputeBlocks: r.recompute ?? false,
    memoryLimitBytes: 2 ** 40, // measure whatever is asked; the estimate is what is being checked
    seed: 0,
  });
  const shape = [r.microBatch, r.side, r.side, r.channels ?? 1];
  const x = tf.cast(tf.randomUniformInt(shape, 0, 256, 1), 'float32');
  const labels = Array.from({ length: r.microBatch }, (_, i) => i % 4);
  await trainer.trainStep(x, { conditionalInput: labels });
  const info = await tf.profile(async () => {
    await trainer.trainStep(x, { conditionalInput: labels });
  });
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer
    .byteLength;
  const est = estimateTrainingMemory(dist.plan, dist.numParameters, r.microBatch, {
    recomputeBlocks: r.recompute ?? false,
    fusedKernels: !r.stock,
  }).bytes;
  // the estimate's inputs, for refitting its constants (--json)
  const { plan } = dist;
  const resnets = plan.blocks.flatMap((b) =>
    b.kind === 'resnet' ? [b.resolution[0] * b.resolution[1] * plan.filters] : [],
  );
  const features = {
    parameters: dist.numParameters,
    activations: resnets.reduce((a, b) => a + b, 0),
    largestBlock: Math.max(...resnets),
    mixturePixels: r.side * r.side * r.mixtures * (r.channels ?? 1),
  };
  return JSON.stringify({ est, peak: info.peakBytes, heap, features });
}

const rows: Row[] = [];
const add = (
  name: string,
  filters: number,
  resnets: number,
  hierarchies: number,
  side = 28,
  mixtures = 5,
  channels = 1,
) => {
  for (const stock of [false, true])
    for (const recompute of [false, true])
      for (const microBatch of [2, 6])
        rows.push({
          name,
          filters,
          resnets,
          hierarchies,
          side,
          mixtures,
          channels,
          microBatch,
          recompute,
          stock,
        });
};
add('demo (32 filters)', 32, 1, 2);
add('16 filters', 16, 1, 2);
add('64 filters', 64, 1, 2);
add('2 resnets', 32, 2, 2);
add('3 hierarchies', 32, 1, 3);
add('1 hierarchy', 32, 1, 1);
add('16x16 images', 32, 1, 2, 16);
add('10 mixtures', 32, 1, 2, 28, 10);
add('16x16x3 images', 32, 1, 2, 16, 5, 3);
add('12x12x3 images, 8 filters', 8, 1, 2, 12, 5, 3);

const one = process.argv.indexOf('--one');
if (one >= 0) {
  console.log(await measure(JSON.parse(process.argv[one + 1]) as Row));
} else {
  if (process.argv.includes('--tfp')) {
    for (const [microBatch, recompute] of [
      [1, false],
      [1, true],
      [4, true],
      [8, true],
    ] as const) {
      rows.push({
        recompute,
        name: "TFP's default",
        filters: 160,
        resnets: 5,
        hierarchies: 3,
        side: 28,
        mixtures: 10,
        microBatch,
        tfp: true,
      });
    }
  }
  const self = fileURLToPath(import.meta.url);
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1].split(',') : undefined;
  console.log(
    '| network | kernels | micro-batch | recomputed blocks | estimate MB | tf.profile peak MB | wasm heap MB | estimate / peak |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const json = process.argv.indexOf('--json');
  for (const r of rows.filter((r) => !only || only.some((o) => r.name.includes(o)))) {
    const run = runRowInChild<{ est: number; peak: number; heap: number }>(self, r);
    if ('failed' in run) {
      console.log(
        `| ${r.name} | ${r.stock ? 'stock' : 'fused'} | ${r.microBatch} | ${r.recompute ? 'yes' : 'no'} | | ${run.failed} | | |`,
      );
      continue;
    }
    const m = run.ok;
    if (json >= 0) appendFileSync(process.argv[json + 1], `${JSON.stringify({ ...r, ...m })}\n`);
    console.log(
      `| ${r.name} | ${r.stock ? 'stock' : 'fused'} | ${r.microBatch} | ${r.recompute ? 'yes' : 'no'} | ${(m.est / MB).toFixed(0)} | ${(m.peak / MB).toFixed(0)} | ${(m.heap / MB).toFixed(0)} | ${(m.est / m.peak).toFixed(3)} |`,
    );
  }
}
