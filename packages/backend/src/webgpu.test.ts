import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './initBackend';
import { describeBackends } from './testing/describeBackends';
import { describeAdapter, probeDawn, SOFTWARE_ADAPTER } from './webgpu';

/** Whether Dawn's native addon is loaded in this process (its `require` lands in Node's cache). */
const dawnLoadedHere = () =>
  Object.keys(createRequire(import.meta.url).cache).some((f) => f.endsWith('dawn.node'));

/** A module for the probe to import in place of Dawn's `webgpu` package. */
const fakeDawn = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

describe('webgpu adapter classification', () => {
  it('marks CPU emulations as software and real GPUs not', () => {
    for (const s of [
      'google swiftshader',
      'mesa llvmpipe (LLVM 15.0.6, 256 bits)',
      'lavapipe',
      'Microsoft Basic Render Driver',
    ]) {
      expect(SOFTWARE_ADAPTER.test(s), s).toBe(true);
    }
    for (const s of ['nvidia hopper', 'apple metal-3', 'intel gen-12lp', 'amd rdna-3']) {
      expect(SOFTWARE_ADAPTER.test(s), s).toBe(false);
    }
    expect(
      describeAdapter({
        vendor: 'google',
        architecture: 'swiftshader',
        device: 'swiftshader-device-subzero-',
        description: 'SwiftShader driver 5.0.0',
        software: true,
        source: 'webgpu (Dawn)',
      }),
    ).toBe('google swiftshader (SwiftShader driver 5.0.0), software');
  });
});

describe('the Dawn probe (a child process: what drivers print stays off our stderr)', () => {
  it('reports the adapter offered, and keeps what was printed meanwhile', async () => {
    const url = fakeDawn(`console.error('driver chatter');
      export const create = () => ({ requestAdapter: async () => ({ info: { vendor: 'acme', architecture: 'x1', description: 'Acme X1' } }) });`);
    const p = await probeDawn(url);
    expect(p.failure).toBeUndefined();
    expect(p.adapter).toMatchObject({ vendor: 'acme', architecture: 'x1', description: 'Acme X1' });
    expect(p.log).toBe('driver chatter\n');
  });

  it('reports no adapter as none, without a failure', async () => {
    const p = await probeDawn(
      fakeDawn('export const create = () => ({ requestAdapter: async () => null });'),
    );
    expect(p).toEqual({ log: '' });
  });

  it('names a failure: an exception, a crash, a hang', async () => {
    const threw = await probeDawn(fakeDawn('throw new Error("vkCreateInstance failed");'));
    expect(threw.failure).toBe('webgpu (Dawn) probe failed: Error: vkCreateInstance failed');
    const crashed = await probeDawn(fakeDawn('process.kill(process.pid, "SIGSEGV");'));
    expect(crashed.failure).toMatch(/^webgpu \(Dawn\) probe crashed \(SIGSEGV\)/);
    const hung = await probeDawn(
      fakeDawn('setInterval(() => {}, 1e3); await new Promise(() => {});'),
      1500,
    );
    expect(hung.failure).toMatch(/^webgpu \(Dawn\) probe did not answer in 1.5 s/);
  });
});

describe('initBackend webgpu', () => {
  it('never takes a software adapter in the automatic order, and says why', async () => {
    const before = process.env.VK_ICD_FILENAMES;
    const loadedBefore = dawnLoadedHere();
    const report = await initBackend({ ignoreEnv: true, prefer: undefined });
    const gpu = report.attempts.find((a) => a.name === 'webgpu');
    if (report.chosen === 'webgpu') {
      // A machine with a real GPU: it must be a hardware adapter.
      expect(report.adapter?.software).toBe(false);
    } else {
      expect(gpu?.ok).toBe(false);
      expect(gpu?.reason).toMatch(/not installed|no WebGPU adapter|only a software adapter/);
      expect(report.summary).toContain('skipped');
      expect(report.summary).toContain('webgpu: ');
      // Passed by, Dawn never loaded here: whatever it or the Vulkan drivers print (Mesa's
      // "error: XDG_RUNTIME_DIR is invalid..."), they print in the probe's process, into the log.
      if (!loadedBefore) expect(dawnLoadedHere()).toBe(false);
    }
    if (gpu?.log !== undefined) expect(gpu.log.length).toBeGreaterThan(0);
    expect(process.env.VK_ICD_FILENAMES).toBe(before); // the automatic order never sets it
  });

  it('runs on webgpu when asked for by name, reporting the adapter', async (ctx) => {
    const previous = tf.getBackend();
    const report = await initBackend({ prefer: 'webgpu', ignoreEnv: true }).catch((e: Error) => e);
    if (report instanceof Error) {
      // No adapter at all here (no GPU, no SwiftShader): the error says which and how to fix it.
      expect(report.message).toMatch(/webgpu: (webgpu \(Dawn\) not installed|no WebGPU adapter)/);
      ctx.skip();
      return;
    }
    expect(report.chosen).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const a = report.adapter!;
    expect(a.vendor.length + a.architecture.length).toBeGreaterThan(0);
    expect(report.summary).toBe(`webgpu (${describeAdapter(a)})`);
    // A conv and its weight gradient against hand-computed sums: each tap of a 3x3 'valid' conv
    // over two 5x5 images of ones meets 2 x 3 x 3 ones.
    const x = tf.ones([2, 5, 5, 1]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D;
    const dw = tf.grad((f) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid')))(w);
    expect(Array.from(await dw.data())).toEqual(new Array(9).fill(18));
    tf.dispose([x, w, dw]);
    await tf.setBackend(previous);
  });
});

describeBackends('tf.addN of many tensors', () => {
  // tfjs-backend-webgpu 4.22 returned garbage beyond 7 inputs; registerWebGpuKernels fixes it.
  for (const n of [2, 7, 8, 15, 50]) {
    it(`sums ${n} tensors: sum_{i=1..n} i = n(n+1)/2`, async () => {
      const xs = Array.from({ length: n }, (_, i) => tf.fill([3, 2], i + 1));
      expect(Array.from(await tf.addN(xs).data())).toEqual(new Array(6).fill((n * (n + 1)) / 2));
    });
  }
  it('and its gradient reaches every input', async () => {
    const w = tf.tensor1d([1, -2, 3]);
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.addN(Array.from({ length: 12 }, (_, i) => tf.mul(v, i)))),
    )(w);
    expect(Array.from(await g.data())).toEqual([66, 66, 66]); // sum_{i<12} i
  });
});

