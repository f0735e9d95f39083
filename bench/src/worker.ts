// One benchmark process: one backend at one wasm thread count (threads are fixed when the wasm
// backend starts, so each setting gets its own process). Prints progress on stderr and one line
// `BENCH_RESULT {json}` on stdout. Run through `pnpm bench` (src/run.ts), not directly.
import { describeAdapter, initBackend } from '@pixelcnn/backend';
import {
  networkFlops,
  PixelCNN,
  parameterCounts,
  samplingNoise,
  Trainer,
} from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import { type BenchConfig, CONFIGS, type WorkerArgs, type WorkerResult } from './configs';
import { kernelProfile, trainingPass } from './kernelProfile';

const args: WorkerArgs = JSON.parse(process.argv[2]);
const log = (s: string) => process.stderr.write(`  [${args.label}] ${s}\n`);
const now = () => performance.now();

/** Median time in ms of `reps` runs of `f` after one warm-up run. */
async function timeMs(f: () => Promise<void> | void, reps: number): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await f();
    ts.push(now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** Bytes of the wasm heap (it only grows, so this is the peak), or undefined off wasm. */
function wasmHeapBytes(): number | undefined {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength;
}

/**
 * The network's most common conv on its own: a gated resnet's conv1 at full resolution, concat_elu
 * input 2F -> F, kernel [2, 3], as the padded VALID conv the library runs. Forward, and forward +
 * both gradients (what a training step does per conv).
 */
async function loneConv(cfg: BenchConfig, batch: number) {
  const [H, W] = cfg.config.imageShape;
  const F = cfg.config.numFilters;
  const x = tf.randomNormal([batch, H + 1, W + 2, 2 * F]) as tf.Tensor4D;
  const k = tf.randomNormal([2, 3, 2 * F, F]) as tf.Tensor4D;
  const flops = 2 * batch * H * W * 6 * 2 * F * F;
  const fwd = await timeMs(async () => {
    const y = tf.conv2d(x, k, 1, 'valid');
    await y.data();
    y.dispose();
  }, 9); // ~10 ms a call: the median of 9, so one disturbed call does not move the roofline
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid')),
  );
  const train = await timeMs(async () => {
    const [ga, gb] = grads([x, k]);
    await Promise.all([ga.data(), gb.data()]);
    tf.dispose([ga, gb]);
  }, 5);
  tf.dispose([x, k]);
  // the sum's gradient is a broadcast of ones: the forward conv is still computed by tf.grads
  return {
    forwardGflops: flops / fwd / 1e6,
    trainGflops: (3 * flops) / train / 1e6,
  };
}

function randomImages(cfg: BenchConfig, n: number, seed: number): tf.Tensor4D {
  const [H, W, C] = cfg.config.imageShape;
  return tf.tidy(
    () => tf.floor(tf.randomUniform([n, H, W, C], 0, 256, 'float32', seed)) as tf.Tensor4D,
  );
}

async function training(cfg: BenchConfig, dist: PixelCNN) {
  const { batch, microBatch, steps } = cfg.train;
  const images = randomImages(cfg, batch, 1);
  const trainer = new Trainer(dist, { learningRate: 1e-3, microBatchSize: microBatch, seed: 1 });
  await trainer.trainStep(images); // warm-up (kernels, allocation)
  const t0 = now();
  for (let i = 0; i < steps; i++) await trainer.trainStep(images);
  const msPerStep = (now() - t0) / steps;
  trainer.dispose();
  images.dispose();
  const flops = networkFlops(dist.plan, dist.config.resnetActivation);
  return {
    batch,
    microBatch,
    steps,
    msPerStep,
    imagesPerSecond: (1000 * batch) / msPerStep,
    gflops: (flops.train * batch) / msPerStep / 1e6,
  };
}

/** Where one training micro-batch's time goes, by kernel: the largest shares. */
async function stepProfile(cfg: BenchConfig, dist: PixelCNN) {
  const x = randomImages(cfg, cfg.train.microBatch ?? cfg.train.batch, 4);
  const { kernels } = await kernelProfile(trainingPass(dist, x));
  x.dispose();
  return kernels.slice(0, 6).map(({ kernel, share }) => ({ kernel, share }));
}

/**
 * Milliseconds a pixel of `sampler` takes: from the first reported pixel (after it, so its
 * warm-up is not counted) to pixel `k`, where sampling is stopped.
 */
async function msPerPixel(
  dist: PixelCNN,
  n: number,
  noise: ReturnType<typeof samplingNoise>,
  sampler: 'naive' | 'cached',
  k: number,
): Promise<number> {
  let t0 = 0;
  let t1 = 0;
  const stop = new AbortController();
  await dist
    .sample(n, {
      noise,
      sampler,
      signal: stop.signal,
      onPixel: (p) => {
        if (p.index === 0) t0 = now();
        if (p.index === k) {
          t1 = now();
          stop.abort();
        }
      },
    })
    .then(
      (t) => t.dispose(),
      (e) => {
        if ((e as Error).name !== 'AbortError') throw e;
      },
    );
  return (t1 - t0) / k;
}

