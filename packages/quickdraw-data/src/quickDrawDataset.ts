import * as tf from '@tensorflow/tfjs-core';
import { classLabel, isClassName, resolveClassName, resolveIn } from './classNames';
import { BITMAP_BYTES, BITMAP_SIDE } from './npy';

/**
 * Random access to the bitmaps of one class. Implemented in memory by {@link memorySource} and
 * over a file handle by `openBitmapFile` ('@pixelcnn/quickdraw-data/node').
 */
export interface BitmapSource {
  /** Class name (any spelling of a QuickDraw class; custom names work with `labels: 'index'`). */
  readonly name: string;
  /** Number of bitmaps available. */
  readonly rows: number;
  /**
   * The bitmaps at `rows` (each in 0..this.rows-1), in that order: `rows.length * 784` bytes,
   * `[n, 28, 28]` row-major uint8.
   */
  readRows(rows: ArrayLike<number>): Promise<Uint8Array> | Uint8Array;
  /** Release resources (file handles); optional. */
  close?(): Promise<void> | void;
}

/**
 * A {@link BitmapSource} over bitmaps already in memory, e.g. `parseBitmapNpy(bytes).images`
 * or the output of `renderDrawings`.
 *
 * @param images `[N * 784]` uint8, N bitmaps of 28x28 row-major.
 */
export function memorySource(name: string, images: Uint8Array): BitmapSource {
  if (typeof name !== 'string' || name.length === 0) {
    throw new Error('Error in memorySource: name must be a non-empty string');
  }
  if (!(images instanceof Uint8Array) || images.length % BITMAP_BYTES !== 0) {
    throw new Error(
      `Error in memorySource: images must be a Uint8Array of N * ${BITMAP_BYTES} pixels, got length ${(images as { length?: number })?.length}`,
    );
  }
  const rows = images.length / BITMAP_BYTES;
  return {
    name,
    rows,
    readRows(list) {
      const out = new Uint8Array(list.length * BITMAP_BYTES);
      for (let i = 0; i < list.length; i++) {
        const r = list[i];
        if (!Number.isInteger(r) || r < 0 || r >= rows) {
          throw new Error(`Error in memorySource: row ${r} of '${name}' is outside 0..${rows - 1}`);
        }
        out.set(images.subarray(r * BITMAP_BYTES, (r + 1) * BITMAP_BYTES), i * BITMAP_BYTES);
      }
      return out;
    },
  };
}

/** Which part of the data: the deterministic train or test split, or every row. */
export type Split = 'train' | 'test' | 'all';

/**
 * What the `labels` of a batch hold: the TFDS `quickdraw_bitmap` label (default; bee = 26), the
 * categories.txt index, or `'index'`, the class's position in the dataset (0..k-1).
 */
export type LabelMode = 'tfds' | 'categories' | 'index';

export interface DatasetOptions {
  /** Label numbering (default 'tfds'); 'index' remaps to 0..k-1 in the order of the sources. */
  labels?: LabelMode;
  /**
   * Use only the first rows of each class: one number for all, or per class name (any spelling).
   * The split of a row never depends on it.
   */
  maxPerClass?: number | Readonly<Record<string, number>>;
  /** Fraction of rows in the test split (default 0.1; 0 puts everything in train). */
  testFraction?: number;
  /** Seed of the row hash that decides the split (default 0). */
  splitSeed?: number;
}

export interface BatchOptions {
  /** Default 'train'. */
  split?: Split;
  batchSize: number;
  /** Shuffle all examples of the split (default true); otherwise class by class, row order. */
  shuffle?: boolean;
  /** Shuffle seed (default 0); the permutation also depends on `epoch`. */
  seed?: number;
  /** Epoch number (default 0): each epoch gets its own permutation. */
  epoch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropRemainder?: boolean;
}

/** A batch as plain arrays (no tensors): `images` `[B * 784]` uint8, `labels` `[B]`. */
export interface RawBatch {
  size: number;
  images: Uint8Array;
  labels: Int32Array;
}

/**
 * A batch of tensors. `images`: `[B, 28, 28, 1]` float32 with values 0..255 (0 = background,
 * 255 = ink, as in the .npy files); `labels`: `[B]` int32. The caller disposes them.
 */
export interface Batch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
}