describeBackends('tf.transpose of int32 and bool tensors', () => {
  // tfjs-backend-webgpu 4.22's transpose shader is invalid for them past its CPU hand-off size
  // (zeros, silently); registerWebGpuKernels fixes it.
  it('moves every element where the index arithmetic says', async () => {
    const shape = [5, 5, 4, 3, 4];
    const perm = [2, 3, 0, 1, 4];
    const n = 1200;
    const values = Array.from({ length: n }, (_, i) => i * 3 - 7);
    const strides = [240, 48, 12, 4, 1];
    const outShape = perm.map((a) => shape[a]);
    const want: number[] = [];
    for (let a = 0; a < outShape[0]; a++)
      for (let b = 0; b < outShape[1]; b++)
        for (let c = 0; c < outShape[2]; c++)
          for (let d = 0; d < outShape[3]; d++)
            for (let e = 0; e < outShape[4]; e++) {
              const at = [a, b, c, d, e];
              want.push(values[perm.reduce((o, axis, k) => o + at[k] * strides[axis], 0)]);
            }
    for (const dtype of ['int32', 'bool'] as const) {
      const x = tf.tensor(
        dtype === 'bool' ? values.map((v) => (v % 3 === 0 ? 1 : 0)) : values,
        shape,
        dtype,
      );
      const y = tf.transpose(x, perm);
      expect(y.shape).toEqual(outShape);
      expect(y.dtype).toBe(dtype);
      expect(Array.from(await y.data())).toEqual(
        dtype === 'bool' ? want.map((v) => (v % 3 === 0 ? 1 : 0)) : want,
      );
      tf.dispose([x, y]);
    }
  });
});

describeBackends('tf.pad of rank 5 and 6 (and the gradient of a 5-D slice)', () => {
  // tfjs-backend-webgpu 4.22 cannot compile its pad shader past rank 4; registerWebGpuKernels fixes it.
  const iota = (shape: number[]) =>
    tf.reshape(tf.range(1, shape.reduce((a, b) => a * b, 1) + 1), shape);
  /** Reference: pad a nested JS array (row-major) by hand. */
  function padRef(x: number[], shape: number[], p: [number, number][], c: number): number[] {
    const out = shape.map((d, i) => d + p[i][0] + p[i][1]);
    const res = new Array(out.reduce((a, b) => a * b, 1)).fill(c);
    const strides = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
    const [si, so] = [strides(shape), strides(out)];
    x.forEach((v, flat) => {
      let o = 0;
      shape.forEach((_, i) => {
        o += ((Math.floor(flat / si[i]) % shape[i]) + p[i][0]) * so[i];
      });
      res[o] = v;
    });
    return res;
  }
  for (const [shape, p] of [
    [
      [2, 1, 2, 3, 2],
      [
        [0, 0],
        [1, 0],
        [0, 0],
        [0, 0],
        [1, 2],
      ],
    ],
    [
      [1, 2, 2, 1, 2, 3],
      [
        [1, 0],
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 0],
        [2, 0],
      ],
    ],
    [
      [2, 2, 1, 1, 3],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    ],
  ] as [number[], [number, number][]][]) {
    it(`pads [${shape}] by ${JSON.stringify(p)}`, async () => {
      const x = iota(shape);
      const y = tf.pad(x, p, -1);
      expect(y.shape).toEqual(shape.map((d, i) => d + p[i][0] + p[i][1]));
      expect(Array.from(await y.data())).toEqual(padRef(Array.from(await x.data()), shape, p, -1));
    });
  }
  it("a 5-D slice's gradient is ones on the slice, zeros elsewhere", async () => {
    const x = iota([2, 3, 2, 2, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(t, [0, 1, 0, 0, 1], [-1, 1, -1, -1, 1])))(
      x,
    );
    const d = await g.data();
    const want = Array.from({ length: 72 }, (_, i) =>
      Math.floor(i / 12) % 3 === 1 && i % 3 === 1 ? 1 : 0,
    );
    expect(Array.from(d)).toEqual(want);
  });
});
