import fs from 'node:fs';
import path from 'node:path';
import { describeBackends, quickdrawDir } from '@pixelcnn/backend/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect } from '../test/helpers';
import { CATEGORIES_ORDER, TFDS_ORDER } from './classNames';
import { BITMAP_BYTES, parseBitmapNpy } from './npy';
import {
  type BitmapSource,
  memorySource,
  QuickDrawDataset,
  rowSplit,
  seededPermutation,
  seededRandom,
  toBatch,
} from './quickDrawDataset';

/** Synthetic class: row r is filled with the value (base + r) & 255, so a row identifies itself. */
function synthetic(name: string, rows: number, base: number): BitmapSource {
  const images = new Uint8Array(rows * BITMAP_BYTES);
  for (let r = 0; r < rows; r++) {
    images.fill((base + r) & 255, r * BITMAP_BYTES, (r + 1) * BITMAP_BYTES);
  }
  return memorySource(name, images);
}

const sharedImages = (name: string) =>
  parseBitmapNpy(
    new Uint8Array(
      fs.readFileSync(path.join(quickdrawDir(), 'full', 'numpy_bitmap', `${name}.npy`)),
    ),
  ).images;

/** (class, row) pairs of a split, as strings. */
const pairs = (ds: QuickDrawDataset, split: 'train' | 'test' | 'all') => {
  const ex = ds.examples(split, { shuffle: false });
  return Array.from(ex.row, (r, i) => `${ds.classes[ex.classIndex[i]]}#${r}`);
};

