import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { allValues, randomParams } from '../test/params';
import { mulberry32, type Pixel64 } from '../test/reference64';
import { logProb } from './logProb';
import { disposeMixtureParams, type MixtureParams } from './mixtureParams';
import { sampleMixture } from './sampleMixture';

/** Repeat batch-[1] params n times along a new leading batch axis -> batch [n]. */
function tileParams(p: MixtureParams, n: number): MixtureParams {
  const t = (x: tf.Tensor) => tf.tile(x, [n, ...x.shape.slice(1).map(() => 1)]);
  return { logits: t(p.logits), locs: t(p.locs), scales: t(p.scales), coeffs: t(p.coeffs) };
}

/** Wilson-Hilferty approximation of the chi-square quantile for z standard deviations. */
function chiSquareQuantile(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Pearson chi-square of counts vs probabilities, cells with expectation < 5 pooled. */
function chiSquare(counts: number[], probs: number[], n: number): { stat: number; df: number } {
  let stat = 0;
  let cells = 0;
  let poolO = 0;
  let poolE = 0;
  counts.forEach((o, i) => {
    const e = probs[i] * n;
    if (e < 5) {
      poolO += o;
      poolE += e;
    } else {
      stat += (o - e) ** 2 / e;
      cells++;
    }
  });
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / Math.max(poolE, 1e-9);
    cells++;
  }
  return { stat, df: cells - 1 };
}

/** float64 reference of one noise-driven draw (plain JS). */
function sampleRef(
  px: Pixel64,
  uMix: number[],
  uLog: number[],
  o: { low: number; high: number; temperature: number; coupling: 'grid' | 'continuous' },
): { x: number[]; v: number[] } {
  const L = o.high - o.low;
  const K = px.logits.length;
  const C = px.locs[0].length;
  let k = 0;
  let best = -Infinity;
  for (let i = 0; i < K; i++) {
    const s = px.logits[i] / o.temperature - Math.log(-Math.log(uMix[i]));
    if (s > best) {
      best = s;
      k = i;
    }
  }
  const x: number[] = [];
  const v: number[] = [];
  const fed: number[] = [];
  for (let c = 0; c < C; c++) {
    let mu = px.locs[k][c];
    for (let j = 0; j < c; j++) mu += px.coeffs[k][(c * (c - 1)) / 2 + j] * fed[j];
    const u = uLog[c];
    const xc = Math.min(1, Math.max(-1, mu + px.scales[k][c] * (Math.log(u) - Math.log1p(-u))));
    const vc = Math.min(o.high, Math.max(o.low, Math.floor(((xc + 1) * L) / 2 + o.low + 0.5)));
    x.push(xc);
    v.push(vc);
    fed.push(o.coupling === 'grid' ? (2 * (vc - o.low)) / L - 1 : xc);
  }
  return { x, v };
}

