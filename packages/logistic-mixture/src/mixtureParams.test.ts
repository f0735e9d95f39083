import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  disposeMixtureParams,
  MIN_SCALE,
  mixtureParamLayout,
  numCoeffs,
  numMixtureParams,
  splitMixtureParams,
} from './mixtureParams';

describe('numMixtureParams / mixtureParamLayout', () => {
  it('counts K*(1 + 2C + C(C-1)/2) numbers (PixelCNN++: 10 per component for RGB)', () => {
    expect(numMixtureParams(3, 10)).toBe(100);
    expect(numMixtureParams(1, 5)).toBe(15);
    expect(numCoeffs(3)).toBe(3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 }), (C, K) => {
        const layout = mixtureParamLayout(C, K);
        expect(layout.length).toBe(numMixtureParams(C, K));
        expect(layout.map((s) => s.index)).toEqual(layout.map((_, i) => i));
        expect(layout.filter((s) => s.kind === 'logit').length).toBe(K);
        expect(layout.filter((s) => s.kind === 'coeff').length).toBe(K * numCoeffs(C));
      }),
    );
  });

  it('orders coefficients (1<-0, 2<-0, 2<-1)', () => {
    const coeffs = mixtureParamLayout(3, 1).filter((s) => s.kind === 'coeff');
    expect(coeffs.map((s) => [s.channel, s.from])).toEqual([
      [1, 0],
      [2, 0],
      [2, 1],
    ]);
  });

  it('rejects bad counts', () => {
    expect(() => numMixtureParams(0, 3)).toThrow(
      'Error in numMixtureParams: channels must be an integer >= 1, got 0',
    );
    expect(() => mixtureParamLayout(3, 1.5)).toThrow(
      'Error in mixtureParamLayout: numMix must be an integer >= 1, got 1.5',
    );
  });
});

describeBackends('splitMixtureParams', () => {
  const C = 3;
  const K = 2;
  const P = numMixtureParams(C, K);
  const rawData = Array.from({ length: 2 * P }, (_, i) => Math.sin(i * 1.7) * 3);
  rawData[1 + C] = -1e4; // component 0, channel 0 raw scale: tiny
  rawData[1 + C + 1] = 50; // large

  it('follows the documented layout and the TFP convention', async () => {
    const raw = tf.tensor2d(rawData, [2, P]);
    const p = splitMixtureParams(raw, { channels: C, numMix: K });
    expect(p.logits.shape).toEqual([2, K]);
    expect(p.locs.shape).toEqual([2, K, C]);
    expect(p.scales.shape).toEqual([2, K, C]);
    expect(p.coeffs.shape).toEqual([2, K, 3]);
    const [logits, locs, scales, coeffs] = await Promise.all(
      [p.logits, p.locs, p.scales, p.coeffs].map((t) => t.data()),
    );
    const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    const counters = { logit: 0, loc: 0, scale: 0, coeff: 0 };
    for (let n = 0; n < 2; n++) {
      for (const s of mixtureParamLayout(C, K)) {
        const r = rawData[n * P + s.index];
        const i = counters[s.kind]++;
        if (s.kind === 'logit') expect(logits[i]).toBeCloseTo(r, 5);
        if (s.kind === 'loc') expect(locs[i]).toBeCloseTo(r, 5);
        if (s.kind === 'coeff') expect(coeffs[i]).toBeCloseTo(r, 5);
        if (s.kind === 'scale') {
          expect(scales[i] / (softplus(r) + Math.exp(-7)) - 1).toBeLessThan(1e-5);
          expect(scales[i]).toBeGreaterThanOrEqual(Math.fround(MIN_SCALE));
        }
      }
    }
    disposeMixtureParams(p);
  });

  it('PixelCNN++ convention: scale = exp(max(raw, -7)), coeffs = tanh(raw)', async () => {
    const raw = tf.tensor2d(rawData, [2, P]);
    const p = splitMixtureParams(raw, { channels: C, numMix: K, convention: 'pixelcnnpp' });
    const scales = await p.scales.data();
    const coeffs = await p.coeffs.data();
    const layout = mixtureParamLayout(C, K);
    const scaleSlots = layout.filter((s) => s.kind === 'scale');
    const coeffSlots = layout.filter((s) => s.kind === 'coeff');
    for (let n = 0; n < 2; n++) {
      scaleSlots.forEach((s, i) => {
        const want = Math.exp(Math.max(rawData[n * P + s.index], -7));
        expect(Math.abs(scales[n * scaleSlots.length + i] / want - 1)).toBeLessThan(1e-5);
      });
      coeffSlots.forEach((s, i) => {
        expect(coeffs[n * coeffSlots.length + i]).toBeCloseTo(
          Math.tanh(rawData[n * P + s.index]),
          5,
        );
      });
    }
    disposeMixtureParams(p);
  });

  it('works for C = 1 (empty coeffs) and extra batch dims', () => {
    const raw = tf.zeros([2, 3, 4, numMixtureParams(1, 5)]);
    const p = splitMixtureParams(raw, { channels: 1, numMix: 5 });
    expect(p.logits.shape).toEqual([2, 3, 4, 5]);
    expect(p.locs.shape).toEqual([2, 3, 4, 5, 1]);
    expect(p.coeffs.shape).toEqual([2, 3, 4, 5, 0]);
    disposeMixtureParams(p);
  });

  it('is differentiable with finite gradients for extreme raw values', async () => {
    const scaleIdx = new Set(
      mixtureParamLayout(C, K)
        .filter((s) => s.kind === 'scale')
        .flatMap((s) => [s.index, P + s.index]),
    );
    for (const convention of ['tfp', 'pixelcnnpp'] as const) {
      // exp(raw) overflows float32 above raw = 88: PixelCNN++'s convention caps only from below.
      const cap = (v: number, i: number) =>
        convention === 'pixelcnnpp' && scaleIdx.has(i) ? Math.min(v, 80) : v;
      const extreme = tf.tensor2d(
        rawData.map((v, i) => cap(i % 2 ? v * 1e4 : -v * 1e4, i)),
        [2, P],
      );
      const g = tf.grad((r: tf.Tensor) => {
        const p = splitMixtureParams(r, { channels: C, numMix: K, convention });
        return tf.addN([
          tf.sum(p.logits),
          tf.sum(p.locs),
          tf.sum(tf.log(p.scales)),
          tf.sum(p.coeffs),
        ]);
      })(extreme);
      expect((await g.data()).every(Number.isFinite)).toBe(true);
    }
  });

  it('rejects a wrong last dimension, dtype or convention with a clear message', () => {
    expect(() => splitMixtureParams(tf.zeros([4, 7]), { channels: 3, numMix: 2 })).toThrow(
      'Error in splitMixtureParams: expected raw output [..., 20] for channels=3, numMix=2 (K*(1 + 2C + C(C-1)/2)), got [4, 7]',
    );
    expect(() =>
      splitMixtureParams(tf.zeros([4, 20], 'int32'), { channels: 3, numMix: 2 }),
    ).toThrow('Error in splitMixtureParams: expected float32 raw output, got int32');
    expect(() =>
      splitMixtureParams(tf.zeros([4, 20]), {
        channels: 3,
        numMix: 2,
        convention: 'keras' as 'tfp',
      }),
    ).toThrow("Error in splitMixtureParams: convention must be 'tfp' or 'pixelcnnpp', got 'keras'");
  });
});
