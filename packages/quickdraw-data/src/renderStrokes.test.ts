import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNdjson } from './ndjson';
import { BITMAP_BYTES, parseBitmapNpy } from './npy';
import { renderDrawings, renderStrokes } from './renderStrokes';
import type { Stroke } from './types';

const strokeArb: fc.Arbitrary<Stroke> = fc
  .integer({ min: 1, max: 6 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
    ),
  );
const drawingArb = fc.array(strokeArb, { minLength: 1, maxLength: 4 });

describe('renderStrokes against Google bitmaps', () => {
  it('reproduces the real 28x28 bitmaps of the drawings in both forms (mean |diff| < 2/255)', () => {
    const dir = path.join(quickdrawDir(), 'full');
    const classes = fs.readdirSync(path.join(dir, 'numpy_bitmap')).map((f) => f.slice(0, -4));
    expect(classes).toHaveLength(18);
    let sum = 0;
    let count = 0;
    let worst = 0;
    for (const name of classes) {
      const { images } = parseBitmapNpy(
        new Uint8Array(fs.readFileSync(path.join(dir, 'numpy_bitmap', `${name}.npy`))),
      );
      const drawings = parseNdjson(
        fs.readFileSync(path.join(dir, 'simplified', `${name}.ndjson`), 'utf8'),
        'simplified',
      );
      // Line i is row i of the official file; train.npy holds official rows 0, 100, ...
      const n = name === 'train' ? 1 : 25;
      const rendered = renderDrawings(
        drawings.slice(0, n).map((d) => d.drawing),
        {},
      );
      for (let i = 0; i < n; i++) {
        let diff = 0;
        for (let p = 0; p < BITMAP_BYTES; p++) {
          diff += Math.abs(rendered[i * BITMAP_BYTES + p] - images[i * BITMAP_BYTES + p]);
        }
        diff /= BITMAP_BYTES;
        worst = Math.max(worst, diff);
        sum += diff;
        count++;
      }
    }
    const mean = sum / count;
    console.log(
      `renderStrokes vs Google bitmaps: ${count} drawings, mean |diff| ${mean.toFixed(3)}/255, worst drawing ${worst.toFixed(3)}/255`,
    );
    expect(count).toBe(17 * 25 + 1);
    expect(mean).toBeLessThan(2);
    expect(worst).toBeLessThan(2);
  });
});