describeBackends('sampleMixture', () => {
  it('returns [..., C] continuous in [-1, 1] and integer values in [low, high]', async () => {
    const { p } = randomParams(51, [4, 5], 3, 3, 'extreme');
    for (const [low, high] of [
      [0, 255],
      [0, 1],
      [-5, 10],
    ]) {
      const { continuous, values } = sampleMixture(p, { low, high, seed: 1 });
      expect(continuous.shape).toEqual([4, 5, 3]);
      expect(values.shape).toEqual([4, 5, 3]);
      expect(values.dtype).toBe('float32');
      const c = await continuous.data();
      const v = await values.data();
      expect(c.every((y) => y >= -1 && y <= 1)).toBe(true);
      expect(v.every((y) => Number.isInteger(y) && y >= low && y <= high)).toBe(true);
    }
    disposeMixtureParams(p);
  });

  it('same seed gives the same samples; another seed others', async () => {
    const { p } = randomParams(52, [50], 4, 3);
    const a = sampleMixture(p, { seed: 7 });
    const b = sampleMixture(p, { seed: 7 });
    const c = sampleMixture(p, { seed: 8 });
    expect(Array.from(await a.continuous.data())).toEqual(Array.from(await b.continuous.data()));
    expect(Array.from(await a.values.data())).toEqual(Array.from(await b.values.data()));
    expect(Array.from(await a.values.data())).not.toEqual(Array.from(await c.values.data()));
    disposeMixtureParams(p);
  });

  it('with caller noise is deterministic and equals a float64 JS reference', async () => {
    const N = 200;
    const K = 4;
    const C = 3;
    const { p, pixels } = randomParams(53, [N], K, C, 'extreme');
    const rng = mulberry32(99);
    const uMix = Array.from({ length: N * K }, () => Math.fround(rng()));
    const uLog = Array.from({ length: N * C }, () => Math.fround(rng()));
    const noise = { mix: tf.tensor2d(uMix, [N, K]), logistic: tf.tensor2d(uLog, [N, C]) };
    for (const coupling of ['grid', 'continuous'] as const) {
      for (const [low, high, temperature] of [
        [0, 255, 1],
        [0, 3, 0.7],
      ]) {
        const s1 = sampleMixture(p, { noise, coupling, low, high, temperature });
        const s2 = sampleMixture(p, { noise, coupling, low, high, temperature, seed: 123 });
        const c1 = await s1.continuous.data();
        const v1 = await s1.values.data();
        expect(Array.from(await s2.continuous.data())).toEqual(Array.from(c1));
        let mismatches = 0;
        for (let n = 0; n < N; n++) {
          const ref = sampleRef(
            pixels[n],
            uMix.slice(n * K, n * K + K),
            uLog.slice(n * C, n * C + C),
            {
              low,
              high,
              temperature,
              coupling,
            },
          );
          for (let c = 0; c < C; c++) {
            const i = n * C + c;
            if (v1[i] !== ref.v[c] || Math.abs(c1[i] - ref.x[c]) > 1e-4) mismatches++;
          }
        }
        // float32 vs float64 may only disagree on a draw that lands within rounding of a bin edge
        expect(mismatches, `${coupling} ${low}..${high}`).toBeLessThanOrEqual(1);
      }
    }
    disposeMixtureParams(p);
  });

  it('one component (K = 1, as in TFP tests: tfjs oneHot needs depth >= 2) equals the reference', async () => {
    const N = 50;
    const C = 3;
    const { p, pixels } = randomParams(54, [N], 1, C);
    const rng = mulberry32(98);
    const uMix = Array.from({ length: N }, () => Math.fround(rng()));
    const uLog = Array.from({ length: N * C }, () => Math.fround(rng()));
    const noise = { mix: tf.tensor2d(uMix, [N, 1]), logistic: tf.tensor2d(uLog, [N, C]) };
    const s = sampleMixture(p, { noise, low: 0, high: 255 });
    const v = await s.values.data();
    let mismatches = 0;
    for (let n = 0; n < N; n++) {
      const ref = sampleRef(pixels[n], [uMix[n]], uLog.slice(n * C, n * C + C), {
        low: 0,
        high: 255,
        temperature: 1,
        coupling: 'grid',
      });
      for (let c = 0; c < C; c++) if (v[n * C + c] !== ref.v[c]) mismatches++;
    }
    expect(mismatches).toBeLessThanOrEqual(1);
    tf.dispose([noise.mix, noise.logistic, s.values, s.continuous]);
    disposeMixtureParams(p);
  });

  it('empirical frequencies match the pmf (chi-square, C = 1, 16 levels)', async () => {
    const n = 20000;
    for (const seed of [61, 62]) {
      const { p } = randomParams(seed, [1], 3, 1);
      const pmf = Array.from(
        await tf
          .exp(logProb(p, tf.tensor(allValues(1, 0, 15).flat(), [16, 1]), { high: 15 }))
          .data(),
      );
      const tiled = tileParams(p, n);
      const v = await sampleMixture(tiled, { high: 15, seed }).values.data();
      const counts = new Array(16).fill(0);
      for (const x of v) counts[x]++;
      const { stat, df } = chiSquare(counts, pmf, n);
      expect(stat).toBeLessThan(chiSquareQuantile(df, 3.72)); // p = 1e-4
      disposeMixtureParams(p);
    }
  });

  it('empirical frequencies match the joint pmf of coupled channels (C = 3, 64 cells)', async () => {
    const n = 20000;
    const { p: p0 } = randomParams(63, [1], 2, 3);
    // strong coupling, bins of width 2/3: feeding back continuous draws would be visibly wrong
    const p: MixtureParams = { ...p0, coeffs: tf.mul(tf.sign(p0.coeffs), 0.9) };
    const cells = allValues(3, 0, 3);
    const pmf = Array.from(await tf.exp(logProb(p, tf.tensor2d(cells), { high: 3 })).data());
    const tiled = tileParams(p, n);
    const cellOf = (v: Float32Array | Int32Array | Uint8Array, i: number) =>
      v[i * 3] * 16 + v[i * 3 + 1] * 4 + v[i * 3 + 2];
    const stats: Record<string, { stat: number; df: number }> = {};
    for (const coupling of ['grid', 'continuous'] as const) {
      const v = await sampleMixture(tiled, { high: 3, seed: 5, coupling }).values.data();
      const counts = new Array(64).fill(0);
      for (let i = 0; i < n; i++) counts[cellOf(v, i)]++;
      stats[coupling] = chiSquare(counts, pmf, n);
    }
    const q = chiSquareQuantile(stats.grid.df, 3.72);
    expect(stats.grid.stat).toBeLessThan(q);
    // the test has power: TFP/PixelCNN++-style continuous coupling does not follow logProb's pmf
    expect(stats.continuous.stat).toBeGreaterThan(chiSquareQuantile(stats.continuous.df, 3.72));
    disposeMixtureParams(p0);
  });

  it('temperature: component frequencies follow softmax(logits / T); T = 0 takes the argmax', async () => {
    const n = 20000;
    // two well separated narrow components: the value reveals the component
    const p: MixtureParams = {
      logits: tf.tensor2d([[0, 1.5]]),
      locs: tf.tensor3d([[[-0.8], [0.8]]]),
      scales: tf.fill([1, 2, 1], 0.01),
      coeffs: tf.zeros([1, 2, 0]),
    };
    const tiled = tileParams(p, n);
    for (const T of [0.5, 1, 2]) {
      const v = await sampleMixture(tiled, { seed: 3, temperature: T }).values.data();
      const frac = v.filter((x) => x > 127).length / n;
      const want = 1 / (1 + Math.exp(-1.5 / T));
      expect(Math.abs(frac - want)).toBeLessThan(4 * Math.sqrt((want * (1 - want)) / n));
    }
    const v0 = await sampleMixture(tiled, { seed: 3, temperature: 0 }).values.data();
    expect(v0.every((x) => x > 127)).toBe(true);
    // scaleTemperature 0: the (coupled) mean of the chosen component, snapped
    const { continuous } = sampleMixture(p, { temperature: 0, scaleTemperature: 0 });
    expect((await continuous.data())[0]).toBeCloseTo(0.8, 6);
    // scaleTemperature < 1 shrinks the spread
    const wide = await sampleMixture(tileParams({ ...p, scales: tf.fill([1, 2, 1], 0.2) }, 4000), {
      seed: 4,
      temperature: 0,
    }).continuous.data();
    const narrow = await sampleMixture(
      tileParams({ ...p, scales: tf.fill([1, 2, 1], 0.2) }, 4000),
      {
        seed: 4,
        temperature: 0,
        scaleTemperature: 0.25,
      },
    ).continuous.data();
    const spread = (a: ArrayLike<number>) =>
      Math.sqrt(Array.from(a).reduce((s, x) => s + (x - 0.8) ** 2, 0) / a.length);
    expect(spread(narrow)).toBeLessThan(0.5 * spread(wide));
  });

  it('property: samples are integers in [low, high] for any range and params', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 }),
        async (seed, low, L, C) => {
          const values = tf.tidy(() => {
            const { p } = randomParams(seed, [30], 3, C, 'extreme');
            return sampleMixture(p, { low, high: low + L, seed }).values;
          });
          const v = await values.data();
          values.dispose();
          expect(v.every((x) => Number.isInteger(x) && x >= low && x <= low + L)).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('rejects bad options and noise with clear messages', async () => {
    const { p } = randomParams(54, [2], 3, 3);
    expect(() => sampleMixture(p, { temperature: -1 })).toThrow(
      'Error in sampleMixture: temperature must be a finite number >= 0, got -1',
    );
    expect(() => sampleMixture(p, { scaleTemperature: Number.NaN })).toThrow(
      'Error in sampleMixture: scaleTemperature must be a finite number >= 0, got NaN',
    );
    expect(() => sampleMixture(p, { coupling: 'soft' as 'grid' })).toThrow(
      "Error in sampleMixture: coupling must be 'grid' or 'continuous', got 'soft'",
    );
    expect(() => sampleMixture(p, { seed: Number.NaN })).toThrow(
      'Error in sampleMixture: seed must be a finite number, got NaN',
    );
    expect(() => sampleMixture(p, { low: 1, high: 0 })).toThrow(
      'Error in sampleMixture: high must be > low, got low=1, high=0',
    );
    expect(() =>
      sampleMixture(p, { noise: { mix: tf.zeros([2, 2]), logistic: tf.zeros([2, 3]) } }),
    ).toThrow(
      'Error in sampleMixture: noise.mix must be [2, 3] (params logits [2, 3], locs [2, 3, 3]), got [2, 2]',
    );
    // Noise outside [0, 1] is not read back (no synchronous read): those pixels draw NaN.
    const bad = sampleMixture(p, {
      noise: {
        mix: tf.tensor2d([0.5, 0.5, 0.5, 0.5, -0.1, 0.5], [2, 3]),
        logistic: tf.tensor2d([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [2, 3]),
      },
    });
    const got = Array.from(await bad.values.data());
    expect(got.slice(0, 3).every(Number.isInteger)).toBe(true);
    expect(got.slice(3).every(Number.isNaN)).toBe(true);
    expect((await bad.continuous.data()).slice(3).every(Number.isNaN)).toBe(true);
    const halfBad = sampleMixture(p, {
      noise: {
        mix: tf.fill([2, 3], 0.5),
        logistic: tf.tensor2d([0.5, 0.5, 0.5, 0.5, 1.5, 0.5], [2, 3]),
      },
    });
    expect(Array.from(await halfBad.values.data()).map(Number.isNaN)).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    const unchecked = sampleMixture(p, {
      noise: { mix: tf.fill([2, 3], 0.5), logistic: tf.fill([2, 3], 0.5) },
      validate: false,
    });
    // the same draws where the noise is fine
    expect(Array.from(await unchecked.values.data()).slice(0, 3)).toEqual(got.slice(0, 3));
    expect(() => sampleMixture({ ...p, locs: tf.zeros([2, 3, 2]) })).toThrow(
      'Error in sampleMixture: params disagree',
    );
    disposeMixtureParams(p);
  });
});
