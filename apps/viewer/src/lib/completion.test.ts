import { describeBackends } from '@pixelcnn/backend/testing';
import { PixelCNN, type PixelProgress } from '@pixelcnn/pixelcnn-dist';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstSampledIndex, keepTopRows, prefixSampler } from './completion';

describe('keepTopRows', () => {
  it('keeps rows < k exactly and zeroes the rest (any shape, any k)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (H, W, C, kSeed) => {
          const k = kSeed % (H + 1);
          const image = Array.from({ length: H * W * C }, (_, i) => i + 1);
          const out = keepTopRows(image, [H, W, C], k);
          for (let i = 0; i < out.length; i++) {
            const row = Math.floor(i / (W * C));
            expect(out[i]).toBe(row < k ? image[i] : 0);
          }
          expect(firstSampledIndex(k, W)).toBe(k * W);
        },
      ),
    );
  });

  it('rejects a bad row count or image size with a clear message', () => {
    expect(() => keepTopRows([1, 2, 3, 4], [2, 2, 1], 3)).toThrow(
      'Error in keepTopRows: keepRows must be an integer in [0, 2], got 3',
    );
    expect(() => keepTopRows([1, 2, 3, 4], [2, 2, 1], 1.5)).toThrow(
      'Error in keepTopRows: keepRows must be an integer in [0, 2], got 1.5',
    );
    expect(() => keepTopRows([1, 2, 3], [2, 2, 1], 1)).toThrow(
      'Error in keepTopRows: expected 4 values for [2, 2, 1], got 3',
    );
  });
});

const tiny = (o: { conditional?: boolean } = {}) =>
  new PixelCNN({
    imageShape: [4, 4, 1],
    high: 3,
    numResnet: 1,
    numHierarchies: 2,
    numFilters: 4,
    numLogisticMix: 2,
    seed: 11,
    ...(o.conditional ? { conditionalShape: [], numClasses: 3 } : {}),
  });

describeBackends('prefixSampler (completion)', () => {
  it('with 0 kept rows is the naive sampler (same noise, same samples)', async () => {
    const dist = tiny();
    const a = await dist.sample(3, { seed: 5 });
    const b = await dist.sample(3, { seed: 5, sampler: prefixSampler(new Float32Array(16), 0) });
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    dist.dispose();
  });

  it("completing a sample's own top rows with its noise gives the sample back (exact, conditional)", async () => {
    const dist = tiny({ conditional: true });
    const labels = [0, 2, 1];
    const full = await dist.sample(3, { seed: 9, conditionalInput: labels });
    const values = (await full.data()) as Float32Array;
    for (const k of [1, 2, 3, 4]) {
      // every image keeps its own top k rows
      const per = new Float32Array(3 * 16);
      for (let b = 0; b < 3; b++)
        per.set(keepTopRows(values.subarray(b * 16, (b + 1) * 16), [4, 4, 1], k), b * 16);
      const done = await dist.sample(3, {
        seed: 9,
        conditionalInput: labels,
        sampler: prefixSampler(per, k),
      });
      expect(Array.from(await done.data()), `keepRows ${k}`).toEqual(Array.from(values));
      done.dispose();
    }
    full.dispose();
    dist.dispose();
  });

  it('keeps the prefix, samples only later pixels (reported in raster order), and conditions on it', async () => {
    const dist = tiny();
    // one prefix for all images: a full row of ink, then an empty row
    const prefix = new Float32Array(16);
    prefix.fill(3, 0, 4);
    const seen: PixelProgress[] = [];
    const out = await dist.sample(2, {
      seed: 3,
      sampler: prefixSampler(prefix, 2),
      onPixel: (p) => void seen.push(p),
    });
    const v = await out.data();
    for (let b = 0; b < 2; b++) {
      expect(Array.from(v.slice(b * 16, b * 16 + 8))).toEqual(Array.from(prefix.slice(0, 8)));
      for (let i = 8; i < 16; i++)
        expect(Number.isInteger(v[b * 16 + i]) && v[b * 16 + i] >= 0 && v[b * 16 + i] <= 3).toBe(
          true,
        );
    }
    expect(seen.map((p) => p.index)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(seen.every((p) => p.total === 16 && p.values.length === 2)).toBe(true);
    for (const p of seen) expect([v[p.index], v[16 + p.index]]).toEqual(Array.from(p.values));

    // The same noise with another prefix gives other later pixels' distributions: the network
    // output at the first sampled pixel depends on the kept rows.
    const net = dist.samplerNetwork();
    const x1 = tf.tensor4d(
      Array.from(prefix, (p, i) => (i < 8 ? (p * 2) / 3 - 1 : 0)),
      [1, 4, 4, 1],
    );
    const x2 = tf.tensor4d(
      Array.from(prefix, (_, i) => (i < 8 ? -1 : 0)),
      [1, 4, 4, 1],
    );
    const o1 = net.forward(x1);
    const o2 = net.forward(x2);
    const d = tf.max(
      tf.abs(
        tf.sub(
          tf.slice(o1, [0, 2, 0, 0], [1, 1, 1, -1]),
          tf.slice(o2, [0, 2, 0, 0], [1, 1, 1, -1]),
        ),
      ),
    );
    expect((await d.data())[0]).toBeGreaterThan(0);
    tf.dispose([out, x1, x2, o1, o2, d]);
    dist.dispose();
  });

  it('rejects bad prefixes with clear messages, and stops on abort', async () => {
    const dist = tiny();
    await expect(
      dist.sample(2, { sampler: prefixSampler(new Float32Array(5), 1) }),
    ).rejects.toThrow(
      'Error in prefixSampler: prefix must have 16 ([4, 4, 1]) or 32 ([2, 4, 4, 1]) values, got 5',
    );
    await expect(
      dist.sample(1, { sampler: prefixSampler(new Float32Array(16), 5) }),
    ).rejects.toThrow('Error in prefixSampler: keepRows must be an integer in [0, 4], got 5');
    const bad = new Float32Array(16);
    bad[2] = 4;
    await expect(dist.sample(1, { sampler: prefixSampler(bad, 1) })).rejects.toThrow(
      'Error in prefixSampler: prefix values must be integers in [0, 3], got 4 at index 2',
    );
    bad[2] = 4; // rows >= keepRows are not read
    const ok = await dist.sample(1, { seed: 1, sampler: prefixSampler(bad, 0) });
    ok.dispose();
    const ctl = new AbortController();
    await expect(
      dist.sample(1, {
        seed: 1,
        signal: ctl.signal,
        sampler: prefixSampler(new Float32Array(16), 1),
        onPixel: (p) => {
          if (p.index === 5) ctl.abort();
        },
      }),
    ).rejects.toThrow('Error in sample: aborted');
    dist.dispose();
  });
});
