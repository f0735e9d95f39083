// `pnpm --filter @pixelcnn/bench memory-probe [--tfp]`: the training-memory estimate of
// pixelcnn-dist (`estimateTrainingMemory`) against what one Trainer step really takes on wasm:
// tf.profile's peak tensor bytes and the wasm heap's high-water mark, one process per row (the
// heap never shrinks). The fitted networks of the estimate, plus TFP's default one with --tfp
// (about 4 GB of memory and minutes per row).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@pixelcnn/backend';
import { estimateTrainingMemory, PixelCNN, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';

interface Row {
  name: string;
  filters: number;
  resnets: number;
  hierarchies: number;
  side: number;
  mixtures: number;
  microBatch: number;
  tfp?: boolean;
}

const MB = 2 ** 20;

async function measure(r: Row): Promise<string> {
  await initBackend({ prefer: 'wasm', ignoreEnv: true });
  const dist = new PixelCNN(
    r.tfp
      ? { imageShape: [r.side, r.side, 1], conditionalShape: [], numClasses: 4, seed: 0 }
      : {
          imageShape: [r.side, r.side, 1],
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
  const trainer = new Trainer(dist, { emaDecay: 0.995, microBatchSize: r.microBatch, seed: 0 });
  const x = tf.cast(tf.randomUniformInt([r.microBatch, r.side, r.side, 1], 0, 256, 1), 'float32');
  const labels = Array.from({ length: r.microBatch }, (_, i) => i % 4);
  await trainer.trainStep(x, { conditionalInput: labels });
  const info = await tf.profile(async () => {
    await trainer.trainStep(x, { conditionalInput: labels });
  });
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer
    .byteLength;
  const est = estimateTrainingMemory(dist.plan, dist.numParameters, r.microBatch).bytes;
  return JSON.stringify({ est, peak: info.peakBytes, heap });
}

const rows: Row[] = [];
const add = (
  name: string,
  filters: number,
  resnets: number,
  hierarchies: number,
  side = 28,
  mixtures = 5,
) => {
  for (const microBatch of [2, 6])
    rows.push({ name, filters, resnets, hierarchies, side, mixtures, microBatch });
};
add('demo (32 filters)', 32, 1, 2);
add('16 filters', 16, 1, 2);
add('64 filters', 64, 1, 2);
add('2 resnets', 32, 2, 2);
add('3 hierarchies', 32, 1, 3);
add('1 hierarchy', 32, 1, 1);
add('16x16 images', 32, 1, 2, 16);
add('10 mixtures', 32, 1, 2, 28, 10);

const one = process.argv.indexOf('--one');
if (one >= 0) {
  console.log(await measure(JSON.parse(process.argv[one + 1]) as Row));
} else {
  if (process.argv.includes('--tfp')) {
    for (const microBatch of [1]) {
      rows.push({
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
  console.log(
    '| network | micro-batch | estimate MB | tf.profile peak MB | wasm heap MB | estimate / peak |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', self, '--one', JSON.stringify(r)],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('{')) {
      const why = (child.stderr.match(/(Aborted\(\)|out of bounds|out of memory)/i) ?? [
        'failed',
      ])[0];
      console.log(`| ${r.name} | ${r.microBatch} | | ${why} | | |`);
      continue;
    }
    const m = JSON.parse(line) as { est: number; peak: number; heap: number };
    console.log(
      `| ${r.name} | ${r.microBatch} | ${(m.est / MB).toFixed(0)} | ${(m.peak / MB).toFixed(0)} | ${(m.heap / MB).toFixed(0)} | ${(m.est / m.peak).toFixed(3)} |`,
    );
  }
}
