import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { PixelCNNConfig } from '../config';
import { prepareSampleConditional } from '../inputs';
import { PixelCNN, samplingNoise } from '../pixelCnn';
import { IncrementalNetwork } from './incrementalNetwork';
import type { PixelProgress } from './types';

/**
 * Small networks covering every code path of the incremental network. `webgpu`: smaller images for
 * the two 3-hierarchy networks there. On a software adapter (SwiftShader, here and in CI) each
 * pixel of the cached sampler costs ~0.3-0.6 s (a CPU emulating hundreds of tiny dispatches), and
 * at 8x8 and 8x12 these tests ran past 2 minutes. 8x4 keeps every path (3 hierarchies down to
 * 2x1, 3 channels with the constant channel, a receptive window wider than the image) at half and
 * a third of the pixels. Not 4 rows: the deepest hierarchy would have one row, whose vertical
 * stream sees only padding, and data init's scale 1/std of that constant blows outputs up to 1e35.
 */
const CONFIGS: Array<{
  name: string;
  config: PixelCNNConfig;
  cond?: () => tf.Tensor;
  webgpu?: Partial<PixelCNNConfig>;
}> = [
  {
    name: '1 hierarchy, 2 channels',
    config: { imageShape: [4, 5, 2], numHierarchies: 1, numResnet: 2, high: 7 },
  },
  {
    name: '2 hierarchies, vector conditional',
    config: { imageShape: [6, 4, 1], numHierarchies: 2, conditionalShape: [3] },
    cond: () => tf.tensor2d([0.5, -1, 2, 1, 0, -0.3, 0, 0, 1], [3, 3]),
  },
  {
    name: '3 hierarchies, 3 channels, constant channel',
    config: {
      imageShape: [8, 8, 3],
      numHierarchies: 3,
      numResnet: 1,
      high: 15,
      constantChannel: true,
    },
    webgpu: { imageShape: [8, 4, 3] },
  },
  {
    name: '3 hierarchies, scalar labels, wide and tall windows',
    config: {
      imageShape: [8, 12, 1],
      numHierarchies: 3,
      numResnet: 1,
      receptiveFieldDims: [4, 5],
      conditionalShape: [],
      numClasses: 4,
    },
    cond: () => tf.tensor1d([3, 0, 1]),
    webgpu: { imageShape: [8, 4, 1] },
  },
  {
    name: 'elu, no weight norm, no constant channel, pixelcnnpp head',
    config: {
      imageShape: [4, 4, 3],
      numHierarchies: 2,
      resnetActivation: 'elu',
      useWeightNorm: false,
      constantChannel: false,
      convention: 'pixelcnnpp',
    },
  },
  {
    name: 'relu, 2 rows of context',
    config: {
      imageShape: [4, 6, 1],
      numHierarchies: 2,
      resnetActivation: 'relu',
      receptiveFieldDims: [2, 3],
    },
  },
];

function build(config: PixelCNNConfig, n: number, cond?: () => tf.Tensor) {
  const dist = new PixelCNN({ numFilters: 6, numLogisticMix: 2, numResnet: 1, seed: 5, ...config });
  const [H, W, C] = dist.eventShape;
  const { low, high } = dist.config;
  const images = tf.tidy(() =>
    tf.floor(tf.randomUniform([n, H, W, C], low, high + 1, 'float32', 17)),
  ) as tf.Tensor4D;
  const condInput = cond?.();
  // data-dependent init on a different batch, so activations are O(1) and the weights are not trivial
  const initBatch = tf.tidy(() =>
    tf.floor(tf.randomUniform([n, H, W, C], low, high + 1, 'float32', 3)),
  );
  dist.initialize(initBatch, { conditionalInput: condInput });
  initBatch.dispose();
  // random biases everywhere: O(1) activations in every layer (also without weight norm)
  for (const [i, { name, variable }] of dist.namedVariables().entries()) {
    if (name.endsWith('/b')) {
      tf.tidy(() =>
        variable.assign(tf.add(variable, tf.randomNormal(variable.shape, 0, 0.5, 'float32', i))),
      );
    }
  }
  const h = condInput ? prepareSampleConditional('test', [n], condInput, dist.config) : undefined;
  condInput?.dispose();
  return { dist, images, h };
}

/** The configuration a backend tests (see `CONFIGS`). */
const sized = (c: (typeof CONFIGS)[number], backend: string): PixelCNNConfig =>
  backend === 'webgpu' && c.webgpu ? { ...c.config, ...c.webgpu } : c.config;

