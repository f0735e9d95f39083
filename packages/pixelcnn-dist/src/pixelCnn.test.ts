import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { TINY } from '../test/tiny';
import { type PixelCNNConfig, TFP_NETWORK } from './config';
import { PixelCNN, samplingNoise } from './pixelCnn';

/**
 * TFP's PixelCnnTest / ConditionalPixelCnnTest (pixel_cnn_test.py), ported: 8x8x3 images with
 * values 0..10, batch (2,), 2 hierarchies; small sizes so the cpu backend stays fast.
 */
const H = 8;
const W = 8;
const C = 3;
const HIGH = 10;
const K = 2;
const BATCH = 2;

interface Variant {
  name: string;
  config: Partial<PixelCNNConfig>;
  /** A conditional input with batch shape [BATCH] (or undefined). */
  cond?: () => tf.Tensor;
  /** What to pass to sample for a sample shape [n, ...cb]. */
  sampleCond?: () => tf.Tensor;
}

const VARIANTS: Variant[] = [
  { name: 'unconditional', config: {} },
  {
    name: 'conditional vector',
    config: { conditionalShape: [5] },
    cond: () => tf.tensor2d([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [BATCH, 5]),
  },
  {
    name: 'scalar conditional (raw float, as TFP)',
    config: { conditionalShape: [] },
    cond: () => tf.tensor1d([5, 2]),
  },
  {
    name: 'scalar label, one-hot (numClasses)',
    config: { conditionalShape: [], numClasses: 3 },
    cond: () => tf.tensor1d([0, 2]),
  },
];

function makeDist(v: Variant, extra: Partial<PixelCNNConfig> = {}): PixelCNN {
  return new PixelCNN({
    imageShape: [H, W, C],
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 4,
    numLogisticMix: K,
    high: HIGH,
    useWeightNorm: false,
    useDataInit: false,
    seed: 3,
    ...v.config,
    ...extra,
  });
}

/** Deterministic pseudo-random integer images [n, H, W, C] in 0..HIGH. */
function fakeImages(n: number, seed = 1): tf.Tensor4D {
  const data = new Float32Array(n * H * W * C);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = s % (HIGH + 1);
  }
  return tf.tensor4d(data, [n, H, W, C]);
}

/**
 * TFP's _get_single_pixel_logit_gradients: gradient of one network output w.r.t. the (raw) input
 * images [BATCH, H, W, C]. `which` 'loc' is the green mean after channel coupling with the red
 * input (TFP's _apply_channel_conditioning), 'scale' a scale, 'logit' a component logit.
 */
async function outputGradient(
  dist: PixelCNN,
  cond: tf.Tensor | undefined,
  which: 'loc' | 'scale' | 'logit',
  r: number,
  c: number,
  k: number,
  ch: number,
): Promise<Float32Array> {
  const images = fakeImages(BATCH, 7);
  const g = tf.grad((x: tf.Tensor) => {
    const p = dist.networkOutput(x, { conditionalInput: cond });
    const pick = (t: tf.Tensor, tail: number[]) =>
      tf.reshape(tf.slice(t, [0, r, c, ...tail], [1, 1, 1, ...tail.map(() => 1)]), []);
    if (which === 'logit') return pick(p.logits, [k]);
    if (which === 'scale') return pick(p.scales, [k, ch]);
    // coupled mean of channel ch (1 = green): loc + sum_{j<ch} coeff * x_j (x scaled to [-1, 1])
    const xs = tf.sub(tf.mul(x, 2 / HIGH), 1);
    let mu = pick(p.locs, [k, ch]);
    for (let j = 0; j < ch; j++) {
      const coeff = pick(p.coeffs, [k, (ch * (ch - 1)) / 2 + j]);
      const xj = tf.reshape(tf.slice(xs, [0, r, c, j], [1, 1, 1, 1]), []);
      mu = tf.add(mu, tf.mul(coeff, xj));
    }
    return mu;
  })(images);
  const out = (await g.data()) as Float32Array;
  tf.dispose([images, g]);
  return out;
}

const at = (g: Float32Array, b: number, r: number, c: number, ch: number) =>
  g[((b * H + r) * W + c) * C + ch];

/** TFP's _grads_assertions, plus: raster-order zeros/non-zeros and no batch cross-talk. */
function expectAutoregressive(g: Float32Array, i: number, j: number): void {
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      for (let ch = 0; ch < C; ch++) {
        const v = at(g, 0, r, c, ch);
        if (r > i || (r === i && c > j))
          expect(v, `pixel (${r},${c},${ch}) after (${i},${j})`).toBe(0);
        else if (r < i || c < j)
          expect(v, `pixel (${r},${c},${ch}) before (${i},${j})`).not.toBe(0);
        expect(at(g, 1, r, c, ch), 'dependence across the batch').toBe(0);
      }
    }
  }
}

