// `pnpm --filter @pixelcnn/bench kernels [--threads N] [--rounds N] [--only TEXT]`: GFLOP/s of the wasm conv
// gradient kernels at the networks' shapes, each formulation against the other in one process,
// alternating, the fastest call of each (so other load on the machine disturbs both alike):
// Conv2DBackpropInput at stride 2 (the deconvs' forward pass and the stride-2 convs' input
// gradient), polyphase vs zero insertion; Conv2DBackpropFilter, the per-tap matmuls vs the
// dilated conv.
// FLOPs are the useful ones (2 per multiply-add of the conv), the same for both.
import { initBackend, setWasmConvAlgorithms, type WasmConvAlgorithms } from '@pixelcnn/backend';
import * as tf from '@tensorflow/tfjs-core';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt('--rounds') ?? 5);
/** `--only demo` or `--only Filter`: the cases whose network, kernel or layer contains it. */
const only = opt('--only');
const report = await initBackend({
  prefer: 'wasm',
  wasmThreads: Number(opt('--threads') ?? 2),
  ignoreEnv: true,
});

interface Case {
  net: string;
  layer: string;
  kernel: 'Conv2DBackpropInput' | 'Conv2DBackpropFilter';
  /** conv2d geometry: x [b, h, w, c] -> [b, h/s, w/s, o] (VALID), kernel [kh, kw] */
  b: number;
  h: number;
  w: number;
  c: number;
  o: number;
  k: [number, number];
  s: 1 | 2;
}

const K23: [number, number] = [2, 3];
const K22: [number, number] = [2, 2];
/** The padded VALID input of a conv at n x n with kernel k (the layers pad explicitly). */
const pad = (n: number, k: [number, number]) => ({ h: n + k[0] - 1, w: n + k[1] - 1 });
const CASES: Case[] = [];
for (const [net, b, f, sizes] of [
  ['demo', 32, 32, [28, 14]],
  ['tfp', 1, 160, [28, 14]],
  ['tfp', 8, 160, [28, 14]],
] as const) {
  for (const n of sizes) {
    for (const k of [K23, K22]) {
      const g = { net, b, c: f, o: f, k, s: 2 as const, ...pad(n, k) };
      CASES.push({
        ...g,
        kernel: 'Conv2DBackpropInput',
        layer: `deconv ${n / 2}->${n} k${k.join('x')}`,
      });
    }
  }
  for (const k of [K23, K22]) {
    // the gated-resnet conv2's input gradient (stride 1), at full resolution
    const g = { net, b, c: 2 * f, o: 2 * f, k, s: 1 as const, ...pad(sizes[0], k) };
    CASES.push({
      ...g,
      kernel: 'Conv2DBackpropInput',
      layer: `resnet conv2 ${sizes[0]} k${k.join('x')}`,
    });
  }
  for (const n of sizes) {
    for (const k of [K23, K22]) {
      const at = `${n}x${n} k${k.join('x')}`;
      const g = { net, b, k, ...pad(n, k), kernel: 'Conv2DBackpropFilter' as const };
      CASES.push({ ...g, c: 2 * f, o: f, s: 1, layer: `resnet conv1 ${at}` });
      CASES.push({ ...g, c: 2 * f, o: 2 * f, s: 1, layer: `resnet conv2 ${at}` });
      CASES.push({ ...g, c: f, o: f, s: 2, layer: `stride-2 conv/deconv ${at}` });
    }
  }
}

const VARIANTS: Record<Case['kernel'], [string, Partial<WasmConvAlgorithms>][]> = {
  Conv2DBackpropInput: [
    ['zero-insertion', { backpropInput: 'zero-insertion' }],
    ['polyphase', { backpropInput: 'polyphase' }],
  ],
  Conv2DBackpropFilter: [
    ['conv', { backpropFilter: 'conv' }],
    ['taps', { backpropFilter: 'taps' }],
  ],
};

async function timeCase(c: Case, variant: Partial<WasmConvAlgorithms>, reps: number) {
  const oh = Math.ceil((c.h - c.k[0] + 1) / c.s);
  const ow = Math.ceil((c.w - c.k[1] + 1) / c.s);
  const x = tf.randomUniform([c.b, c.h, c.w, c.c], -1, 1, 'float32', 1);
  const dy = tf.randomUniform([c.b, oh, ow, c.o], -1, 1, 'float32', 2);
  const filter = tf.randomUniform([...c.k, c.c, c.o], -1, 1, 'float32', 3);
  const attrs = { strides: [c.s, c.s], pad: 'valid', dataFormat: 'NHWC' };
  const run = (g: tf.Tensor) =>
    (c.kernel === 'Conv2DBackpropInput'
      ? tf.engine().runKernel(c.kernel, { dy: g, filter }, {
          ...attrs,
          inputShape: [c.b, c.h, c.w, c.c],
        } as unknown as tf.NamedAttrMap)
      : tf.engine().runKernel(c.kernel, { x, dy: g }, {
          ...attrs,
          filterShape: [...c.k, c.c, c.o],
        } as unknown as tf.NamedAttrMap)) as tf.Tensor;
  setWasmConvAlgorithms(variant);
  let ms = Number.POSITIVE_INFINITY; // the fastest call: the least disturbed by other load
  for (let i = 0; i < reps; i++) {
    // a new dy each call, as in training: XNNPACK caches its packed copy of a matmul's second
    // operand by tensor, which the per-tap weight gradient's dy is, so a repeated dy skips the
    // packing (half of the weight gradient's time in the network)
    const fresh = tf.add(dy, 0);
    const t0 = performance.now();
    const out = run(fresh);
    await out.data();
    ms = Math.min(ms, performance.now() - t0);
    tf.dispose([out, fresh]);
  }
  tf.dispose([x, dy, filter]);
  const flops = 2 * c.b * oh * ow * c.k[0] * c.k[1] * c.c * c.o;
  return { ms, gflops: flops / ms / 1e6 };
}

console.log(
  `wasm conv gradient kernels, ${report.summary}; GFLOP/s of the fastest call in ${rounds} alternating rounds`,
);
console.log(
  '| network | kernel | layer | shape (x, kernel, stride) | GFLOP/s of each formulation | fastest |\n|---|---|---|---|---|---|',
);
for (const c of CASES.filter((c) => !only || `${c.net} ${c.kernel} ${c.layer}`.includes(only))) {
  const variants = VARIANTS[c.kernel];
  // warm-up, and a rep count giving ~0.2 s per measurement
  let probe = Number.POSITIVE_INFINITY;
  for (const [, v] of variants) probe = Math.min(probe, (await timeCase(c, v, 1)).ms);
  const reps = Math.max(2, Math.min(20, Math.round(100 / probe)));
  const best = variants.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      best[i] = Math.max(best[i], (await timeCase(c, variants[i][1], reps)).gflops);
    }
  }
  const top = best.indexOf(Math.max(...best));
  const cells = variants.map(([name], i) => `${name} ${best[i].toFixed(1)}`).join(', ');
  console.log(
    `| ${c.net} | ${c.kernel} | ${c.layer} | [${c.b},${c.h},${c.w},${c.c}] k${c.k.join('x')} s${c.s} -> ${c.o} | ${cells} | ${variants[top][0]} |`,
  );
}
setWasmConvAlgorithms('default');
