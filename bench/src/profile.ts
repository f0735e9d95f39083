// `pnpm --filter @pixelcnn/bench profile [demo|tfp] [--batch N] [--threads N] [--compare N] [--recompute]`:
// where the time of one training micro-batch (forward + backward) goes, per tfjs kernel, on
// wasm. The table that found the slow transposed BatchMatMul, the copying Slice/SplitV and the
// zero-inserting transposed convs (see ../README.md). `--compare N`: first N alternating rounds
// of the step with the previous conv gradient formulations (zero-insertion Conv2DBackpropInput,
// dilated-conv Conv2DBackpropFilter) and the current ones, each round one step of each, so a
// loaded machine slows both alike; prints the median of each.
import { initBackend, setWasmConvAlgorithms, type WasmConvAlgorithms } from '@pixelcnn/backend';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { CONFIGS } from './configs';
import { kernelProfile, trainingPass } from './kernelProfile';

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
const compareRounds = Number(opt('--compare') ?? 0);
const recomputeBlocks = argv.includes('--recompute');
const report = await initBackend({
  prefer: 'wasm',
  wasmThreads: Number(opt('--threads') ?? 2),
  ignoreEnv: true,
});
const dist = new PixelCNN({ ...cfg.config, seed: 1 });
const [H, W, C] = cfg.config.imageShape;
const x = tf.floor(tf.randomUniform([batch, H, W, C], 0, 256, 'float32', 1));
dist.initialize(x);
const run = trainingPass(dist, x, { recomputeBlocks });
const timed = async () => {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
await run(); // warm-up: kernel setup, heap growth

if (compareRounds > 0) {
  const before: Partial<WasmConvAlgorithms> = {
    backpropInput: 'zero-insertion',
    backpropFilter: 'conv',
  };
  setWasmConvAlgorithms(before);
  await run(); // warm-up of the other formulation
  const ms: Record<'before' | 'after', number[]> = { before: [], after: [] };
  for (let r = 0; r < compareRounds; r++) {
    setWasmConvAlgorithms(before);
    ms.before.push(await timed());
    setWasmConvAlgorithms('default');
    ms.after.push(await timed());
  }
  const [b, a] = [median(ms.before), median(ms.after)];
  const all = (v: number[]) => v.map((t) => t.toFixed(0)).join(', ');
  console.log(
    `${name}, micro-batch ${batch}, ${report.summary}: forward + backward, median of ${compareRounds} alternating rounds: ${b.toFixed(0)} ms with zero-insertion + dilated-conv gradients (${all(ms.before)}), ${a.toFixed(0)} ms with the defaults, polyphase + taps (${all(ms.after)}): ${(b / a).toFixed(2)}x`,
  );
  // the conv gradient kernels' own time in a profiled pass of each, alternating
  const grads = ['Conv2DBackpropInput', 'Conv2DBackpropFilter'];
  const kms: Record<'before' | 'after', Record<string, number[]>> = { before: {}, after: {} };
  for (let r = 0; r < compareRounds; r++) {
    for (const which of ['before', 'after'] as const) {
      setWasmConvAlgorithms(which === 'before' ? before : 'default');
      const { kernels } = await kernelProfile(run);
      for (const g of grads) {
        const ms = kernels.find((k) => k.kernel === g)?.ms ?? 0;
        kms[which][g] = [...(kms[which][g] ?? []), ms];
      }
    }
  }
  for (const g of grads) {
    const [kb, ka] = [median(kms.before[g]), median(kms.after[g])];
    console.log(
      `  ${g}: ${kb.toFixed(0)} ms before (${all(kms.before[g])}), ${ka.toFixed(0)} ms after (${all(kms.after[g])}): ${(kb / ka).toFixed(2)}x`,
    );
  }
  setWasmConvAlgorithms('default');
}

const wall = await timed();
const prof = await kernelProfile(run);
console.log(
  `${name} (${cfg.description}), micro-batch ${batch}${recomputeBlocks ? ' with recomputed blocks' : ''}, ${report.summary}: forward + backward ${wall.toFixed(0)} ms; kernels ${prof.totalMs.toFixed(0)} ms; peak ${(prof.peakBytes / 2 ** 20).toFixed(0)} MB`,
);
console.log('| kernel | ms | share | calls |\n|---|---|---|---|');
for (const k of prof.kernels.slice(0, 15)) {
  console.log(`| ${k.kernel} | ${k.ms.toFixed(0)} | ${(100 * k.share).toFixed(0)}% | ${k.calls} |`);
}
x.dispose();
dist.dispose();
