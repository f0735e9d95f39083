import fs from 'node:fs';
import type { ExampleOrder, RawExamples, TrainingData } from '@pixelcnn/pixelcnn-dist';
import { type NpyHeader, parseNpyHeader, rowSplit } from '@pixelcnn/quickdraw-data';
import { UsageError } from './args';
import { epochPermutation } from './rng';

/** A uint8 image array read from a .npy file: `[N, H, W]` (C = 1) or `[N, H, W, C]`. */
export interface NpyImages {
  shape: [number, number, number, number];
  data: Uint8Array;
}

const isLittle = (descr: string) => !descr.startsWith('>');

/**
 * Read a uint8 `[N, H, W]` or `[N, H, W, C]` .npy file (C order, as `np.save` writes it), with
 * errors that name the file and the fix.
 */
export function readNpyImages(file: string, option = '--images'): NpyImages {
  const { bytes, header } = readNpy(file, option);
  const shape = header.shape;
  if (!/^[|<>=]?u1$/.test(header.descr)) {
    throw new UsageError(
      `option ${option}: ${file} has dtype '${header.descr}'; expected uint8 pixels 0..255 (in numpy: np.save(f, x.astype(np.uint8)))`,
    );
  }
  if (header.fortranOrder) {
    throw new UsageError(
      `option ${option}: ${file} is in Fortran order; save a C-order array (np.ascontiguousarray)`,
    );
  }
  if (shape.length !== 3 && shape.length !== 4) {
    throw new UsageError(
      `option ${option}: ${file} has shape (${shape.join(', ')}); expected images [N, H, W] or [N, H, W, C]`,
    );
  }
  const [n, h, w, c = 1] = shape;
  if (!(n >= 1 && h >= 1 && w >= 1 && c >= 1)) {
    throw new UsageError(`option ${option}: ${file} has shape (${shape.join(', ')}): no images`);
  }
  const need = n * h * w * c;
  const have = bytes.length - header.dataOffset;
  if (have !== need) {
    throw new UsageError(
      `option ${option}: ${file} has ${have} data bytes, its shape (${shape.join(', ')}) needs ${need} (${have < need ? 'truncated' : 'trailing bytes'}?)`,
    );
  }
  return {
    shape: [n, h, w, c],
    data: bytes.subarray(header.dataOffset, header.dataOffset + need),
  };
}

/**
 * Read integer class labels `[N]` or `[N, 1]` from a .npy file (any 1-, 2-, 4- or 8-byte integer
 * dtype), each in 0..65535.
 */
export function readNpyLabels(file: string, rows: number, option = '--labels'): Int32Array {
  const { bytes, header } = readNpy(file, option);
  const m = /^[|<>=]?([iu])([1248])$/.exec(header.descr);
  if (!m) {
    throw new UsageError(
      `option ${option}: ${file} has dtype '${header.descr}'; expected integer class labels (e.g. np.save(f, y.astype(np.int64)))`,
    );
  }
  const shape = header.shape;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw new UsageError(
      `option ${option}: ${file} has shape (${shape.join(', ')}); expected one label per image, [N] or [N, 1]`,
    );
  }
  if (shape[0] !== rows) {
    throw new UsageError(
      `option ${option}: ${file} has ${shape[0]} labels but --images has ${rows} images`,
    );
  }
  const size = Number(m[2]);
  if (bytes.length - header.dataOffset !== rows * size) {
    throw new UsageError(
      `option ${option}: ${file} has ${bytes.length - header.dataOffset} data bytes, ${rows} labels of ${size} bytes need ${rows * size}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, rows * size);
  const little = isLittle(header.descr);
  const signed = m[1] === 'i';
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * size;
    const v =
      size === 1
        ? signed
          ? view.getInt8(o)
          : view.getUint8(o)
        : size === 2
          ? signed
            ? view.getInt16(o, little)
            : view.getUint16(o, little)
          : size === 4
            ? signed
              ? view.getInt32(o, little)
              : view.getUint32(o, little)
            : Number(signed ? view.getBigInt64(o, little) : view.getBigUint64(o, little));
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff)) {
      throw new UsageError(
        `option ${option}: label ${i} of ${file} is ${v}; labels must be class numbers 0..65535`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** The bytes and the parsed header of a .npy file; errors name the option and the file. */
function readNpy(file: string, option: string): { bytes: Uint8Array; header: NpyHeader } {
  let bytes: Uint8Array;
  try {
    const buf = fs.readFileSync(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new UsageError(
      `option ${option}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    return { bytes, header: parseNpyHeader(bytes, file) };
  } catch (e) {
    throw new UsageError(
      `option ${option}: ${(e as Error).message.replace(/^Error in \w+: /, '')}`,
    );
  }
}

/**
 * Images held in memory as a dataset: a train/held-out split by a hash of the row (as QuickDraw's,
 * so it never depends on the order of the other rows), a seeded shuffle per (seed, epoch), and
 * labels 0..k-1 (all 0 without labels).
 */
export class ArrayDataset implements TrainingData {
  /** Examples of each split in row order. */
  private readonly index: Record<'train' | 'test', ExampleOrder>;
  readonly imageBytes: number;
  /** Number of classes (1 without labels). */
  readonly numClasses: number;

  constructor(
    readonly images: NpyImages,
    readonly labels: Int32Array | undefined,
    heldOut: number,
  ) {
    const [n, h, w, c] = images.shape;
    this.imageBytes = h * w * c;
    let most = 0;
    for (const l of labels ?? []) most = Math.max(most, l);
    this.numClasses = most + 1;
    const rows: Record<'train' | 'test', number[]> = { train: [], test: [] };
    for (let r = 0; r < n; r++) rows[rowSplit('images', r, heldOut)].push(r);
    const order = (list: number[]): ExampleOrder => ({
      row: Uint32Array.from(list),
      classIndex: Uint16Array.from(list, (r) => (labels ? labels[r] : 0)),
    });
    this.index = { train: order(rows.train), test: order(rows.test) };
  }

  size(split: 'train' | 'test'): number {
    return this.index[split].row.length;
  }

  /** Images per class in the whole array. */
  countsPerClass(): number[] {
    const counts = new Array<number>(this.numClasses).fill(0);
    for (const split of ['train', 'test'] as const)
      for (const c of this.index[split].classIndex) counts[c]++;
    return counts;
  }

  examples(
    split: 'train' | 'test',
    o: { shuffle?: boolean; seed?: number; epoch?: number } = {},
  ): ExampleOrder {
    const base = this.index[split];
    if (!(o.shuffle ?? true)) return { row: base.row.slice(), classIndex: base.classIndex.slice() };
    const p = epochPermutation(base.row.length, o.seed ?? 0, o.epoch ?? 0);
    return {
      row: p.map((i) => base.row[i]),
      classIndex: Uint16Array.from(p, (i) => base.classIndex[i]),
    };
  }

  async read(order: ExampleOrder, start = 0, end = order.row.length): Promise<RawExamples> {
    const size = end - start;
    const bytes = this.imageBytes;
    const images = new Uint8Array(size * bytes);
    const labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const r = order.row[start + i];
      images.set(this.images.data.subarray(r * bytes, (r + 1) * bytes), i * bytes);
      labels[i] = order.classIndex[start + i];
    }
    return { size, images, labels };
  }
}
