import fs from 'node:fs';
import path from 'node:path';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CATEGORIES_ORDER,
  classLabel,
  className,
  classNames,
  closestClassNames,
  convertLabel,
  editDistance,
  isClassName,
  NUM_CLASSES,
  resolveClassName,
  TFDS_ORDER,
} from './classNames';

const lines = (file: string) =>
  fs
    .readFileSync(path.join(quickdrawDir(), file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

describe('class name constants', () => {
  it('are the shared categories.txt and tfds_quickdraw_labels.txt (run scripts/generateData.mjs if not)', () => {
    expect([...CATEGORIES_ORDER]).toEqual(lines('categories.txt'));
    expect([...TFDS_ORDER]).toEqual(lines('tfds_quickdraw_labels.txt'));
    expect(NUM_CLASSES).toBe(345);
  });

  it('TFDS order is a case-insensitive sort of <name>.npy, and differs from categories at 37 indices', () => {
    const sorted = [...CATEGORIES_ORDER].sort((a, b) => {
      const x = `${a}.npy`.toLowerCase();
      const y = `${b}.npy`.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
    expect([...TFDS_ORDER]).toEqual(sorted);
    expect(CATEGORIES_ORDER.filter((n, i) => TFDS_ORDER[i] !== n)).toHaveLength(37);
  });

  it('gives the TFDS labels of the well-known PixelCNN/QuickDraw example classes', () => {
    const known: Record<string, number> = {
      bee: 26,
      bicycle: 29,
      broccoli: 43,
      butterfly: 49,
      cactus: 50,
      frog: 125,
      guitar: 134,
      lightning: 172,
      penguin: 218,
      pizza: 225,
      rollerskates: 246,
      'sea turtle': 255,
      sheep: 258,
      snowflake: 271,
      sun: 295,
      swan: 296,
      'The Eiffel Tower': 309,
      tractor: 320,
      train: 322,
      tree: 323,
    };
    for (const [name, label] of Object.entries(known)) {
      expect(classLabel(name)).toBe(label);
      expect(className(label)).toBe(name);
    }
  });

  it('maps labels to names and back in both orders', () => {
    for (const order of ['tfds', 'categories'] as const) {
      const names = classNames(order);
      names.forEach((n, i) => {
        expect(classLabel(n, order)).toBe(i);
        expect(className(i, order)).toBe(n);
      });
    }
    for (let i = 0; i < NUM_CLASSES; i++) {
      const c = convertLabel(i, 'tfds', 'categories');
      expect(CATEGORIES_ORDER[c]).toBe(TFDS_ORDER[i]);
      expect(convertLabel(c, 'categories', 'tfds')).toBe(i);
    }
  });
});

describe('class name lookup', () => {
  it('ignores case, spaces, underscores and hyphens', () => {
    expect(resolveClassName('Alarm_Clock')).toBe('alarm clock');
    expect(resolveClassName('  the eiffel   TOWER ')).toBe('The Eiffel Tower');
    expect(resolveClassName('tshirt')).toBe('t-shirt');
    expect(resolveClassName('Teddy Bear')).toBe('teddy-bear');
    expect(resolveClassName(26)).toBe('bee');
    expect(resolveClassName(26, 'categories')).toBe(CATEGORIES_ORDER[26]);
    expect(isClassName('SEA_TURTLE')).toBe(true);
    expect(isClassName('sea turtel')).toBe(false);
  });

  it('suggests the closest name for unknown names', () => {
    expect(() => classLabel('beee')).toThrow(
      "Error in classLabel: unknown QuickDraw class 'beee'; did you mean 'bee'?",
    );
    expect(() => resolveClassName('sea turtel')).toThrow("did you mean 'sea turtle'?");
    expect(() => resolveClassName('eiffel tower')).toThrow("did you mean 'The Eiffel Tower'?");
    expect(closestClassNames('aple', 1)).toEqual(['apple']);
    expect(closestClassNames('cat', 0)).toEqual([]);
    // Best first: distances (on the lower-cased, unspaced names) never decrease, and the first
    // is the minimum over all classes.
    const key = (n: string) => n.toLowerCase().replace(/[\s_-]+/g, '');
    const dists = closestClassNames('Sea-Turtle Bay', 10).map((n) =>
      editDistance('seaturtlebay', key(n)),
    );
    expect(dists).toEqual([...dists].sort((a, b) => a - b));
    expect(dists[0]).toBe(Math.min(...TFDS_ORDER.map((n) => editDistance('seaturtlebay', key(n)))));
  });

  it('rejects bad labels, orders and types', () => {
    expect(() => className(345)).toThrow(
      'Error in className: label 345 is not an integer in 0..344 (tfds order)',
    );
    expect(() => className(-1, 'categories')).toThrow('label -1 is not an integer in 0..344');
    expect(() => className(1.5)).toThrow('label 1.5 is not an integer');
    expect(() => classNames('alphabetical' as never)).toThrow(
      "Error in classNames: order must be 'tfds' or 'categories', got 'alphabetical'",
    );
    expect(() => convertLabel(0, 'tfds', 'x' as never)).toThrow(
      "Error in convertLabel: order must be 'tfds' or 'categories'",
    );
    expect(() => resolveClassName(null as never)).toThrow(
      'Error in resolveClassName: expected a class name or label, got object null',
    );
  });
});

/** Reference: the textbook recursive definition, memoised. */
function levenshtein(a: string, b: string): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    const v = Math.min(
      d(i - 1, j) + 1,
      d(i, j - 1) + 1,
      d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
    );
    memo.set(k, v);
    return v;
  };
  return d(a.length, b.length);
}

describe('editDistance', () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 8 });

  it('equals the recursive definition', () => {
    fc.assert(fc.property(word, word, (a, b) => editDistance(a, b) === levenshtein(a, b)));
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('is a metric', () => {
    fc.assert(
      fc.property(word, word, word, (a, b, c) => {
        expect(editDistance(a, a)).toBe(0);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
        expect(editDistance(a, b)).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});