for (const v of VARIANTS) {
  describeBackends(`PixelCNN (TFP tests, ${v.name})`, () => {
    it('log_prob has the batch shape, is finite, and 0 < p <= 1', async () => {
      const dist = makeDist(v);
      const images = fakeImages(BATCH);
      const cond = v.cond?.();
      const lp = dist.logProb(images, { conditionalInput: cond });
      expect(lp.shape).toEqual([BATCH]);
      expect(lp.dtype).toBe('float32');
      for (const x of await lp.data()) {
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeLessThanOrEqual(0);
      }
      dist.dispose();
    });

    it('network output shapes (testNetworkOutputShapes)', () => {
      const dist = makeDist(v);
      const images = fakeImages(BATCH);
      const p = dist.networkOutput(images, { conditionalInput: v.cond?.() });
      expect(p.logits.shape).toEqual([BATCH, H, W, K]);
      expect(p.locs.shape).toEqual([BATCH, H, W, K, C]);
      expect(p.scales.shape).toEqual([BATCH, H, W, K, C]);
      expect(p.coeffs.shape).toEqual([BATCH, H, W, K, (C * (C - 1)) / 2]);
      expect(dist.rawOutput(images, { conditionalInput: v.cond?.() }).shape).toEqual([
        BATCH,
        H,
        W,
        K * (1 + 2 * C + 3),
      ]);
      dist.dispose();
    });

    it('is autoregressive at initialisation, before any training (testAutoregression)', async () => {
      // TFP only passes this after model.fit, when its kernel constraints have run.
      const dist = makeDist(v, { useWeightNorm: true });
      const cond = v.cond?.();
      // green mean at (2, 3): depends on red of the same pixel, not on green/blue
      const g = await outputGradient(dist, cond, 'loc', 2, 3, 0, 1);
      expectAutoregressive(g, 2, 3);
      expect(at(g, 0, 2, 3, 0)).not.toBe(0);
      expect(at(g, 0, 2, 3, 1)).toBe(0);
      expect(at(g, 0, 2, 3, 2)).toBe(0);
      // the red mean depends on nothing of its own pixel
      const red = await outputGradient(dist, cond, 'loc', 2, 3, 0, 0);
      expectAutoregressive(red, 2, 3);
      for (let ch = 0; ch < C; ch++) expect(at(red, 0, 2, 3, ch)).toBe(0);
      // scales and logits
      const s = await outputGradient(dist, cond, 'scale', 2, 2, 0, 1);
      expectAutoregressive(s, 2, 2);
      for (let ch = 0; ch < C; ch++) expect(at(s, 0, 2, 2, ch)).toBe(0);
      const l = await outputGradient(dist, cond, 'logit', 3, 3, 1, 0);
      expectAutoregressive(l, 3, 3);
      dist.dispose();
    });

    it('sample: shape, range, <= high+1 distinct integer values, float32, seed reproducibility', async () => {
      // 4x4 images: sampling is H*W sequential passes, keep it short on the cpu backend
      const dist = makeDist(v, { imageShape: [4, 4, C] });
      const cond = v.cond?.();
      const shape = cond ? [2, BATCH] : [2];
      const s1 = await dist.sample(shape, { conditionalInput: cond, seed: 11 });
      expect(s1.shape).toEqual([...shape, 4, 4, C]);
      expect(s1.dtype).toBe('float32');
      const d1 = await s1.data();
      const distinct = new Set(d1);
      expect(distinct.size).toBeLessThanOrEqual(HIGH + 1);
      for (const x of d1) {
        expect(Number.isInteger(x) && x >= 0 && x <= HIGH).toBe(true);
      }
      const s2 = await dist.sample(shape, { conditionalInput: cond, seed: 11 });
      expect(Array.from(await s2.data())).toEqual(Array.from(d1));
      const s3 = await dist.sample(shape, { conditionalInput: cond, seed: 12 });
      expect(Array.from(await s3.data())).not.toEqual(Array.from(d1));
      dist.dispose();
    });
  });
}

