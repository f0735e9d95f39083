import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linearScale, lossCurveSvg, niceTicks, plotBox } from './lossCurve';

describe('niceTicks', () => {
  it('gives evenly spaced round ticks inside the range', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.integer({ min: 2, max: 10 }),
        (min, spanIn, count) => {
          // spans far below the values' float resolution are out of scope
          const span = Math.max(spanIn, Math.abs(min) * 1e-6);
          const max = min + span;
          const t = niceTicks(min, max, count);
          expect(t.length).toBeGreaterThanOrEqual(1);
          expect(t.length).toBeLessThanOrEqual(count + 1);
          const step = t.length > 1 ? t[1] - t[0] : 0;
          // inside the range up to float rounding
          const tol = span * 1e-6;
          for (const v of t) {
            expect(v).toBeGreaterThanOrEqual(min - tol);
            expect(v).toBeLessThanOrEqual(max + tol);
          }
          if (t.length > 1) {
            const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
            expect(
              [1, 2, 5, 10].some((m) => Math.abs(mant - m) < 1e-5),
              `step ${step}`,
            ).toBe(true);
            for (let i = 1; i < t.length; i++)
              expect(Math.abs(t[i] - t[i - 1] - step)).toBeLessThan(step * 1e-5);
          }
        },
      ),
    );
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(0, Number.NaN)).toEqual([]);
  });
});

describe('lossCurveSvg', () => {
  it('maps the first and last step to the plot edges, one circle per evaluation', () => {
    const svg = lossCurveSvg(
      {
        train: [
          [1, 3],
          [10, 2],
          [20, 1.5],
        ],
        heldOut: [
          [10, 2.2, 0.1],
          [20, 1.7, 0.1],
        ],
      },
      { width: 400, height: 200, smoothing: 0 },
    );
    const box = plotBox(400, 200);
    const raw = /class="train-raw" d="([^"]+)"/.exec(svg)![1];
    const pts = raw
      .split(/[ML]/)
      .filter(Boolean)
      .map((p) => p.split(',').map(Number));
    expect(pts[0][0]).toBeCloseTo(box.left, 1);
    expect(pts[2][0]).toBeCloseTo(box.right, 1);
    // y: the highest training value is above (smaller y than) the lowest
    expect(pts[0][1]).toBeLessThan(pts[2][1]);
    // smoothing 0 draws the same path twice
    expect(/class="train-smooth" d="([^"]+)"/.exec(svg)![1]).toBe(raw);
    expect(svg.match(/class="held-out"/g)).toHaveLength(2);
    expect(svg.match(/class="held-ci"/g)).toHaveLength(2);
    expect(svg).toContain('step 20: 1.7000 ± 0.1000 bits/dim');
  });

  it('says so when there are no metrics', () => {
    expect(lossCurveSvg({ train: [], heldOut: [] })).toContain('no metrics yet');
  });

  it('linearScale maps the domain ends to the range ends', () => {
    const s = linearScale([2, 4], [10, 0]);
    expect([s(2), s(3), s(4)]).toEqual([10, 5, 0]);
    expect(linearScale([1, 1], [0, 10])(1)).toBe(5);
  });
});
