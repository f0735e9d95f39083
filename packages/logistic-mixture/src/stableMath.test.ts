import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { log1mexp64, logSigmoid64 } from '../test/reference64';
import { log1mexp, logDiffSigmoid, logSigmoid, logSumExpLastAxis } from './stableMath';

// WGSL only promises exp(x) to (3 + 2|x|) ULP (WGSL spec, "Floating point accuracy"), and
// log1mexp(t) ~ -exp(-t) for large t inherits it: SwiftShader is off by 3.6e-6 relative at
// t = 66. Elsewhere (cpu, wasm: libm-grade exp) it is float32 rounding, 4e-7.
const LOG1MEXP_TOL: Record<string, number> = { webgpu: (3 + 2 * 79) * 2 ** -23 };

describeBackends('stableMath', ({ backend }) => {
  it('log1mexp has float32 relative accuracy from t = 1e-30 to 79 (vs float64)', async () => {
    const ts: number[] = [];
    for (let e = -30; e <= 1.9; e += 0.01) ts.push(Math.fround(10 ** e));
    ts.push(
      Math.fround(Math.LN2),
      Math.fround(Math.LN2 * (1 + 1e-7)),
      Math.fround(Math.LN2 * (1 - 1e-7)),
    );
    const y = await log1mexp(tf.tensor1d(ts)).data();
    let maxRel = 0;
    ts.forEach((t, i) => {
      const r = log1mexp64(t);
      maxRel = Math.max(maxRel, Math.abs(y[i] - r) / Math.abs(r));
    });
    expect(maxRel).toBeLessThan(LOG1MEXP_TOL[backend] ?? 4e-7);
  });

  it('the naive float32 log(1 - exp(-t)) fails where log1mexp does not (sanity of the test)', async () => {
    const t = tf.tensor1d([1e-9, 1e-7, 20]);
    const naive = await tf.log(tf.sub(1, tf.exp(tf.neg(t)))).data();
    const ours = await log1mexp(t).data();
    expect(Number.isFinite(naive[0])).toBe(false); // log(0)
    expect(Math.abs(naive[2] - log1mexp64(20))).toBeGreaterThan(0); // exactly 0 instead of -2e-9
    expect(Math.abs(ours[0] - log1mexp64(1e-9))).toBeLessThan(1e-5);
    expect(Math.abs(ours[2] / log1mexp64(20) - 1)).toBeLessThan(1e-6);
  });

  it('log1mexp gradient is 1/(exp(t) - 1), finite everywhere (no comparison-op gradient needed)', async () => {
    const ts = [1e-30, 1e-6, 0.3, Math.fround(Math.LN2), 0.7, 2, 30, 80];
    const g = await tf
      .grad((t: tf.Tensor) => tf.sum(log1mexp(t)))(tf.tensor1d(ts))
      .data();
    ts.forEach((t, i) => {
      const want = 1 / Math.expm1(Math.fround(t));
      expect(Number.isFinite(g[i])).toBe(true);
      expect(Math.abs(g[i] / want - 1)).toBeLessThan(1e-5);
    });
  });

  it('logSigmoid matches float64 and differentiates a non-variable tensor', async () => {
    const zs = [-200, -30, -1, 0, 1, 30, 200];
    const z = tf.tensor1d(zs);
    const y = await logSigmoid(z).data();
    zs.forEach((v, i) => {
      expect(Math.abs(y[i] - logSigmoid64(v))).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)));
    });
    const g = await tf
      .grad((x: tf.Tensor) => tf.sum(logSigmoid(x)))(z)
      .data();
    zs.forEach((v, i) => {
      expect(g[i]).toBeCloseTo(1 / (1 + Math.exp(v)), 6);
    });
  });

  it('logDiffSigmoid is accurate deep in both tails and in the middle', async () => {
    const pairs: [number, number][] = [
      [-1, 1],
      [-0.001, 0.001],
      [40, 41],
      [-41, -40],
      [300, 300.5],
      [-300.5, -300],
      [0.5, 80],
    ];
    const a = tf.tensor1d(pairs.map((p) => p[0]));
    const b = tf.tensor1d(pairs.map((p) => p[1]));
    const y = await logDiffSigmoid(a, b).data();
    pairs.forEach(([pa, pb], i) => {
      // independent float64: log(sigmoid(b) - sigmoid(a)) through the complementary side when a > 0
      const [lo, hi] = pa > 0 ? [-pb, -pa] : [pa, pb];
      const r = logSigmoid64(hi) + Math.log(-Math.expm1(logSigmoid64(lo) - logSigmoid64(hi)));
      expect(Math.abs(y[i] - r)).toBeLessThan(1e-4);
    });
  });

  it('logSumExpLastAxis: float64 values, gradient softmax(x) * dy, with and without keepDims', async () => {
    // rows far apart in scale (the max shift matters) and a row with a tie for the max
    const rows = [
      [0.5, -1, 2, 2],
      [-300, -310, -305, -299.5],
      [80, 79, -80, 0],
    ];
    const x = tf.tensor2d(rows);
    const dy = tf.tensor1d([1, -2, 0.5]);
    const ref = rows.map((r) => {
      const m = Math.max(...r);
      const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
      return { lse, softmax: r.map((v) => Math.exp(v - lse)) };
    });
    const dyv = [1, -2, 0.5];
    for (const keepDims of [false, true]) {
      const f = (t: tf.Tensor) => logSumExpLastAxis(t, keepDims);
      const y = f(x);
      expect(y.shape).toEqual(keepDims ? [3, 1] : [3]);
      const got = await y.data();
      // Float32 rounding of x - max, exp and log, with exp to (3 + 2|x|) ulp as WGSL promises
      // (cpu and wasm: libm, ~1 ulp): absolute bounds in ulps of 1
      const ulp = 2 ** -23;
      for (const [i, r] of ref.entries()) {
        const spread = Math.max(...rows[i]) - Math.min(...rows[i]);
        expect(Math.abs(got[i] - r.lse)).toBeLessThanOrEqual(
          ulp * (Math.abs(r.lse) + 4 + 2 * spread),
        );
      }
      const g = await tf
        .grad(f)(x, keepDims ? tf.reshape(dy, [3, 1]) : dy)
        .data();
      // dy * exp(x - lse): x - lse is off by an ulp of |x| + |lse| (an absolute error, relative
      // after exp), exp by (3 + 2|x - lse|) ulp at most, the product by one; values below
      // float32's normal range (e^-160) flush to zero
      for (const [i, r] of ref.entries())
        for (const [j, p] of r.softmax.entries()) {
          const xij = rows[i][j];
          const rel = ulp * (Math.abs(xij) + Math.abs(r.lse) + 4 + 2 * Math.abs(xij - r.lse));
          expect(Math.abs(g[i * 4 + j] - dyv[i] * p)).toBeLessThanOrEqual(
            Math.abs(dyv[i]) * p * rel + 2 ** -126,
          );
        }
      // same forward as tfjs's own
      expect(Array.from(got)).toEqual(Array.from(await tf.logSumExp(x, -1, keepDims).data()));
    }
  });
});