describeBackends('PixelCNN autoregression (property over pixels, channels and outputs)', () => {
  it('every output has zero gradient w.r.t. inputs at or after its pixel', async () => {
    const dist = makeDist(VARIANTS[0], { useWeightNorm: true });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: H - 1 }),
        fc.integer({ min: 0, max: W - 1 }),
        fc.constantFrom('loc' as const, 'scale' as const, 'logit' as const),
        fc.integer({ min: 0, max: C - 1 }),
        async (r, c, which, ch) => {
          const g = await outputGradient(dist, undefined, which, r, c, 1, ch);
          for (let rr = 0; rr < H; rr++) {
            for (let cc = 0; cc < W; cc++) {
              for (let k = 0; k < C; k++) {
                const later = rr > r || (rr === r && cc > c);
                const samePixelAllowed = rr === r && cc === c && which === 'loc' && k < ch;
                if (later || (rr === r && cc === c && !samePixelAllowed)) {
                  expect(at(g, 0, rr, cc, k)).toBe(0);
                }
                expect(at(g, 1, rr, cc, k)).toBe(0);
              }
            }
          }
        },
      ),
      { numRuns: 12, seed: 5 },
    );
    dist.dispose();
  });
});

/** All 2^n binary images [2^n, h, w, c]. */
function allBinaryImages(h: number, w: number, c: number): tf.Tensor4D {
  const n = h * w * c;
  const data = new Float32Array(2 ** n * n);
  for (let i = 0; i < 2 ** n; i++) {
    for (let b = 0; b < n; b++) data[i * n + b] = (i >> b) & 1;
  }
  return tf.tensor4d(data, [2 ** n, h, w, c]);
}

async function totalProbability(
  dist: PixelCNN,
  images: tf.Tensor,
  cond?: tf.TensorLike,
): Promise<number> {
  const lp = dist.logProb(images, { conditionalInput: cond });
  let sum = 0;
  for (const x of await lp.data()) sum += Math.exp(x);
  return sum;
}

describeBackends('PixelCNN joint normalisation', () => {
  const tiny = (o: Partial<PixelCNNConfig>) =>
    new PixelCNN({
      imageShape: [2, 2, 1],
      high: 1,
      low: 0,
      numResnet: 1,
      numHierarchies: 2,
      numFilters: 4,
      numLogisticMix: 3,
      seed: 9,
      ...o,
    });

  it('2x2x1 binary: the 16 probabilities sum to 1 (unconditional, after data init)', async () => {
    const dist = tiny({});
    const images = allBinaryImages(2, 2, 1);
    expect(dist.initialize(images)).toBe(true);
    expect(Math.abs((await totalProbability(dist, images)) - 1)).toBeLessThan(1e-4);
    dist.dispose();
  });

  it('2x2x1 binary, conditional: sums to 1 for each condition', async () => {
    const dist = tiny({ conditionalShape: [3] });
    const images = allBinaryImages(2, 2, 1);
    for (const h of [
      [1, 0, -2],
      [0.5, 3, 1],
    ]) {
      expect(Math.abs((await totalProbability(dist, images, h)) - 1)).toBeLessThan(1e-4);
    }
    dist.dispose();
  });

  it('2x2x2 binary with coupled channels: the 256 probabilities sum to 1', async () => {
    const dist = tiny({ imageShape: [2, 2, 2], convention: 'pixelcnnpp' });
    const images = allBinaryImages(2, 2, 2);
    expect(Math.abs((await totalProbability(dist, images)) - 1)).toBeLessThan(1e-4);
    dist.dispose();
  });
});

describeBackends('PixelCNN data-dependent init', () => {
  it('gives head outputs with mean 0 and variance 1 per channel on the init batch', async () => {
    const dist = new PixelCNN({ ...TINY, high: 255, seed: 4 });
    const images = tf.tidy(() => tf.floor(tf.randomUniform([4, 4, 4, 1], 0, 256, 'float32', 2)));
    expect(dist.initialized).toBe(false);
    expect(dist.initialize(images)).toBe(true);
    expect(dist.initialized).toBe(true);
    expect(dist.initialize(images)).toBe(false); // once
    const raw = dist.rawOutput(images); // [4, 4, 4, P]
    const { mean, variance } = tf.moments(tf.reshape(raw, [-1, raw.shape[3]!]), 0);
    for (const m of await mean.data()) expect(Math.abs(m)).toBeLessThan(1e-4);
    for (const s of await variance.data()) expect(Math.abs(s - 1)).toBeLessThan(1e-3);
    dist.dispose();
  });
});

