import { BITMAP_BYTES, fetchBitmaps, rowSplit } from '@pixelcnn/quickdraw-data';

/**
 * Rows of a class's bitmap file that a training run held out (the trainer's split:
 * `rowSplit(class, row, heldOut) === 'test'`), among its first `rows`, at most `count`, in order.
 */
export function heldOutRows(
  className: string,
  rows: number,
  heldOut: number,
  count: number,
): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows && out.length < count; r++) {
    if (rowSplit(className, r, heldOut) === 'test') out.push(r);
  }
  return out;
}

/** How many rows to fetch to find `count` held-out ones (about 2x the expected need, plus slack). */
export function rowsToFetch(
  count: number,
  heldOut: number | undefined,
  perClass: number | undefined,
): number {
  const want = heldOut && heldOut > 0 ? Math.ceil((2 * count) / heldOut) + 16 : count;
  return perClass && perClass > 0 ? Math.min(perClass, want) : want;
}

export interface RealDrawings {
  className: string;
  /** One `[28 * 28]` uint8 bitmap per drawing (0 = paper, 255 = ink). */
  images: Uint8Array[];
  /** Their rows in the class file. */
  rows: number[];
  /** 'held-out' when the run's held-out split was known and used. */
  split: 'held-out' | 'first rows';
}

/**
 * Real drawings of a class from a QuickDraw mirror served over HTTP (laid out like Google's
 * bucket): the run's held-out drawings when its split is known, else the first rows.
 */
export async function fetchRealDrawings(
  className: string,
  o: {
    baseUrl: string;
    count: number;
    heldOut?: number;
    perClass?: number;
    fetch?: typeof globalThis.fetch;
  },
): Promise<RealDrawings> {
  const maxDrawings = rowsToFetch(o.count, o.heldOut, o.perClass);
  const got = await fetchBitmaps(className, { baseUrl: o.baseUrl, maxDrawings, fetch: o.fetch });
  const useSplit = o.heldOut !== undefined && o.heldOut > 0;
  const rows = useSplit
    ? heldOutRows(got.className, got.rows, o.heldOut!, o.count)
    : Array.from({ length: Math.min(o.count, got.rows) }, (_, i) => i);
  return {
    className: got.className,
    images: rows.map((r) => got.images.slice(r * BITMAP_BYTES, (r + 1) * BITMAP_BYTES)),
    rows,
    split: useSplit ? 'held-out' : 'first rows',
  };
}