/** Turn a {@link RawBatch} into tensors `{images: [B,28,28,1] float32 0..255, labels: [B] int32}`. */
export function toBatch(raw: RawBatch): Batch {
  const { size, images, labels } = raw;
  if (images.length !== size * BITMAP_BYTES || labels.length !== size) {
    throw new Error(
      `Error in toBatch: expected ${size * BITMAP_BYTES} pixels and ${size} labels, got ${images.length} and ${labels.length}`,
    );
  }
  return {
    images: tf.tensor4d(Float32Array.from(images), [size, BITMAP_SIDE, BITMAP_SIDE, 1], 'float32'),
    labels: tf.tensor1d(labels, 'int32'),
  };
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The split of row `row` of class `className`: 'test' when a hash of (class, row, splitSeed),
 * uniform in [0, 1), is below `testFraction`. It depends on nothing else, so a row never moves
 * between splits when limits, class lists or their order change.
 */
export function rowSplit(
  className: string,
  row: number,
  testFraction = 0.1,
  splitSeed = 0,
): 'train' | 'test' {
  const h = mix32(fnv1a(className) ^ mix32((row ^ mix32(splitSeed >>> 0)) >>> 0));
  return h / 2 ** 32 < testFraction ? 'test' : 'train';
}

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Fisher-Yates permutation of 0..n-1 drawn with `random` (e.g. {@link seededRandom}): the same
 * generator state gives the same order. Element i of a shuffled array is `array[p[i]]`.
 */
export function seededPermutation(n: number, random: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

function checkSplit(fn: string, split: unknown): asserts split is Split {
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new Error(
      `Error in ${fn}: split must be 'train', 'test' or 'all', got '${String(split)}'`,
    );
  }
}

/**
 * QuickDraw bitmaps of several classes as a dataset: a deterministic train/test split by row hash
 * ({@link rowSplit}), seeded shuffling, batches of `{images: [B,28,28,1] float32 0..255,
 * labels: [B] int32}`. Only the (class, row) index lives in memory (6 bytes an example); pixels
 * are read from the sources batch by batch, so file-backed sources stay memory-light.
 */
export class QuickDrawDataset {
  /** Class names in source order (canonical spelling for QuickDraw classes). */
  readonly classes: readonly string[];
  /** The label emitted for each class (per `labels` option). */
  readonly classLabels: readonly number[];
  /** Rows used per class (after `maxPerClass`). */
  readonly rowsPerClass: readonly number[];
  private readonly sources: readonly BitmapSource[];
  private readonly index: Record<Split, { cls: Uint16Array; row: Uint32Array }>;

  constructor(sources: readonly BitmapSource[], options: DatasetOptions = {}) {
    const fn = 'QuickDrawDataset';
    const { labels = 'tfds', maxPerClass, testFraction = 0.1, splitSeed = 0 } = options;
    if (!Array.isArray(sources) || sources.length === 0) {
      throw new Error(`Error in ${fn}: needs at least one source`);
    }
    if (sources.length > 0xffff) throw new Error(`Error in ${fn}: too many sources`);
    if (labels !== 'tfds' && labels !== 'categories' && labels !== 'index') {
      throw new Error(
        `Error in ${fn}: labels must be 'tfds', 'categories' or 'index', got '${String(labels)}'`,
      );
    }
    if (!(testFraction >= 0 && testFraction <= 1)) {
      throw new Error(`Error in ${fn}: testFraction must be in [0, 1], got ${testFraction}`);
    }
    if (!Number.isInteger(splitSeed)) {
      throw new Error(`Error in ${fn}: splitSeed must be an integer, got ${splitSeed}`);
    }
    const names = sources.map((s) =>
      labels === 'index' && !isClassName(s.name) ? s.name : resolveIn(fn, s.name, 'tfds'),
    );
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new Error(`Error in ${fn}: class '${n}' is given twice`);
      seen.add(n);
    }
    const limits = resolveLimits(fn, names, maxPerClass);
    this.sources = sources;
    this.classes = names;
    this.classLabels = names.map((n, i) => (labels === 'index' ? i : classLabel(n, labels)));
    this.rowsPerClass = sources.map((s, i) => Math.min(s.rows, limits[i]));

    const count = { train: 0, test: 0 };
    const splits = this.rowsPerClass.map((rows, c) => {
      const isTest = new Uint8Array(rows);
      for (let r = 0; r < rows; r++) {
        if (rowSplit(names[c], r, testFraction, splitSeed) === 'test') {
          isTest[r] = 1;
          count.test++;
        } else count.train++;
      }
      return isTest;
    });
    const total = count.train + count.test;
    const make = (n: number) => ({ cls: new Uint16Array(n), row: new Uint32Array(n) });
    this.index = { train: make(count.train), test: make(count.test), all: make(total) };
    const at = { train: 0, test: 0, all: 0 };
    splits.forEach((isTest, c) => {
      for (let r = 0; r < isTest.length; r++) {
        for (const s of [isTest[r] ? 'test' : 'train', 'all'] as const) {
          this.index[s].cls[at[s]] = c;
          this.index[s].row[at[s]] = r;
          at[s]++;
        }
      }
    });
  }

  /** Number of examples in a split. */
  size(split: Split = 'train'): number {
    checkSplit('size', split);
    return this.index[split].row.length;
  }

  /**
   * The examples of a split as (class position, row) pairs in the order batches would visit them
   * (shuffled with `seed` and `epoch` unless `shuffle` is false).
   */
  examples(
    split: Split = 'train',
    options: { shuffle?: boolean; seed?: number; epoch?: number } = {},
  ): { classIndex: Uint16Array; row: Uint32Array } {
    checkSplit('examples', split);
    const { shuffle = true, seed = 0, epoch = 0 } = options;
    const base = this.index[split];
    if (!shuffle) return { classIndex: base.cls.slice(), row: base.row.slice() };
    const p = seededPermutation(
      base.row.length,
      seededRandom(mix32((seed >>> 0) ^ mix32(epoch >>> 0))),
    );
    return {
      classIndex: base.cls.map((_, i) => base.cls[p[i]]),
      row: base.row.map((_, i) => base.row[p[i]]),
    };
  }

  /** Read the bitmaps and labels of examples `[start, end)` of an `examples()` ordering. */
  async read(
    examples: { classIndex: Uint16Array; row: Uint32Array },
    start = 0,
    end = examples.row.length,
  ): Promise<RawBatch> {
    const size = end - start;
    const images = new Uint8Array(size * BITMAP_BYTES);
    const labels = new Int32Array(size);
    const groups = new Map<number, number[]>();
    for (let i = start; i < end; i++) {
      const c = examples.classIndex[i];
      labels[i - start] = this.classLabels[c];
      const g = groups.get(c);
      if (g) g.push(i - start);
      else groups.set(c, [i - start]);
    }
    for (const [c, positions] of groups) {
      const rows = positions.map((p) => examples.row[start + p]);
      const data = await this.sources[c].readRows(rows);
      for (let k = 0; k < positions.length; k++) {
        const p = positions[k];
        images.set(data.subarray(k * BITMAP_BYTES, (k + 1) * BITMAP_BYTES), p * BITMAP_BYTES);
      }
    }
    return { size, images, labels };
  }

  /** Batches as plain arrays (no tensors), e.g. to send to a worker. See {@link batches}. */
  async *rawBatches(options: BatchOptions): AsyncGenerator<RawBatch> {
    const fn = 'rawBatches';
    const { split = 'train', batchSize, dropRemainder = false } = options;
    checkSplit(fn, split);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`Error in ${fn}: batchSize must be a positive integer, got ${batchSize}`);
    }
    const ex = this.examples(split, options);
    const n = ex.row.length;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      if (dropRemainder && end - start < batchSize) return;
      yield await this.read(ex, start, end);
    }
  }

  /**
   * One epoch of batches: `{images: [B,28,28,1] float32 0..255, labels: [B] int32}`. The caller
   * disposes each batch's tensors.
   */
  async *batches(options: BatchOptions): AsyncGenerator<Batch> {
    for await (const raw of this.rawBatches(options)) yield toBatch(raw);
  }

  /** A whole split as one batch (for small evaluation sets), at most `maxExamples` examples. */
  async load(
    split: Split = 'test',
    options: { maxExamples?: number; shuffle?: boolean; seed?: number } = {},
  ): Promise<Batch> {
    checkSplit('load', split);
    const ex = this.examples(split, { shuffle: options.shuffle ?? false, seed: options.seed });
    const end = Math.min(ex.row.length, options.maxExamples ?? Number.POSITIVE_INFINITY);
    return toBatch(await this.read(ex, 0, end));
  }

  /** Close every source that holds resources. */
  async close(): Promise<void> {
    for (const s of this.sources) await s.close?.();
  }
}

function resolveLimits(
  fn: string,
  names: readonly string[],
  maxPerClass: DatasetOptions['maxPerClass'],
): number[] {
  const check = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`Error in ${fn}: maxPerClass${what} must be an integer >= 0, got ${v}`);
    }
    return v;
  };
  if (maxPerClass === undefined) return names.map(() => Number.POSITIVE_INFINITY);
  if (typeof maxPerClass === 'number') return names.map(() => check(maxPerClass, ''));
  const limits = names.map(() => Number.POSITIVE_INFINITY);
  for (const [k, v] of Object.entries(maxPerClass)) {
    const canonical = names.includes(k) ? k : isClassName(k) ? resolveClassName(k) : k;
    const i = names.indexOf(canonical);
    if (i < 0) {
      throw new Error(
        `Error in ${fn}: maxPerClass names '${k}', which is not among the classes [${names.join(', ')}]`,
      );
    }
    limits[i] = check(v, `['${k}']`);
  }
  return limits;
}