describe('renderStrokes geometry', () => {
  it('leaves the outer ring of a 28x28 bitmap black, as in Google bitmaps', () => {
    fc.assert(
      fc.property(drawingArb, (strokes) => {
        const img = renderStrokes(strokes);
        const ring = Array.from({ length: 28 }, (_, i) => [i, 27 * 28 + i, i * 28, i * 28 + 27]);
        expect(ring.flat().map((p) => img[p])).toEqual(new Array(112).fill(0));
      }),
      { numRuns: 40 },
    );
  });

  it('inks the area of a capsule: 2 r L + pi r^2 pixels (closed form)', () => {
    const size = 128;
    const s = size / 304;
    const r = 8 * s;
    for (const [x0, y0, x1, y1] of [
      [40, 40, 40, 40],
      [10, 30, 200, 30],
      [0, 0, 255, 255],
      [100, 10, 130, 240],
    ]) {
      const img = renderStrokes(
        [
          [
            [x0, x1],
            [y0, y1],
          ],
        ],
        { size },
      );
      const ink = img.reduce((a, v) => a + v, 0) / 255;
      const len = Math.hypot(x1 - x0, y1 - y0) * s;
      const area = 2 * r * len + Math.PI * r * r;
      expect(Math.abs(ink - area) / area).toBeLessThan(0.01);
    }
  });

  it('centres the drawing: mirroring the strokes mirrors the image', () => {
    fc.assert(
      fc.property(drawingArb, fc.constantFrom(28, 40), (raw, size) => {
        // Simplified drawings start at 0 on both axes; then x -> max - x keeps the bounding box.
        const minX = Math.min(...raw.flatMap(([xs]) => xs));
        const minY = Math.min(...raw.flatMap(([, ys]) => ys));
        const strokes = raw.map(
          ([xs, ys]) => [xs.map((x) => x - minX), ys.map((y) => y - minY)] as Stroke,
        );
        const maxX = Math.max(...strokes.flatMap(([xs]) => xs));
        const maxY = Math.max(...strokes.flatMap(([, ys]) => ys));
        const mx = strokes.map(([xs, ys]) => [xs.map((x) => maxX - x), ys] as Stroke);
        const my = strokes.map(([xs, ys]) => [xs, ys.map((y) => maxY - y)] as Stroke);
        // y is sampled: with 16 sub-scanlines and an even size, no flat edge of a capsule (at a
        // multiple of 1/2 unit) lies exactly on a sub-scanline, where float rounding could break
        // the tie differently for the mirror image (with 15, it can).
        const o = { size, subsamples: 16 };
        const a = renderStrokes(strokes, o);
        const bx = renderStrokes(mx, o);
        const by = renderStrokes(my, o);
        let worst = 0;
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) {
            const v = a[i * size + j];
            worst = Math.max(worst, Math.abs(v - bx[i * size + (size - 1 - j)]));
            // Sub-scanlines sit symmetrically in each pixel row, so y mirrors too.
            worst = Math.max(worst, Math.abs(v - by[(size - 1 - i) * size + j]));
          }
        }
        expect(worst).toBeLessThanOrEqual(1);
      }),
      { numRuns: 25 },
    );
  });

  it('composites strokes as v = c + v (1 - c): a stroke drawn twice gives 1 - (1 - c)^2', () => {
    fc.assert(
      fc.property(strokeArb, (stroke) => {
        const once = renderStrokes([stroke], { subsamples: 30 });
        const twice = renderStrokes([stroke, stroke], { subsamples: 30 });
        let worst = 0;
        for (let p = 0; p < once.length; p++) {
          const c = once[p] / 255;
          worst = Math.max(worst, Math.abs(twice[p] - 255 * (1 - (1 - c) ** 2)));
        }
        // `once` is rounded to 1/255: that error is at most doubled, plus rounding of `twice`.
        expect(worst).toBeLessThanOrEqual(1.5);
      }),
      { numRuns: 25 },
    );
  });

  it('renders at any size consistently: a 2x2 box average of size 56 matches size 28', () => {
    fc.assert(
      fc.property(strokeArb, (stroke) => {
        const small = renderStrokes([stroke], { size: 28, subsamples: 30 });
        const big = renderStrokes([stroke], { size: 56, subsamples: 15 });
        let diff = 0;
        for (let i = 0; i < 28; i++) {
          for (let j = 0; j < 28; j++) {
            const b =
              (big[2 * i * 56 + 2 * j] +
                big[2 * i * 56 + 2 * j + 1] +
                big[(2 * i + 1) * 56 + 2 * j] +
                big[(2 * i + 1) * 56 + 2 * j + 1]) /
              4;
            diff += Math.abs(b - small[i * 28 + j]);
          }
        }
        expect(diff / 784).toBeLessThan(0.5);
      }),
      { numRuns: 20 },
    );
  });

  it('draws a single point as a dot and an empty drawing as black', () => {
    const dot = renderStrokes([[[128], [128]]]);
    expect(dot.some((v) => v > 0)).toBe(true);
    expect(renderStrokes([]).every((v) => v === 0)).toBe(true);
    const out = new Uint8Array(16);
    expect(renderStrokes([[[0], [0]]], { size: 4, out })).toBe(out);
    expect(renderDrawings([[], [[[1], [1]]]], { size: 5 }).length).toBe(50);
  });
});

describe('renderStrokes validation', () => {
  it('rejects malformed strokes with clear messages', () => {
    expect(() => renderStrokes('x' as never)).toThrow(
      'Error in renderStrokes: strokes must be an array of [xs, ys] pairs',
    );
    expect(() => renderStrokes([[[1, 2]]] as never)).toThrow(
      'Error in renderStrokes: stroke 0 must be an array [xs, ys]',
    );
    expect(() => renderStrokes([[[1], ['a']]] as never)).toThrow(
      'Error in renderStrokes: stroke 0 must hold arrays of finite numbers [xs, ys]',
    );
    expect(() => renderStrokes([[[1], [Number.NaN]]])).toThrow('arrays of finite numbers');
    expect(() =>
      renderStrokes([
        [[1], [1]],
        [[1, 2], [3]],
      ]),
    ).toThrow('Error in renderStrokes: stroke 1 has 2 x but 1 y coordinates');
    expect(() => renderStrokes([[[], []]])).toThrow(
      'Error in renderStrokes: stroke 0 has no points',
    );
  });

  it('rejects bad options', () => {
    const s: Stroke[] = [[[1], [1]]];
    expect(() => renderStrokes(s, { size: 0 })).toThrow(
      'Error in renderStrokes: size must be a positive integer, got 0',
    );
    expect(() => renderStrokes(s, { size: 2.5 })).toThrow('size must be a positive integer');
    expect(() => renderStrokes(s, { lineDiameter: 0 })).toThrow(
      'Error in renderStrokes: lineDiameter must be a positive number, got 0',
    );
    expect(() => renderStrokes(s, { padding: -1 })).toThrow(
      'Error in renderStrokes: padding must be a number >= 0, got -1',
    );
    expect(() => renderStrokes(s, { subsamples: 0 })).toThrow(
      'Error in renderStrokes: subsamples must be a positive integer, got 0',
    );
    expect(() => renderStrokes(s, { out: new Uint8Array(3) })).toThrow(
      'Error in renderStrokes: out has length 3, expected 784',
    );
    expect(() => renderDrawings([s], { size: -1 })).toThrow(
      'Error in renderDrawings: size must be a positive integer, got -1',
    );
  });
});
