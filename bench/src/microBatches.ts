// `pnpm --filter @pixelcnn/bench micro-batches [demo|tfp] [--batch N] [--sizes 1,2,4,8] [--rounds N]`:
// the time per image of a Trainer step on a batch of N (default 8) at each micro-batch size,
// without and with recomputed gated resnets (gradient checkpointing), and the wasm heap each
// takes: what pixelcnn-dist's `relativeStepCost` (the Trainer's automatic choice) models. One
// process per row (the wasm heap never shrinks), each a warm-up step then a timed one; rows in
// alternating rounds so a loaded machine slows all alike; prints the median of each row. A row
// the memory estimate refuses (over the 4 GiB heap) says so.
import { fileURLToPath } from 'node:url';
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN, relativeStepCost, Trainer } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { runRowInChild } from './childRun';
import { CONFIGS } from './configs';

interface Row {
  config: string;
  batch: number;
  microBatch: number;
  recompute: boolean;
}

async function measure(r: Row): Promise<string> {
  await initBackend({ prefer: 'wasm', wasmThreads: 2, ignoreEnv: true });
  const cfg = CONFIGS[r.config];
  const dist = new PixelCNN({ ...cfg.config, seed: 1 });
  const [H, W, C] = cfg.config.imageShape;
  const x = tf.floor(tf.randomUniform([r.batch, H, W, C], 0, 256, 'float32', 1));
  const trainer = new Trainer(dist, {
    microBatchSize: r.microBatch,
    recomputeBlocks: r.recompute,
    emaDecay: 0.9995,
    seed: 1,
  });
  try {
    await trainer.trainStep(x); // warm-up (and data init)
  } catch (e) {
    return JSON.stringify({ refused: (e as Error).message });
  }
  const s = await trainer.trainStep(x);
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer
    .byteLength;
  return JSON.stringify({ msPerImage: s.ms / r.batch, heap });
}

const argv = process.argv.slice(2);
const one = argv.indexOf('--one');
if (one >= 0) {
  console.log(await measure(JSON.parse(argv[one + 1]) as Row));
} else {
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const config = argv[0] !== undefined && !argv[0].startsWith('--') ? argv[0] : 'tfp';
  const batch = Number(opt('--batch') ?? 8);
  const sizes = (opt('--sizes') ?? '1,2,4,8').split(',').map(Number);
  const rounds = Number(opt('--rounds') ?? 1);
  const rows: Row[] = sizes.flatMap((microBatch) =>
    [false, true].map((recompute) => ({ config, batch, microBatch, recompute })),
  );
  const self = fileURLToPath(import.meta.url);
  const times = new Map<Row, number[]>(rows.map((r) => [r, []]));
  const heaps = new Map<Row, number>();
  const failed = new Map<Row, string>();
  for (let round = 0; round < rounds; round++) {
    for (const r of rows) {
      if (failed.has(r)) continue;
      const run = runRowInChild<{ msPerImage?: number; heap?: number; refused?: string }>(self, r);
      if ('failed' in run) {
        failed.set(r, run.failed);
        continue;
      }
      const m = run.ok;
      if (m.refused !== undefined) {
        failed.set(r, 'refused: over the 4 GiB heap by the estimate');
        continue;
      }
      times.get(r)?.push(m.msPerImage!);
      heaps.set(r, m.heap!);
      process.stderr.write(
        `round ${round + 1}: micro-batch ${r.microBatch}${r.recompute ? ' recomputed' : ''}: ${m.msPerImage!.toFixed(0)} ms/image\n`,
      );
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const base = rows.find((r) => times.get(r)?.length);
  const baseMs = base ? median(times.get(base)!) : undefined;
  const baseModel = base ? relativeStepCost(base.microBatch, base.recompute) : 1;
  console.log(
    `${config}: a Trainer step on a batch of ${batch} per image, wasm 2 threads, median of ${rounds} round(s); relative to the first row`,
  );
  console.log(
    '| micro-batch | recomputed blocks | s per image | relative | modelled (relativeStepCost) | wasm heap MB |\n|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const v = times.get(r) ?? [];
    const model = (relativeStepCost(r.microBatch, r.recompute) / baseModel).toFixed(2);
    const yes = r.recompute ? 'yes' : 'no';
    if (!v.length) {
      console.log(`| ${r.microBatch} | ${yes} | ${failed.get(r) ?? 'failed'} | | ${model} | |`);
      continue;
    }
    const ms = median(v);
    console.log(
      `| ${r.microBatch} | ${yes} | ${(ms / 1000).toFixed(2)} | ${baseMs ? (ms / baseMs).toFixed(2) : ''} | ${model} | ${((heaps.get(r) ?? 0) / 2 ** 20).toFixed(0)} |`,
    );
  }
}