describe('rowSplit', () => {
  it('puts about testFraction of rows in test (binomial 5-sigma bound)', () => {
    for (const f of [0, 0.1, 0.25, 1]) {
      const n = 20000;
      let test = 0;
      for (let r = 0; r < n; r++) if (rowSplit('cat', r, f, 7) === 'test') test++;
      const sd = Math.sqrt(n * f * (1 - f));
      expect(Math.abs(test - n * f)).toBeLessThanOrEqual(5 * sd + 1e-9);
    }
  });

  it('depends on the class name, row and seed only', () => {
    fc.assert(
      fc.property(fc.nat(10 ** 7), fc.integer(), (row, seed) => {
        expect(rowSplit('dog', row, 0.3, seed)).toBe(rowSplit('dog', row, 0.3, seed));
      }),
    );
    const a = Array.from({ length: 200 }, (_, r) => rowSplit('dog', r));
    const b = Array.from({ length: 200 }, (_, r) => rowSplit('cat', r));
    const c = Array.from({ length: 200 }, (_, r) => rowSplit('dog', r, 0.1, 1));
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('QuickDrawDataset splits and order', () => {
  const sources = () => [synthetic('cat', 300, 0), synthetic('dog', 200, 100)];

  it('splits every row into exactly one of train and test', () => {
    const ds = new QuickDrawDataset(sources());
    const train = pairs(ds, 'train');
    const test = pairs(ds, 'test');
    expect(train.length + test.length).toBe(500);
    expect(ds.size('all')).toBe(500);
    expect(new Set([...train, ...test]).size).toBe(500);
    expect(train.filter((p) => test.includes(p))).toEqual([]);
    for (const p of test) {
      const [name, row] = p.split('#');
      expect(rowSplit(name, Number(row))).toBe('test');
    }
  });

  it('never moves a row between splits when limits or class order change', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.nat(200), fc.boolean(), (capCat, capDog, swap) => {
        const full = new QuickDrawDataset(sources());
        const list = swap ? [...sources()].reverse() : sources();
        const limited = new QuickDrawDataset(list, {
          maxPerClass: { Cat: capCat, dog: capDog },
        });
        expect(limited.rowsPerClass).toEqual(swap ? [capDog, capCat] : [capCat, capDog]);
        const fullTest = new Set(pairs(full, 'test'));
        const fullTrain = new Set(pairs(full, 'train'));
        for (const p of pairs(limited, 'test')) expect(fullTest.has(p)).toBe(true);
        for (const p of pairs(limited, 'train')) expect(fullTrain.has(p)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('shuffles with a seed: a permutation, reproducible, different per seed and epoch', () => {
    const ds = new QuickDrawDataset(sources(), { maxPerClass: 50 });
    const key = (ex: { classIndex: Uint16Array; row: Uint32Array }) =>
      Array.from(ex.row, (r, i) => `${ex.classIndex[i]}#${r}`);
    const a = key(ds.examples('train', { seed: 1 }));
    expect(key(ds.examples('train', { seed: 1 }))).toEqual(a);
    expect(key(ds.examples('train', { seed: 2 }))).not.toEqual(a);
    expect(key(ds.examples('train', { seed: 1, epoch: 1 }))).not.toEqual(a);
    expect([...a].sort()).toEqual(key(ds.examples('train', { shuffle: false })).sort());
    // Shuffled, the classes are mixed: the first half holds both.
    expect(new Set(a.slice(0, a.length / 2).map((k) => k.split('#')[0])).size).toBe(2);
  });

  it('seededRandom gives reproducible uniform floats in [0, 1)', () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 10000 }, () => r());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / xs.length));
    const again = seededRandom(42);
    expect(Array.from({ length: 5 }, () => again())).toEqual(xs.slice(0, 5));
  });

  it('seededPermutation is a permutation, repeated by the same generator state', () => {
    const p = seededPermutation(1000, seededRandom(7));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seededPermutation(1000, seededRandom(7))).toEqual(p);
    expect(seededPermutation(1000, seededRandom(8))).not.toEqual(p);
    // Fisher-Yates from the last position down: with a generator always at 0, each position i
    // swaps with 0, which rotates the identity by one.
    expect(Array.from(seededPermutation(5, () => 0))).toEqual([1, 2, 3, 4, 0]);
  });
});

describe('QuickDrawDataset labels and raw batches', () => {
  it('labels by TFDS order, categories order or position', async () => {
    const make = (labels: 'tfds' | 'categories' | 'index') =>
      new QuickDrawDataset([synthetic('The Mona Lisa', 3, 0), synthetic('Baseball', 3, 0)], {
        labels,
      });
    expect(make('tfds').classes).toEqual(['The Mona Lisa', 'baseball']);
    expect(make('tfds').classLabels).toEqual([
      TFDS_ORDER.indexOf('The Mona Lisa'),
      TFDS_ORDER.indexOf('baseball'),
    ]);
    expect(make('categories').classLabels).toEqual([
      CATEGORIES_ORDER.indexOf('The Mona Lisa'),
      CATEGORIES_ORDER.indexOf('baseball'),
    ]);
    expect(make('index').classLabels).toEqual([0, 1]);
    // Custom (non-QuickDraw) names are fine when labels are positions.
    const custom = new QuickDrawDataset([synthetic('my doodles', 4, 0)], { labels: 'index' });
    expect(custom.classes).toEqual(['my doodles']);
  });

  it('yields batches whose pixels are the rows named by examples()', async () => {
    const cat = sharedImages('cat');
    const fish = sharedImages('fish');
    const ds = new QuickDrawDataset([memorySource('cat', cat), memorySource('fish', fish)], {
      maxPerClass: 40,
      labels: 'index',
    });
    const ex = ds.examples('train', { seed: 3 });
    const batches = await collect(ds.rawBatches({ batchSize: 16, seed: 3 }));
    expect(batches.map((b) => b.size)).toEqual(
      Array.from({ length: Math.ceil(ds.size() / 16) }, (_, i) => Math.min(16, ds.size() - 16 * i)),
    );
    let i = 0;
    for (const b of batches) {
      for (let k = 0; k < b.size; k++, i++) {
        const src = ex.classIndex[i] === 0 ? cat : fish;
        const row = ex.row[i];
        expect(b.labels[k]).toBe(ex.classIndex[i]);
        expect(b.images.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES)).toEqual(
          src.subarray(row * BITMAP_BYTES, (row + 1) * BITMAP_BYTES),
        );
      }
    }
    const dropped = await collect(ds.rawBatches({ batchSize: 16, dropRemainder: true }));
    expect(dropped.map((b) => b.size)).toEqual(new Array(Math.floor(ds.size() / 16)).fill(16));
  });
});

