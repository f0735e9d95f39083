// What the training loop and the held-out evaluation read: a dataset as orders of examples and
// batches of plain arrays (no tensors, no I/O of its own). quickdraw-data's QuickDrawDataset is
// one; the CLI's ArrayDataset (an --images .npy array) is another; any source can be.

/** A batch as plain arrays: `images` `[size * H * W * C]` bytes 0..255, `labels` `[size]` class indices. */
export interface RawExamples {
  size: number;
  images: Uint8Array;
  labels: Int32Array;
}

/** An order of examples: each one's class position and row (what `read` looks up). */
export interface ExampleOrder {
  classIndex: Uint16Array;
  row: Uint32Array;
}

/**
 * A dataset with a training and a held-out split. `examples(split, { seed, epoch })` is the
 * order an epoch visits (shuffled unless `shuffle: false`; a pure function of its arguments, so
 * a resumed run only needs its epoch and position), and `read(order, start, end)` the batch of
 * positions `[start, end)` of an order. Labels are class indices 0..k-1 (0 for an unconditional
 * model). Pixels are 0..255 bytes; the loop requantises them to the model's 0..high
 * (`quantizePixels`).
 */
export interface TrainingData {
  size(split: 'train' | 'test'): number;
  examples(
    split: 'train' | 'test',
    o?: { shuffle?: boolean; seed?: number; epoch?: number },
  ): ExampleOrder;
  read(order: ExampleOrder, start?: number, end?: number): Promise<RawExamples>;
}
