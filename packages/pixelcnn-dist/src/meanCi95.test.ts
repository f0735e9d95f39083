import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meanCi95, tQuantile975 } from './meanCi95';

describe('meanCi95', () => {
  it('matches the closed form on a small sample', () => {
    const r = meanCi95([1, 2, 3, 4]);
    const std = Math.sqrt(((1.5 ** 2 + 0.5 ** 2) * 2) / 3);
    expect(r.mean).toBe(2.5);
    expect(r.std).toBeCloseTo(std, 12);
    expect(r.ci95).toBeCloseTo((3.182 * std) / 2, 12);
    expect(meanCi95([]).n).toBe(0);
    expect(Number.isNaN(meanCi95([3]).ci95)).toBe(true);
  });

  it('t quantiles decrease towards the normal 1.96', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(31)).toBeLessThan(2.042);
    expect(tQuantile975(40)).toBeCloseTo(2.021, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.98, 3);
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
  });

  it('a constant sample has zero width; shifting the sample shifts the mean only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 2, maxLength: 50 }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        (xs, c) => {
          const a = meanCi95(xs);
          const b = meanCi95(xs.map((x) => x + c));
          expect(b.mean).toBeCloseTo(a.mean + c, 8);
          expect(b.ci95).toBeCloseTo(a.ci95, 8);
        },
      ),
    );
    expect(meanCi95([2, 2, 2]).ci95).toBe(0);
  });
});