describeBackends('PixelCNN validation', () => {
  it('throws clear errors', async () => {
    const dist = makeDist(VARIANTS[1]);
    const images = fakeImages(BATCH);
    // Pixel values are not read (no synchronous read): an image with a bad pixel has log-prob NaN.
    const bad = tf.concat([tf.fill([1, H, W, C], 11), images.slice([1], [1])]);
    const lpBad = Array.from(await dist.logProb(bad, { conditionalInput: tf.zeros([5]) }).data());
    expect(Number.isNaN(lpBad[0])).toBe(true);
    expect(Number.isFinite(lpBad[1])).toBe(true);
    expect(() => dist.logProb(images, { conditionalInput: tf.zeros([BATCH, 4]) })).toThrow(
      'Error in logProb: conditionalInput must have shape [...batch, 5] (conditionalShape [5]), got [2, 4]',
    );
    expect(() =>
      dist.logProb(tf.zeros([BATCH, H, W, 1]), { conditionalInput: tf.zeros([5]) }),
    ).toThrow(/expected images of shape \[\.\.\., 8, 8, 3\]/);
    await expect(dist.sample(0, { conditionalInput: tf.zeros([5]) })).rejects.toThrow(
      'Error in sample: n must be an integer >= 1',
    );
    await expect(dist.sample(2, { conditionalInput: tf.zeros([3]) })).rejects.toThrow(
      /Error in sample: conditionalInput must have shape \[\.\.\.batch, 5\]/,
    );
    await expect(dist.sample(2, {})).rejects.toThrow(/pass conditionalInput/);
    await expect(
      dist.sample(2, { conditionalInput: tf.zeros([5]), sampler: 'turbo' }),
    ).rejects.toThrow("Error in sample: unknown sampler 'turbo'; known: cached, naive");
    dist.dispose();
    expect(() => dist.logProb(images)).toThrow('Error in logProb: this PixelCNN was disposed');
    expect(() => new PixelCNN({ imageShape: [7, 7, 1], numHierarchies: 2 })).toThrow(
      /divisible by 2\^\(numHierarchies-1\) = 2/,
    );
  });
});

