import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { allValues, randomParams } from '../test/params';
import { binLogProb64, logSigmoid64, pixelLogProb64 } from '../test/reference64';
import { bitsPerDim, imageLogProb, logProb } from './logProb';
import { disposeMixtureParams, type MixtureParams, splitMixtureParams } from './mixtureParams';
import { checkValues } from './validate';

/** exp-sum of log-probs per row, in float64. */
function rowSums(lp: ArrayLike<number>, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(lp[r * cols + i]);
    return s;
  });
}

/** Params of batch [N] viewed as batch [N, 1] (to broadcast against values [1, M, C]). */
function expandBatch(p: MixtureParams): MixtureParams {
  return {
    logits: tf.expandDims(p.logits, 1),
    locs: tf.expandDims(p.locs, 1),
    scales: tf.expandDims(p.scales, 1),
    coeffs: tf.expandDims(p.coeffs, 1),
  };
}

/** PixelCNN++'s discretized_mix_logistic_loss per-subpixel log-prob (nn.py), float32, for comparison. */
function pixelcnnppLogProb(p: MixtureParams, x: tf.Tensor, low: number, high: number): tf.Tensor {
  return tf.tidy(() => {
    const L = high - low;
    const xs = tf.expandDims(tf.sub(tf.div(tf.mul(tf.sub(x, low), 2), L), 1), -2); // [..., 1, C]
    const C = x.shape[x.rank - 1];
    // C = 1 only here (no coupling needed for the comparison)
    if (C !== 1) throw new Error('pixelcnnppLogProb: C = 1 only');
    const logScales = tf.log(p.scales);
    const centered = tf.sub(xs, p.locs);
    const inv = tf.exp(tf.neg(logScales));
    const plusIn = tf.mul(inv, tf.add(centered, 1 / L));
    const minIn = tf.mul(inv, tf.sub(centered, 1 / L));
    const cdfDelta = tf.sub(tf.sigmoid(plusIn), tf.sigmoid(minIn));
    const logCdfPlus = tf.sub(plusIn, tf.softplus(plusIn));
    const logOneMinusCdfMin = tf.neg(tf.softplus(minIn));
    const midIn = tf.mul(inv, centered);
    const logPdfMid = tf.sub(tf.sub(midIn, logScales), tf.mul(tf.softplus(midIn), 2));
    const xb = tf.broadcastTo(
      xs,
      p.locs.shape.map((d, i) => Math.max(d, xs.shape[i])),
    );
    const lp = tf.where(
      tf.less(xb, -0.999),
      logCdfPlus,
      tf.where(
        tf.greater(xb, 0.999),
        logOneMinusCdfMin,
        tf.where(
          tf.greater(cdfDelta, 1e-5),
          tf.log(tf.maximum(cdfDelta, 1e-12)),
          tf.sub(logPdfMid, Math.log(L / 2)),
        ),
      ),
    );
    return tf.logSumExp(tf.add(tf.sum(lp, -1), tf.logSoftmax(p.logits, -1)), -1);
  });
}