describeBackends('incremental network (cached sampler)', ({ backend }) => {
  for (const c of CONFIGS) {
    const { cond } = c;
    const config = sized(c, backend);
    const name = `${c.name} (${config.imageShape?.join('x')})`;
    it(`gives the full network's output at every pixel: ${name}`, async () => {
      const n = 3;
      const { dist, images, h } = build(config, n, cond);
      const [H, W] = dist.eventShape;
      const { low, high } = dist.config;
      const net = dist.samplerNetwork();
      const scaled = tf.tidy(() =>
        tf.sub(tf.mul(tf.sub(images, low), 2 / (high - low)), 1),
      ) as tf.Tensor4D;
      const full = net.forward(scaled, h); // [n, H, W, P]
      const want = (await full.array()) as number[][][][];
      const inc = new IncrementalNetwork(net.params, n, h);
      let worst = 0;
      let scale = 0;
      for (let r = 0; r < H; r++) {
        inc.startRow(r);
        for (let c = 0; c < W; c++) {
          const raw = inc.pixel(r, c);
          const got = (await raw.array()) as number[][];
          raw.dispose();
          for (let b = 0; b < n; b++) {
            for (let k = 0; k < got[b].length; k++) {
              worst = Math.max(worst, Math.abs(got[b][k] - want[b][r][c][k]));
              scale = Math.max(scale, Math.abs(want[b][r][c][k]));
            }
          }
          const px = tf.tidy(() =>
            tf.reshape(tf.slice(scaled, [0, r, c, 0], [n, 1, 1, -1]), [n, -1]),
          );
          inc.feed(r, c, px as tf.Tensor2D);
          px.dispose();
        }
      }
      inc.dispose();
      tf.dispose([full, scaled, images, h]);
      dist.dispose();
      expect(scale).toBeGreaterThan(0.3); // outputs are not trivially small
      expect(worst).toBeLessThan(1e-4);
    });
  }

  it('refuses to read a position before it is computed', () => {
    const { dist, images, h } = build(CONFIGS[0].config, 1);
    const inc = new IncrementalNetwork(dist.params, 1);
    inc.startRow(0);
    tf.tidy(() => inc.pixel(0, 0));
    // pixel (0, 1) needs the input at (0, 0), which was never fed
    expect(() => inc.pixel(0, 1)).toThrow(
      'Error in cachedSampler: input row 0 read before it was computed (internal)',
    );
    inc.dispose();
    tf.dispose([images, h]);
    dist.dispose();
  });
});

describeBackends('cached sampler', ({ backend }) => {
  // The naive sampler runs the whole network once per pixel, twice here: on SwiftShader 24 and 32
  // pixels took 77 s and 103 s on the loaded 2-core box, near the default 2 minutes.
  const timeout = backend === 'webgpu' ? 600_000 : undefined;
  for (const i of [0, 1, 3]) {
    const { cond } = CONFIGS[i];
    const config = sized(CONFIGS[i], backend);
    const name = `${CONFIGS[i].name} (${config.imageShape?.join('x')})`;
    it(
      `draws the naive sampler's samples from the same noise: ${name}`,
      async () => {
        const n = 3;
        const { dist, images, h } = build(config, n, cond);
        tf.dispose([images, h]);
        const condInput = cond?.();
        for (const snapToGrid of [true, false]) {
          const noise = samplingNoise(dist.config, n, 9);
          const o = { noise, conditionalInput: condInput, snapToGrid };
          const naive = await dist.sample(n, { ...o, sampler: 'naive' });
          const cached = await dist.sample(n, { ...o, sampler: 'cached' });
          expect(Array.from(await cached.data())).toEqual(Array.from(await naive.data()));
          tf.dispose([naive, cached, noise.mix, noise.logistic]);
        }
        condInput?.dispose();
        dist.dispose();
      },
      timeout,
    );
  }

  it('reports pixels in raster order, can be aborted, and cleans up after an abort', async () => {
    const dist = new PixelCNN({
      imageShape: [4, 4, 1],
      numHierarchies: 2,
      numFilters: 4,
      numResnet: 1,
      seed: 2,
    });
    const seen: PixelProgress[] = [];
    const out = await dist.sample(2, {
      seed: 1,
      sampler: 'cached',
      onPixel: (p) => void seen.push(p),
    });
    expect(seen.map((p) => p.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const data = await out.data();
    for (const p of seen) {
      for (let b = 0; b < 2; b++) expect(p.values[b]).toBe(data[b * 16 + p.row * 4 + p.col]);
    }
    out.dispose();
    const ctl = new AbortController();
    const before = tf.memory().numTensors;
    await expect(
      dist.sample(1, {
        seed: 1,
        sampler: 'cached',
        signal: ctl.signal,
        onPixel: (p) => {
          if (p.index === 5) ctl.abort();
        },
      }),
    ).rejects.toThrow('Error in sample: aborted');
    expect(tf.memory().numTensors).toBe(before);
    dist.dispose();
  });
});