describeBackends('PixelCNN TFP semantics (issue 16)', () => {
  const small = (o: Partial<PixelCNNConfig> = {}) =>
    new PixelCNN({
      ...TINY,
      seed: 8,
      ...o,
    });

  it('initialises as TFP: v ~ glorot_uniform over the masked kernel, g = ||v||, b = 0', async () => {
    for (const useWeightNorm of [false, true]) {
      const dist = small({ numFilters: 16, useWeightNorm, useDataInit: false });
      const named = new Map(dist.namedVariables().map((n) => [n.name, n.variable]));
      // conv1 of a vertical gated resnet: TFP kernel (2 rows - 3, cols) = 3x3, in 2F (concat_elu), out F
      const v = named.get('down0/resnet0/vertical/conv1/v')!;
      expect(v.shape).toEqual([2, 3, 32, 16]); // ours: only the 2x3 unmasked part
      const limit = Math.sqrt(6 / (9 * 32 + 9 * 16));
      const data = await v.data();
      let sq = 0;
      for (const x of data) {
        expect(Math.abs(x)).toBeLessThanOrEqual(limit);
        sq += x * x;
      }
      // variance of U(-l, l) is l^2 / 3 (3072 draws: within 10%)
      expect(sq / data.length / ((limit * limit) / 3)).toBeGreaterThan(0.9);
      expect(sq / data.length / ((limit * limit) / 3)).toBeLessThan(1.1);
      expect(Array.from(await named.get('down0/resnet0/vertical/conv1/b')!.data())).toEqual(
        new Array(16).fill(0),
      );
      const g = named.get('down0/resnet0/vertical/conv1/g');
      expect(g !== undefined).toBe(useWeightNorm);
      if (g) {
        const norms = await tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), [0, 1, 2]))).data();
        const gs = await g.data();
        for (let o = 0; o < 16; o++) expect(gs[o]).toBeCloseTo(norms[o], 5);
      }
      dist.dispose();
    }
  });

  it('logProb with validate: false floors values and gives -inf outside [low, high]; prob = exp', async () => {
    const dist = small({ useWeightNorm: false });
    const base = tf.tidy(() => tf.floor(tf.randomUniform([3, 4, 4, 1], 0, 4, 'float32', 3)));
    const shifted = tf.tidy(() => tf.add(base, 0.6)); // floors back to base
    const bad = tf.tidy(() =>
      tf.concat([tf.fill([1, 4, 4, 1], 7), tf.fill([1, 4, 4, 1], -1), tf.slice(base, 2, 1)]),
    );
    const ref = await dist.logProb(base).data();
    const floored = await dist.logProb(shifted, { validate: false }).data();
    for (let i = 0; i < 3; i++) expect(floored[i]).toBeCloseTo(ref[i], 4);
    const out = await dist.logProb(bad, { validate: false }).data();
    expect([out[0], out[1]]).toEqual([-Infinity, -Infinity]);
    expect(out[2]).toBeCloseTo(ref[2], 4);
    const p = await dist.prob(base).data();
    for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(Math.exp(ref[i]), 6);
    // with validate (the default): NaN for the bad images instead (no data read)
    const checked = await dist.logProb(bad).data();
    expect([Number.isNaN(checked[0]), Number.isNaN(checked[1])]).toEqual([true, true]);
    expect(checked[2]).toBeCloseTo(ref[2], 4);
    tf.dispose([base, shifted, bad]);
    dist.dispose();
  });

  it("sample() gives one [H, W, C] image; a conditional batch is tiled (TFP's rule)", async () => {
    const dist = small({ conditionalShape: [], numClasses: 3, useWeightNorm: false });
    const one = await dist.sample({ conditionalInput: 2, seed: 1 });
    expect(one.shape).toEqual([4, 4, 1]);
    const same = await dist.sample([], { conditionalInput: 2, seed: 1 });
    expect(Array.from(await same.data())).toEqual(Array.from(await one.data()));
    // the same noise for every sample: samples with the same condition are the same image
    const n1 = samplingNoise(dist.config, 1, 5);
    const noise = {
      mix: tf.tile(n1.mix, [6, 1, 1, 1]) as tf.Tensor4D,
      logistic: tf.tile(n1.logistic, [6, 1, 1, 1]) as tf.Tensor4D,
    };
    const six = await dist.sample(6, { conditionalInput: [0, 1, 2], noise });
    expect(six.shape).toEqual([6, 4, 4, 1]);
    const imgs = (await six.array()) as number[][][][];
    expect(imgs[3]).toEqual(imgs[0]); // conditions [0, 1, 2, 0, 1, 2]
    expect(imgs[4]).toEqual(imgs[1]);
    expect(imgs[5]).toEqual(imgs[2]);
    const shaped = await dist.sample([2, 3], { conditionalInput: [0, 1, 2], noise });
    expect(await shaped.array()).toEqual([imgs.slice(0, 3), imgs.slice(3)]);
    tf.dispose([n1.mix, n1.logistic, noise.mix, noise.logistic]);
    await expect(dist.sample(4, { conditionalInput: [0, 1, 2] })).rejects.toThrow(
      /4 samples \(sample shape \[4\]\) is not a multiple of the 3 conditional inputs/,
    );
    tf.dispose([one, same, six, shaped]);
    dist.dispose();
  });

  it("gateInitScale sets the data init's std of the gate conv; TFP_NETWORK is TFP's network", async () => {
    const images = tf.tidy(() => tf.floor(tf.randomUniform([4, 4, 4, 1], 0, 4, 'float32', 6)));
    const conv2 = async (o: Partial<PixelCNNConfig>) => {
      const dist = small(o);
      dist.initialize(images);
      const named = new Map(dist.namedVariables().map((n) => [n.name, n.variable]));
      // the first block's gate conv: its input does not depend on the scale
      const g = await named.get('down0/resnet0/vertical/conv2/g')!.data();
      const b = await named.get('down0/resnet0/vertical/conv2/b')!.data();
      const inputs = dist.plan.inputChannels;
      dist.dispose();
      return { g, b, inputs };
    };
    const ours = await conv2({ constantChannel: true, gateInitScale: 0.1 }); // PixelCNN++'s
    const tfp = await conv2(TFP_NETWORK);
    const tfpGates = await conv2({ constantChannel: true, gateInitScale: 1 });
    const defaults = await conv2({});
    expect(ours.inputs).toBe(2); // C + the ones channel
    expect(tfp.inputs).toBe(1); // TFP: the image only
    expect(defaults).toEqual(tfp); // the defaults are TFP's network
    for (let i = 0; i < ours.g.length; i++) {
      expect(tfpGates.g[i] / ours.g[i]).toBeCloseTo(10, 3);
      expect(tfpGates.b[i] / ours.b[i]).toBeCloseTo(10, 3);
    }
    expect(() => small({ gateInitScale: 0 })).toThrow(
      'Error in PixelCNN: gateInitScale must be a positive number, got 0',
    );
    images.dispose();
  });

  it("takes TFP's name option (default 'PixelCNN'), kept in saved files", async () => {
    const a = small();
    expect(a.name).toBe('PixelCNN');
    const b = small({ name: 'digits' });
    expect(b.name).toBe('digits');
    const c = PixelCNN.fromArtifacts(await b.toArtifacts());
    expect(c.name).toBe('digits');
    expect(() => small({ name: '' })).toThrow(
      'Error in PixelCNN: name must be a non-empty string, got ""',
    );
    for (const d of [a, b, c]) d.dispose();
  });
});