async function sampling(cfg: BenchConfig, dist: PixelCNN) {
  const n = cfg.sample.n;
  const [H, W] = dist.eventShape;
  const pixels = H * W;
  const noise = samplingNoise(dist.config, n, 3);
  // Naive: time `naivePixels` real steps of the naive sampler (after one warm-up step), stop it,
  // and extrapolate to H*W steps (every step is the same full forward pass).
  const k = Math.min(cfg.sample.naivePixels, pixels - 1);
  const naiveMsPerPixel = await msPerPixel(dist, n, noise, 'naive', k);
  const naiveSeconds = (naiveMsPerPixel * pixels) / 1000;
  log(
    `naive: ${naiveMsPerPixel.toFixed(1)} ms per pixel (${k} timed) -> ~${naiveSeconds.toFixed(0)} s for ${n} images`,
  );
  const cachedPixels = cfg.sample.cachedPixels;
  let cachedSeconds: number;
  if (cachedPixels === undefined) {
    const c0 = now();
    const out = await dist.sample(n, { noise, sampler: 'cached' });
    await out.data();
    cachedSeconds = (now() - c0) / 1000;
    out.dispose();
  } else {
    // Time the first `cachedPixels` pixels (from the first reported one) and extrapolate to H*W.
    cachedSeconds = ((await msPerPixel(dist, n, noise, 'cached', cachedPixels)) * pixels) / 1000;
  }
  tf.dispose([noise.mix, noise.logistic]);
  log(`cached: ${cachedSeconds.toFixed(1)} s for ${n} images`);
  return {
    n,
    naiveTimedPixels: k,
    naiveSeconds,
    naiveImagesPerSecond: n / naiveSeconds,
    cachedSeconds,
    cachedTimedPixels: cachedPixels,
    cachedImagesPerSecond: n / cachedSeconds,
    speedup: naiveSeconds / cachedSeconds,
  };
}

let report: Awaited<ReturnType<typeof initBackend>>;
try {
  report = await initBackend({ prefer: args.backend, wasmThreads: args.threads, ignoreEnv: true });
} catch (e) {
  if (args.backend !== 'webgpu') throw e;
  // No WebGPU adapter here: a skipped setting, not a failed benchmark.
  const skipped = (e as Error).message.replace(
    /^Error in initBackend: no backend could be started: /,
    '',
  );
  process.stdout.write(
    `BENCH_RESULT ${JSON.stringify({ label: args.label, backend: 'webgpu', threads: 1, configs: [], skipped })}\n`,
  );
  process.exit(0);
}
log(report.summary);
const software = report.adapter?.software ?? false;
const result: WorkerResult = {
  label: args.label,
  backend: report.chosen,
  threads: report.threads ?? 1,
  configs: [],
};
if (report.adapter) {
  result.adapter = describeAdapter(report.adapter);
  result.software = software;
}
for (const name of args.configs) {
  const base = CONFIGS[name];
  if (software && !base.software) {
    log(`${name}: skipped on a software adapter (too slow; no smaller sizes configured)`);
    continue;
  }
  const cfg = software && base.software ? { ...base, ...base.software } : base;
  const dist = new PixelCNN({ ...cfg.config, seed: 1 });
  const initBatch = randomImages(cfg, Math.min(cfg.train.microBatch ?? cfg.train.batch, 8), 2);
  dist.initialize(initBatch);
  initBatch.dispose();
  const flops = networkFlops(dist.plan, dist.config.resnetActivation);
  const entry: WorkerResult['configs'][number] = {
    name,
    parameters: dist.numParameters,
    tfpKerasParameters: parameterCounts(dist.plan, {
      weightNorm: dist.config.useWeightNorm,
      activation: dist.config.resnetActivation,
    }).tfpKeras,
    gflopForwardPerImage: flops.forward / 1e9,
  };
  if (!args.skipTrain?.includes(name)) {
    log(`${name}: lone conv`);
    entry.loneConv = await loneConv(cfg, cfg.train.microBatch ?? cfg.train.batch);
    log(`${name}: training, batch ${cfg.train.batch}`);
    entry.train = await training(cfg, dist);
    entry.heapBytes = wasmHeapBytes();
    log(`${name}: kernel profile of one micro-batch`);
    entry.profile = await stepProfile(cfg, dist);
  }
  log(`${name}: sampling ${cfg.sample.n} images`);
  entry.sample = await sampling(cfg, dist);
  dist.dispose();
  result.configs.push(entry);
}
result.maxRssBytes = process.resourceUsage().maxRSS * 1024;
result.heapBytes = wasmHeapBytes();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