describe('QuickDrawDataset validation', () => {
  const one = () => [synthetic('cat', 3, 0)];

  it('rejects bad construction options', () => {
    expect(() => new QuickDrawDataset([])).toThrow(
      'Error in QuickDrawDataset: needs at least one source',
    );
    expect(() => new QuickDrawDataset([synthetic('cat', 1, 0), synthetic('CAT', 1, 0)])).toThrow(
      "Error in QuickDrawDataset: class 'cat' is given twice",
    );
    expect(() => new QuickDrawDataset([synthetic('catt', 1, 0)])).toThrow(
      "Error in QuickDrawDataset: unknown QuickDraw class 'catt'; did you mean 'cat'?",
    );
    expect(() => new QuickDrawDataset(one(), { labels: 'names' as never })).toThrow(
      "Error in QuickDrawDataset: labels must be 'tfds', 'categories' or 'index', got 'names'",
    );
    expect(() => new QuickDrawDataset(one(), { testFraction: 1.5 })).toThrow(
      'Error in QuickDrawDataset: testFraction must be in [0, 1], got 1.5',
    );
    expect(() => new QuickDrawDataset(one(), { splitSeed: 0.5 })).toThrow(
      'Error in QuickDrawDataset: splitSeed must be an integer, got 0.5',
    );
    expect(() => new QuickDrawDataset(one(), { maxPerClass: -1 })).toThrow(
      'Error in QuickDrawDataset: maxPerClass must be an integer >= 0, got -1',
    );
    expect(() => new QuickDrawDataset(one(), { maxPerClass: { cat: 2.5 } })).toThrow(
      "maxPerClass['cat'] must be an integer >= 0, got 2.5",
    );
    expect(() => new QuickDrawDataset(one(), { maxPerClass: { dog: 2 } })).toThrow(
      "Error in QuickDrawDataset: maxPerClass names 'dog', which is not among the classes [cat]",
    );
  });

  it('rejects bad batch requests and sources', async () => {
    const ds = new QuickDrawDataset(one());
    await expect(collect(ds.rawBatches({ batchSize: 0 }))).rejects.toThrow(
      'Error in rawBatches: batchSize must be a positive integer, got 0',
    );
    await expect(collect(ds.rawBatches({ batchSize: 2, split: 'val' as never }))).rejects.toThrow(
      "Error in rawBatches: split must be 'train', 'test' or 'all', got 'val'",
    );
    expect(() => ds.size('dev' as never)).toThrow(
      "Error in size: split must be 'train', 'test' or 'all'",
    );
    expect(() => memorySource('cat', new Uint8Array(10))).toThrow(
      'Error in memorySource: images must be a Uint8Array of N * 784 pixels, got length 10',
    );
    expect(() => memorySource('', new Uint8Array(0))).toThrow(
      'Error in memorySource: name must be a non-empty string',
    );
    expect(() => one()[0].readRows([3])).toThrow(
      "Error in memorySource: row 3 of 'cat' is outside 0..2",
    );
    expect(() =>
      toBatch({ size: 2, images: new Uint8Array(BITMAP_BYTES), labels: new Int32Array(2) }),
    ).toThrow('Error in toBatch: expected 1568 pixels and 2 labels, got 784 and 2');
  });
});

describeBackends('QuickDrawDataset tensors', () => {
  it('batches as {images: [B,28,28,1] float32 0..255, labels: [B] int32}', async () => {
    const ds = new QuickDrawDataset([synthetic('cat', 20, 250), synthetic('dog', 20, 0)], {
      testFraction: 0,
    });
    let seen = 0;
    for await (const { images, labels } of ds.batches({ batchSize: 8, seed: 5 })) {
      const b = labels.shape[0];
      expect(images.shape).toEqual([b, 28, 28, 1]);
      expect(images.dtype).toBe('float32');
      expect(labels.dtype).toBe('int32');
      const px = await images.data();
      const lab = await labels.data();
      for (let k = 0; k < b; k++) {
        // Row r of class c is filled with (base + r) & 255; every pixel of an image is equal.
        const v = px[k * BITMAP_BYTES];
        expect(Array.from(px.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES))).toEqual(
          new Array(BITMAP_BYTES).fill(v),
        );
        expect([TFDS_ORDER.indexOf('cat'), TFDS_ORDER.indexOf('dog')]).toContain(lab[k]);
      }
      seen += b;
      images.dispose();
      labels.dispose();
    }
    expect(seen).toBe(40);
  });

  it('loads a whole split at once', async () => {
    const ds = new QuickDrawDataset([synthetic('cat', 30, 0)], { testFraction: 0.5 });
    const { images, labels } = await ds.load('test', { maxExamples: 5 });
    expect(images.shape).toEqual([Math.min(5, ds.size('test')), 28, 28, 1]);
    const ex = ds.examples('test', { shuffle: false });
    const px = await images.data();
    expect(px[0]).toBe(ex.row[0]);
    images.dispose();
    labels.dispose();
  });
});
