#!/usr/bin/env node
// Conv kernel throughput on the wasm backend, stock vs ours, and a conv-heavy training step,
// at 1 and 2 threads (or the counts given: `node scripts/benchKernels.mjs 1 2 4`).
// Needs the build: `pnpm build && node scripts/benchKernels.mjs`. Each thread count runs in its
// own process (threads are fixed when the backend starts). Prints a table and, with --json, JSON.
// `--step-only --repeat 3` times only the training step, alternating the thread counts 3 times
// (less sensitive to a machine whose load changes), and prints the median speed-up.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

const stepOnly = args.includes('--step-only');
if (args[0] === '--child') {
  await child(Number(args[1]));
} else {
  const repeatAt = args.indexOf('--repeat');
  const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 1;
  const counts = args.filter((a, i) => /^\d+$/.test(a) && i !== repeatAt + 1).map(Number);
  const runs = [];
  for (let k = 0; k < repeat; k++) {
    const results = [];
    for (const threads of counts.length ? counts : [1, 2]) {
      const r = spawnSync(
        process.execPath,
        [self, '--child', String(threads), ...(stepOnly ? ['--step-only'] : [])],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      if (r.status !== 0) throw new Error(`benchmark with ${threads} thread(s) failed`);
      results.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    report(results);
    runs.push(results);
  }
  if (repeat > 1) {
    const ratios = runs
      .map((rs) => rs.map((r) => r.rows.find((x) => x.name.startsWith('training step')).ms))
      .map((ms) => ms[0] / ms.at(-1))
      .sort((a, b) => a - b);
    console.log(
      `median speed-up over ${repeat} alternations: ${ratios[Math.floor(repeat / 2)].toFixed(2)}x (${ratios.map((r) => r.toFixed(2)).join(', ')})`,
    );
  }
}

function report(results) {
  if (args.includes('--json')) console.log(JSON.stringify(results, null, 2));
  const head = ['workload', ...results.map((r) => `${r.threads} thr (${r.summary})`)];
  const rows = results[0].rows.map((row, i) => [
    row.name,
    ...results.map((r) =>
      r.rows[i].gflops === undefined
        ? `${r.rows[i].ms.toFixed(0)} ms`
        : `${r.rows[i].gflops.toFixed(1)} GFLOP/s`,
    ),
  ]);
  const width = head.map((_, c) => Math.max(...[head, ...rows].map((r) => String(r[c]).length)));
  for (const r of [head, ...rows])
    console.log(r.map((v, c) => String(v).padEnd(width[c])).join('  '));
  if (results.length > 1) {
    const step = results.map((r) => r.rows.find((x) => x.name.startsWith('training step')).ms);
    console.log(
      `training step speed-up, ${results[0].threads} -> ${results.at(-1).threads} threads: ${(step[0] / step.at(-1)).toFixed(2)}x`,
    );
  }
}

async function child(threads) {
  const tf = await import('@tensorflow/tfjs-core');
  const { enableWasmThreads, registerWasmTrainingKernels } = await import('../dist/index.js');
  await import('@tensorflow/tfjs-backend-wasm');
  const running = await enableWasmThreads(threads);
  await tf.setBackend('wasm');
  const rows = [];

  /** median ms of f() over at least 5 runs / 1.5 s, after a warm-up */
  const time = async (f) => {
    const once = async () => {
      const t0 = performance.now();
      const out = f();
      await (Array.isArray(out) ? out[0] : out).data();
      tf.dispose(out);
      return performance.now() - t0;
    };
    await once();
    const times = [];
    const start = performance.now();
    while (times.length < 5 || (performance.now() - start < 1500 && times.length < 50)) {
      times.push(await once());
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  };
  const conv = (name, b, h, c, o, k, s) => {
    const x = tf.randomNormal([b, h, h, c]);
    const w = tf.randomNormal([k, k, c, o]);
    const oh = Math.ceil(h / s);
    const dy = tf.randomNormal([b, oh, oh, o]);
    const flops = 2 * b * oh * oh * k * k * c * o;
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    return {
      name,
      flops,
      forward: () => tf.conv2d(x, w, s, 'same'),
      input: () =>
        tf
          .engine()
          .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }),
      filter: () =>
        tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }),
      dispose: () => tf.dispose([x, w, dy]),
    };
  };
  const cases = [
    conv('conv 3x3 s1, 32x28x28x64->64', 32, 28, 64, 64, 3, 1),
    conv('conv 3x3 s1, 32x28x28x32->32', 32, 28, 32, 32, 3, 1),
    conv('conv 3x3 s2, 32x28x28x64->64', 32, 28, 64, 64, 3, 2),
  ];
  const add = (name, ms, flops) =>
    rows.push({ name, ms, gflops: flops ? flops / ms / 1e6 : undefined });
  for (const c of cases) add(`${c.name} forward`, await time(c.forward), c.flops);
  for (const c of cases) add(`${c.name} input grad, stock`, await time(c.input), c.flops);

  registerWasmTrainingKernels();
  await tf.setBackend('wasm'); // runs the new kernels' setup
  for (const c of cases) add(`${c.name} input grad, ours`, await time(c.input), c.flops);
  for (const c of cases) add(`${c.name} filter grad, ours`, await time(c.filter), c.flops);
  for (const c of cases) c.dispose();

  // A conv-heavy training step: 4 residual 3x3 blocks at 64 filters, a stride-2 conv down and a
  // conv2dTranspose up, elu, batch 16 at 28x28 (forward + backward + SGD update).
  const vars = [];
  const v = (shape) => {
    const t = tf.variable(tf.mul(tf.randomNormal(shape), 0.05));
    vars.push(t);
    return t;
  };
  const stem = v([3, 3, 1, 64]);
  const blocks = Array.from({ length: 4 }, () => [v([3, 3, 64, 64]), v([3, 3, 64, 64])]);
  const down = v([3, 3, 64, 64]);
  const up = v([3, 3, 64, 64]);
  const head = v([1, 1, 64, 10]);
  const images = tf.randomUniform([16, 28, 28, 1]);
  const opt = tf.train.sgd(1e-3);
  const step = () =>
    opt.minimize(
      () => {
        let h = tf.conv2d(images, stem, 1, 'same');
        for (const [a, b] of blocks) {
          h = tf.add(h, tf.conv2d(tf.elu(tf.conv2d(tf.elu(h), a, 1, 'same')), b, 1, 'same'));
        }
        const d = tf.elu(tf.conv2d(h, down, 2, 'same'));
        h = tf.add(h, tf.conv2dTranspose(d, up, [16, 28, 28, 64], 2, 'same'));
        return tf.mean(tf.square(tf.conv2d(h, head, 1, 'same')));
      },
      true,
      vars,
    );
  add('training step (batch 16, 12 convs at 64 filters)', await time(step));
  tf.dispose([...vars, images]);
  const summary = `${running} running`;
  console.log(JSON.stringify({ threads, running, summary, rows }));
}