describeBackends('logProb', () => {
  it('pmf over all 256 values sums to 1 for C = 1 (wide and extreme params)', async () => {
    for (const regime of ['wide', 'extreme'] as const) {
      const N = 8;
      const { p } = randomParams(11, [N], 5, 1, regime);
      const values = tf.tensor(allValues(1, 0, 255).flat(), [1, 256, 1]);
      const lp = logProb(expandBatch(p), values);
      expect(lp.shape).toEqual([N, 256]);
      for (const s of rowSums(await lp.data(), N, 256)) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
      disposeMixtureParams(p);
    }
  });

  it('pmf over all 512 triples sums to 1 for C = 3, high = 7 (coupled channels)', async () => {
    for (const regime of ['wide', 'extreme'] as const) {
      const N = 4;
      const { p } = randomParams(12, [N], 3, 3, regime);
      const values = tf.tensor(allValues(3, 0, 7).flat(), [1, 512, 3]);
      const lp = logProb(expandBatch(p), values, { high: 7 });
      for (const s of rowSums(await lp.data(), N, 512)) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
      disposeMixtureParams(p);
    }
  });

  it('binary data (high - low = 1): P(1) = sigmoid(mu/s) for one component, C = 2 sums to 1', async () => {
    const p: MixtureParams = {
      logits: tf.tensor2d([[0], [0]]),
      locs: tf.tensor3d([[[0.3]], [[-2]]]),
      scales: tf.tensor3d([[[0.5]], [[Math.exp(-7)]]]),
      coeffs: tf.zeros([2, 1, 0]),
    };
    const lp1 = await logProb(p, tf.tensor2d([[1], [1]]), { high: 1 }).data();
    expect(lp1[0]).toBeCloseTo(logSigmoid64(0.3 / Math.fround(0.5)), 5);
    const s1 = Math.fround(Math.exp(-7));
    expect(Math.abs(lp1[1] - logSigmoid64(-2 / s1))).toBeLessThan(1e-6 * (2 / s1));
    const { p: p2 } = randomParams(13, [3], 2, 2, 'extreme');
    const lp2 = logProb(expandBatch(p2), tf.tensor(allValues(2, 0, 1).flat(), [1, 4, 2]), {
      high: 1,
    });
    for (const s of rowSums(await lp2.data(), 3, 4)) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
    disposeMixtureParams(p2);
  });

  it('agrees with an independent float64 reference to 1e-3 nats, bins below 1e-8 included', async () => {
    // float32 bound: bin edges carry ~6e-8 absolute rounding, amplified by 1/s <= e^7 (~3e-5
    // nats), plus ~2 ulps of |log p| itself.
    const bound = (ref: number) => 1e-4 + 3e-7 * Math.abs(ref);
    let maxErr = 0;
    let tiny = 0;
    let tinyMaxErr = 0;
    for (const regime of ['wide', 'extreme'] as const) {
      // C = 1: every value of 0..255
      const N = 8;
      const { p, pixels } = randomParams(21, [N], 4, 1, regime);
      const lp = await logProb(
        expandBatch(p),
        tf.tensor(allValues(1, 0, 255).flat(), [1, 256, 1]),
      ).data();
      for (let n = 0; n < N; n++) {
        for (let v = 0; v <= 255; v++) {
          const ref = pixelLogProb64(pixels[n], [v], 0, 255);
          const err = Math.abs(lp[n * 256 + v] - ref);
          expect(err, `C=1 ${regime} pixel ${n} value ${v}: ref ${ref}`).toBeLessThan(bound(ref));
          maxErr = Math.max(maxErr, err);
          if (ref < Math.log(1e-8)) {
            tiny++;
            tinyMaxErr = Math.max(tinyMaxErr, err);
          }
        }
      }
      disposeMixtureParams(p);
      // C = 3: random triples in 0..255, edges included
      const M = 64;
      const { p: p3, pixels: px3 } = randomParams(22, [M], 3, 3, regime);
      const vals = Array.from({ length: M }, (_, i) =>
        [0, 1, 2].map((c) => [0, 255, 1, 254, (i * 37 + c * 101) % 256][(i + c) % 5]),
      );
      const lp3 = await logProb(p3, tf.tensor2d(vals)).data();
      vals.forEach((v, i) => {
        const ref = pixelLogProb64(px3[i], v, 0, 255);
        const err = Math.abs(lp3[i] - ref);
        expect(err, `C=3 ${regime} pixel ${i} values ${v}: ref ${ref}`).toBeLessThan(bound(ref));
        maxErr = Math.max(maxErr, err);
        if (ref < Math.log(1e-8)) {
          tiny++;
          tinyMaxErr = Math.max(tinyMaxErr, err);
        }
      });
      disposeMixtureParams(p3);
    }
    expect(tiny).toBeGreaterThan(500); // the tails really are exercised
    expect(maxErr).toBeLessThan(1e-3);
    expect(tinyMaxErr).toBeLessThan(1e-3);
  });

  it('stays exact where PixelCNN++ mid-point approximation (cdf_delta < 1e-5) is off by nats', async () => {
    // One narrow component (s = exp(-7)) evaluated in its tail: bins far below 1e-5.
    const K = 1;
    const mus = [0, 0.3, -0.5];
    const p: MixtureParams = {
      logits: tf.zeros([3, 1, K]),
      locs: tf.tensor(mus, [3, 1, K, 1]),
      scales: tf.fill([3, 1, K, 1], Math.exp(-7)),
      coeffs: tf.zeros([3, 1, K, 0]),
    };
    const vals = Array.from({ length: 254 }, (_, i) => i + 1); // interior bins
    const x = tf.tensor(vals, [1, 254, 1]);
    const ours = await logProb(p, x).data();
    const theirs = await pixelcnnppLogProb(p, x, 0, 255).data();
    let oursMax = 0;
    let theirsMax = 0;
    const s = Math.fround(Math.exp(-7));
    mus.forEach((mu, n) => {
      vals.forEach((v, i) => {
        const ref = binLogProb64(v, Math.fround(mu), s, 0, 255);
        if (ref > -80) return; // compare only where cdf_delta is far below float32's reach
        oursMax = Math.max(oursMax, Math.abs(ours[n * 254 + i] - ref));
        theirsMax = Math.max(theirsMax, Math.abs(theirs[n * 254 + i] - ref));
      });
    });
    expect(oursMax).toBeLessThan(1e-3);
    expect(theirsMax).toBeGreaterThan(1); // 2.15 nats: log(2 sinh(t/2)/t), t = 2/(255 s) = 8.6
  });

  it('gradients are finite for extreme parameters and edge values', async () => {
    const N = 6;
    const K = 3;
    const C = 3;
    // raw logits +-1e4, locs far outside [-1, 1], scales down to exp(-7) and up to 1e4
    const logits = tf.tensor2d(
      Array.from({ length: N * K }, (_, i) => [1e4, -1e4, 0, 50, -50, 1e4][i % 6]),
      [N, K],
    );
    const locs = tf.tensor3d(
      Array.from({ length: N * K * C }, (_, i) => [-100, 100, 0, 1, -1, 5, -5][i % 7]),
      [N, K, C],
    );
    const rawScales = tf.tensor3d(
      Array.from({ length: N * K * C }, (_, i) => [-1e4, 1e4, -100, 0, -7, 3][i % 6]),
      [N, K, C],
    );
    const coeffs = tf.tensor3d(
      Array.from({ length: N * K * 3 }, (_, i) => [1e3, -1e3, 0.5][i % 3]),
      [N, K, 3],
    );
    const x = tf.tensor2d(
      [0, 255, 128, 255, 255, 255, 0, 0, 0, 1, 254, 127, 0, 128, 255, 200, 3, 77],
      [N, C],
    );
    for (const [convention, low, high] of [
      ['tfp', 0, 255],
      ['pixelcnnpp', 0, 255],
      ['tfp', 0, 1],
    ] as const) {
      const xv = high === 1 ? tf.minimum(x, 1) : x;
      const grads = tf.grads((lg: tf.Tensor, lc: tf.Tensor, rs: tf.Tensor, co: tf.Tensor) => {
        const scales =
          convention === 'tfp'
            ? tf.add(tf.softplus(rs), Math.exp(-7))
            : tf.exp(tf.maximum(tf.minimum(rs, 80), -7));
        const coeffsT = convention === 'tfp' ? co : tf.tanh(co);
        return tf.sum(
          logProb({ logits: lg, locs: lc, scales, coeffs: coeffsT }, xv, { low, high }),
        );
      })([logits, locs, rawScales, coeffs]);
      for (const g of grads) {
        const d = await g.data();
        expect(d.every(Number.isFinite), `${convention} ${low}..${high}`).toBe(true);
      }
      const value = await logProb(
        { logits, locs, scales: tf.add(tf.softplus(rawScales), Math.exp(-7)), coeffs },
        xv,
        { low, high },
      ).data();
      expect(value.every(Number.isFinite)).toBe(true);
    }
  });

  it("needs no gradients for comparison ops (works without @pixelcnn/backend's zero gradients)", async () => {
    const comparisons = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'];
    const saved = comparisons
      .map((name) => tf.getGradient(name))
      .filter((g): g is tf.GradConfig => g != null);
    for (const g of saved) tf.unregisterGradient(g.kernelName);
    try {
      // teeth: the registry the backward pass consults now lacks them (a failing tf.grad would
      // leak tfjs's tape tensors, so this is checked directly)
      for (const name of comparisons) expect(tf.getGradient(name) ?? undefined).toBeUndefined();
      const { p } = randomParams(35, [4], 3, 3, 'extreme');
      const x = tf.tensor2d([0, 255, 3, 1, 2, 3, 255, 255, 255, 0, 0, 0], [4, 3]);
      for (const convention of ['tfp', 'pixelcnnpp'] as const) {
        const raw = tf.randomNormal([4, 30], 0, 3, 'float32', 1);
        const g = tf.grad((r: tf.Tensor) =>
          tf.sum(logProb(splitMixtureParams(r, { channels: 3, numMix: 3, convention }), x)),
        )(raw);
        expect((await g.data()).every(Number.isFinite)).toBe(true);
      }
      const gs = tf.grads((lc: tf.Tensor, sc: tf.Tensor) =>
        tf.sum(logProb({ ...p, locs: lc, scales: sc }, x, { validate: false })),
      )([p.locs, p.scales]);
      for (const g of gs) expect((await g.data()).every(Number.isFinite)).toBe(true);
      disposeMixtureParams(p);
    } finally {
      for (const g of saved) tf.registerGradient(g);
    }
  });

  it('gradients match float64 central differences of the reference', async () => {
    const { p, pixels } = randomParams(31, [6], 3, 3, 'wide');
    const vals = [
      [0, 17, 255],
      [128, 128, 128],
      [255, 0, 3],
      [40, 90, 200],
      [1, 254, 100],
      [77, 78, 79],
    ];
    const x = tf.tensor2d(vals);
    const [gLocs, gScales, gCoeffs, gLogits] = await Promise.all(
      tf
        .grads((lc: tf.Tensor, sc: tf.Tensor, co: tf.Tensor, lg: tf.Tensor) =>
          tf.sum(logProb({ logits: lg, locs: lc, scales: sc, coeffs: co }, x)),
        )([p.locs, p.scales, p.coeffs, p.logits])
        .map((g) => g.data()),
    );
    const h = 1e-6;
    const check = (got: number, f: (d: number) => number) => {
      const want = (f(h) - f(-h)) / (2 * h);
      expect(Math.abs(got - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
    };
    vals.forEach((v, n) => {
      const px = pixels[n];
      const clone = () => structuredClone(px);
      for (let k = 0; k < 3; k++) {
        check(gLogits[n * 3 + k], (d) => {
          const q = clone();
          q.logits[k] += d;
          return pixelLogProb64(q, v, 0, 255);
        });
        for (let c = 0; c < 3; c++) {
          check(gLocs[(n * 3 + k) * 3 + c], (d) => {
            const q = clone();
            q.locs[k][c] += d;
            return pixelLogProb64(q, v, 0, 255);
          });
          // relative step in the scale: compare s * d/ds = d/dlog(s)
          check(gScales[(n * 3 + k) * 3 + c] * px.scales[k][c], (d) => {
            const q = clone();
            q.scales[k][c] *= 1 + d;
            return pixelLogProb64(q, v, 0, 255);
          });
          check(gCoeffs[(n * 3 + k) * 3 + c], (d) => {
            const q = clone();
            q.coeffs[k][c] += d;
            return pixelLogProb64(q, v, 0, 255);
          });
        }
      }
    });
    disposeMixtureParams(p);
  });

  it('imageLogProb sums pixels; bitsPerDim = -logp / (dims ln 2)', async () => {
    const { p, pixels } = randomParams(41, [2, 3, 4], 2, 3);
    const x = tf.tensor(
      Array.from({ length: 2 * 3 * 4 * 3 }, (_, i) => (i * 53) % 256),
      [2, 3, 4, 3],
    );
    const img = imageLogProb(p, x);
    expect(img.shape).toEqual([2]);
    const xd = await x.data();
    const got = await img.data();
    for (let b = 0; b < 2; b++) {
      let want = 0;
      for (let i = 0; i < 12; i++) {
        const n = b * 12 + i;
        want += pixelLogProb64(pixels[n], Array.from(xd.slice(n * 3, n * 3 + 3)), 0, 255);
      }
      expect(Math.abs(got[b] - want)).toBeLessThan(1e-3);
      const bpd = await bitsPerDim(img, 36).data();
      expect(bpd[b]).toBeCloseTo(-got[b] / (36 * Math.LN2), 5);
    }
    expect(bitsPerDim(-Math.LN2 * 10, 5)).toBeCloseTo(2, 12);
    expect(() => bitsPerDim(-1, 0)).toThrow(
      'Error in bitsPerDim: numDims must be a positive number, got 0',
    );
    expect(() => imageLogProb(p, tf.zeros([3]))).toThrow(
      'Error in imageLogProb: expected images [..., H, W, C], got [3]',
    );
    disposeMixtureParams(p);
  });

  it('accepts int32 values and any integer range (only v - low matters)', async () => {
    const { p } = randomParams(42, [5], 3, 2, 'extreme');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -300, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 5, maxLength: 5 }),
        async (low, L, raw) => {
          const d = raw.map(([a, b]) => [a % (L + 1), b % (L + 1)]);
          const shifted = logProb(
            p,
            tf.tensor2d(
              d.map((r) => r.map((v) => v + low)),
              [5, 2],
              'int32',
            ),
            {
              low,
              high: low + L,
            },
          );
          const base = logProb(p, tf.tensor2d(d), { low: 0, high: L });
          const [a, b] = [await shifted.data(), await base.data()];
          tf.dispose([shifted, base]);
          for (let i = 0; i < 5; i++) expect(a[i]).toBeCloseTo(b[i], 4);
        },
      ),
      { numRuns: 20 },
    );
    disposeMixtureParams(p);
  });

  it('property: pmf sums to 1 and log p <= 0 for random params and ranges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom('wide' as const, 'extreme' as const),
        fc.integer({ min: 1, max: 4 }),
        async (seed, L, regime, K) => {
          const t = tf.tidy(() => {
            const { p } = randomParams(seed, [2], K, 1, regime);
            return logProb(expandBatch(p), tf.tensor(allValues(1, 0, L).flat(), [1, L + 1, 1]), {
              high: L,
            });
          });
          const lp = await t.data();
          t.dispose();
          for (const s of rowSums(lp, 2, L + 1)) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
          expect(lp.every((v) => v <= 1e-6)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('property: adding a constant to all logits changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e6 }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        async (seed, c) => {
          const [ta, tb] = tf.tidy(() => {
            const { p } = randomParams(seed, [4], 3, 3);
            const x = tf.tensor2d([0, 255, 7, 100, 101, 102, 255, 255, 0, 33, 200, 1], [4, 3]);
            return [logProb(p, x), logProb({ ...p, logits: tf.add(p.logits, c) }, x)];
          });
          const [a, b] = [await ta.data(), await tb.data()];
          tf.dispose([ta, tb]);
          for (let i = 0; i < 4; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('rejects bad values, ranges and shapes with clear messages', async () => {
    const { p } = randomParams(43, [2], 3, 3);
    const ok = tf.tensor2d([0, 1, 2, 3, 4, 5], [2, 3]);
    // Values: checkValues reduces on the device and reads back asynchronously (once per batch).
    await expect(
      checkValues('logProb', 'x', tf.tensor2d([0, 1, 2, 3, 256, 5], [2, 3]), 0, 255),
    ).rejects.toThrow(
      'Error in logProb: x [2, 3] must hold integers in [0, 255]; 1 value(s) do not, the first is 256 at flat index 4',
    );
    await expect(
      checkValues('logProb', 'x', tf.tensor2d([0, 1.5, 2, 3, -1, 5], [2, 3]), 0, 255),
    ).rejects.toThrow(
      'Error in logProb: x [2, 3] must hold integers in [0, 255]; 2 value(s) do not, the first is 1.5 at flat index 1',
    );
    await expect(
      checkValues('logProb', 'x', tf.tensor2d([0, 1, Number.NaN, 3, 4, 5], [2, 3]), 0, 255),
    ).rejects.toThrow('the first is NaN at flat index 2');
    await expect(checkValues('logProb', 'x', ok, 0, 4)).rejects.toThrow(
      'Error in logProb: x [2, 3] must hold integers in [0, 4]; 1 value(s) do not, the first is 5 at flat index 5',
    );
    await expect(checkValues('logProb', 'x', ok, 0, 5)).resolves.toBeUndefined();
    // logProb itself reads nothing: a row with a value outside the distribution's support is NaN.
    const lpBad = logProb(p, tf.tensor2d([0, 1, 2, 3, 1.5, 5], [2, 3]));
    const [good, nan] = Array.from(await lpBad.data());
    expect(Number.isFinite(good) && good < 0).toBe(true);
    expect(nan).toBeNaN();
    expect(Array.from(await logProb(p, ok, { high: 4 }).data()).map(Number.isNaN)).toEqual([
      false,
      true,
    ]);
    // validate: false skips that masking (hot loops whose data is checked once per batch)
    expect(
      Number.isNaN(
        (
          await logProb(p, tf.tensor2d([0, 1, 2, 3, 1.5, 5], [2, 3]), { validate: false }).data()
        )[1],
      ),
    ).toBe(false);
    expect(() => logProb(p, ok, { low: 3, high: 3 })).toThrow(
      'Error in logProb: high must be > low, got low=3, high=3',
    );
    expect(() => logProb(p, ok, { high: 2.5 })).toThrow(
      'Error in logProb: low and high must be integers, got low=0, high=2.5',
    );
    expect(() => logProb(p, tf.zeros([2, 1]))).toThrow(
      'Error in logProb: x [2, 1] must end in C=3 channels (params have locs [2, 3, 3])',
    );
    expect(() => logProb(p, tf.zeros([3, 3]))).toThrow(
      'Error in logProb: batch dims of x [3, 3] and params (logits [2, 3], K=3) do not broadcast: [3] vs [2]',
    );
    expect(() => logProb({ ...p, scales: tf.ones([2, 3, 2]) }, ok)).toThrow(
      'Error in logProb: params disagree: logits [2, 3] (K=3) needs locs and scales [2, 3, 3] and coeffs [2, 3, 3], got locs [2, 3, 3], scales [2, 3, 2], coeffs [2, 3, 3]',
    );
    expect(() => logProb({ ...p, coeffs: tf.ones([2, 3, 1]) }, ok)).toThrow(
      'needs locs and scales [2, 3, 3] and coeffs [2, 3, 3]',
    );
    expect(() => logProb({ ...p, logits: tf.ones([2, 3], 'int32') }, ok)).toThrow(
      'Error in logProb: params.logits must be float32, got int32',
    );
    expect(() => logProb({ ...p, locs: tf.ones([2, 3]) }, ok)).toThrow(
      'Error in logProb: expected logits [..., K] and locs [..., K, C], got logits [2, 3], locs [2, 3]',
    );
    disposeMixtureParams(p);
  });
});
