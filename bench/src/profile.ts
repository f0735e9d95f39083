// `pnpm --filter @pixelcnn/bench profile [demo|tfp] [--batch N] [--threads N]`: where the time of
// one training micro-batch (forward + backward) goes, per tfjs kernel, on wasm. The table that
// found the slow transposed BatchMatMul and the copying Slice/SplitV (see ../README.md).
import { initBackend } from '@pixelcnn/backend';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { CONFIGS } from './configs';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const name = argv[0] !== undefined && !argv[0].startsWith('--') ? argv[0] : 'demo';
const cfg = CONFIGS[name];
if (!cfg)
  throw new Error(`profile: unknown config '${name}' (known: ${Object.keys(CONFIGS).join(', ')})`);
const batch = Number(opt('--batch') ?? cfg.train.microBatch ?? cfg.train.batch);
const report = await initBackend({
  prefer: 'wasm',
  wasmThreads: Number(opt('--threads') ?? 2),
  ignoreEnv: true,
});
const dist = new PixelCNN({ ...cfg.config, seed: 1 });
const [H, W, C] = cfg.config.imageShape;
const x = tf.floor(tf.randomUniform([batch, H, W, C], 0, 256, 'float32', 1));
dist.initialize(x);
const step = () => {
  const { value, grads } = tf.variableGrads(
    () => tf.neg(tf.mean(dist.logProb(x, { training: true, seed: 1 }))) as tf.Scalar,
    dist.trainableVariables,
  );
  return [value, ...Object.values(grads)];
};
const run = async () => {
  const ts = step();
  await Promise.all(ts.map((t) => t.data()));
  tf.dispose(ts);
};
await run(); // warm-up: kernel setup, heap growth
const t0 = performance.now();
await run();
const wall = performance.now() - t0;
const prof = await tf.profile(run);
const by = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const ms = await k.kernelTimeMs;
  const e = by.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += typeof ms === 'number' ? ms : 0;
  e.n++;
  by.set(k.name, e);
}
const total = [...by.values()].reduce((a, b) => a + b.ms, 0);
console.log(
  `${name} (${cfg.description}), micro-batch ${batch}, ${report.summary}: forward + backward ${wall.toFixed(0)} ms; kernels ${total.toFixed(0)} ms; peak ${(prof.peakBytes / 2 ** 20).toFixed(0)} MB`,
);
console.log('| kernel | ms | share | calls |\n|---|---|---|---|');
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
  console.log(`| ${k} | ${e.ms.toFixed(0)} | ${((100 * e.ms) / total).toFixed(0)}% | ${e.n} |`);
}
x.dispose();
dist.dispose();
