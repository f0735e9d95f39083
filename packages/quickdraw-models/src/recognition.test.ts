import { describe, expect, it } from 'vitest';
import { recognitionShare, wilsonInterval, Z95 } from './recognition';

/**
 * Wilson's interval as the two roots in p of (hits/n - p)^2 = z^2 p (1 - p) / n, solved with the
 * quadratic formula: an independent form of the same definition.
 */
function wilsonRoots(hits: number, n: number, z = Z95): [number, number] {
  const ph = hits / n;
  const a = 1 + (z * z) / n;
  const b = -(2 * ph + (z * z) / n);
  const c = ph * ph;
  const d = Math.sqrt(b * b - 4 * a * c);
  return [(-b - d) / (2 * a), (-b + d) / (2 * a)];
}

describe('wilsonInterval', () => {
  it('is the root pair of the score equation', () => {
    for (const [hits, n] of [
      [0, 10],
      [5, 10],
      [10, 10],
      [81, 263],
      [1, 400],
      [399, 400],
      [177, 256],
    ]) {
      const [lo, hi] = wilsonInterval(hits, n);
      const [rlo, rhi] = wilsonRoots(hits, n);
      expect(lo).toBeCloseTo(Math.max(0, rlo), 12);
      expect(hi).toBeCloseTo(Math.min(1, rhi), 12);
      expect(lo).toBeLessThanOrEqual(hits / n);
      expect(hi).toBeGreaterThanOrEqual(hits / n);
    }
  });

  it('gives the textbook values for 5 of 10 and 0 of 10', () => {
    // Newcombe (1998), Statistics in Medicine 17:857, table I: 0.2366-0.7634 and 0-0.2775.
    const [lo, hi] = wilsonInterval(5, 10);
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
    const [lo0, hi0] = wilsonInterval(0, 10);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.2775, 4);
  });

  it('refuses counts that are not 0 <= hits <= n integers', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(
      'Error in wilsonInterval: need integers 0 <= hits <= n, got hits 3, n 2',
    );
    expect(() => wilsonInterval(0.5, 2)).toThrow('need integers');
    expect(() => wilsonInterval(-1, 2)).toThrow('need integers');
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
});

describe('recognitionShare', () => {
  it('counts hits overall and per class', () => {
    const intended = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 1, 0, 1, 0, 2];
    const r = recognitionShare(predicted, intended, ['a', 'b', 'c']);
    expect(r.hits).toBe(4);
    expect(r.n).toBe(6);
    expect(r.share).toBeCloseTo(4 / 6, 12);
    expect(r.ci95).toEqual(wilsonInterval(4, 6));
    expect(r.perClass.map((c) => [c.class, c.hits, c.n])).toEqual([
      ['a', 2, 3],
      ['b', 1, 2],
      ['c', 1, 1],
    ]);
  });

  it('refuses mismatched lengths and unknown classes', () => {
    expect(() => recognitionShare([0], [0, 1], ['a', 'b'])).toThrow(
      'Error in recognitionShare: 1 predictions for 2 drawings',
    );
    expect(() => recognitionShare([0], [2], ['a', 'b'])).toThrow(
      'intended class 2 of drawing 0 is not 0..1',
    );
  });
});
