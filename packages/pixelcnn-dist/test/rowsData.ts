import type { ExampleOrder, RawExamples, TrainingData } from '../src/trainingData';

/** The order {@link rowsData} visits `n` rows in for `seed` and `epoch`: rotated by (seed + epoch) mod n. */
export const rotation = (n: number, seed: number, epoch: number): number[] =>
  Array.from({ length: n }, (_, i) => (i + seed + epoch) % n);

/**
 * A TrainingData over images in memory, for tests: rows [0, nTrain) train, the rest are held
 * out; an epoch visits its split's rows in {@link rotation} order (a pure function of seed and
 * epoch that a test can follow by hand), `shuffle: false` in row order. Records its reads.
 */
export function rowsData(
  images: Uint8Array,
  labels: Int32Array,
  imageBytes: number,
  nTrain: number,
): TrainingData & { reads: { split: 'train' | 'test'; rows: number[] }[] } {
  const splits = {
    train: Array.from({ length: nTrain }, (_, i) => i),
    test: Array.from({ length: labels.length - nTrain }, (_, i) => nTrain + i),
  };
  const reads: { split: 'train' | 'test'; rows: number[] }[] = [];
  return {
    reads,
    size: (split) => splits[split].length,
    examples(split, o = {}): ExampleOrder {
      const rows = splits[split];
      const order =
        (o.shuffle ?? true) ? rotation(rows.length, o.seed ?? 0, o.epoch ?? 0) : rows.keys();
      const row = Uint32Array.from(order, (i) => rows[i]);
      return { row, classIndex: Uint16Array.from(row, (r) => labels[r]) };
    },
    async read(order, start = 0, end = order.row.length): Promise<RawExamples> {
      const rows = Array.from(order.row.subarray(start, end));
      reads.push({ split: rows.every((r) => r < nTrain) ? 'train' : 'test', rows });
      const out = new Uint8Array(rows.length * imageBytes);
      for (const [i, r] of rows.entries())
        out.set(images.subarray(r * imageBytes, (r + 1) * imageBytes), i * imageBytes);
      return { size: rows.length, images: out, labels: Int32Array.from(rows, (r) => labels[r]) };
    },
  };
}
