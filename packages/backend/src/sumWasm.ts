import * as tf from '@tensorflow/tfjs-core';
import { batchedSwap, reducePermutation } from './copyKernelsWasm';

/** What the column sums use of the wasm backend. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

type Args = Parameters<tf.KernelFunc>[0];

/** The wasm backend's own kernel, which sums over the innermost axes. */
let stockKernel: tf.KernelConfig | undefined;

/** Remember the stock kernel we wrap (called before unregistering it). */
export function rememberStockSum(config: tf.KernelConfig | undefined): void {
  if (config && config.kernelFunc !== (sumWasm as unknown)) stockKernel = config;
}

/**
 * `Sum` for the wasm backend without the stock kernel's transpose. The stock kernel sums over
 * the innermost axes only, so a sum over leading axes (every bias gradient of a network,
 * `[32, 28, 28, 64] -> [64]`; every broadcast's gradient; the weight norm's `[kh, kw, C, O] ->
 * [O]`) first transposes the whole input, kept axes then reduced ones, with its generic loop
 * (8.5 ms for a `[25088, 64]` matrix on 2 cores). Where that transpose is a (batched) 2-D swap,
 * `[A, R, K] -> [A, K, R]` ({@link batchedSwap}: what our Transpose copies in JS), the float32 sum
 * runs instead as column sums in JS, one pass in input order with float64 accumulators (0.5 ms
 * for the same matrix, and more accurate); other sums go to the stock kernel, which needs no
 * transpose when the reduced axes are innermost.
 */
export function sumWasm(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = (args.attrs ?? {}) as unknown as {
    axis: number | number[];
    keepDims: boolean;
  };
  if (!stockKernel) {
    throw new Error('Error in Sum (wasm): the stock wasm Sum is not registered');
  }
  const axes = tf.util.parseAxisParam(axis, x.shape);
  // the stock kernel's transpose: kept axes first, reduced ones last
  const kept = x.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const swap = batchedSwap(
    reducePermutation(x.shape, [...kept, ...axes.slice().sort((a, b) => a - b)]),
  );
  if (x.dtype !== 'float32' || !swap) return stockKernel.kernelFunc(args) as tf.TensorInfo;
  const [outer, rows, cols] = swap; // [A, R, K]: sum over R
  const outShape = keepDims
    ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d))
    : x.shape.filter((_, a) => !axes.includes(a));
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(outShape, 'float32'); // views below: after it
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const acc = new Float64Array(cols);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    columnSums(src, o * rows * cols, rows, cols, acc);
    dst.set(acc, o * cols);
  }
  return out;
}

/**
 * acc[c] += sum_r src[at + r*cols + c], eight rows at a time (one accumulator update per eight
 * loads: 5x faster in V8 than a row at a time, which waits on the store to acc each step).
 */
function columnSums(
  src: Float32Array,
  at: number,
  rows: number,
  cols: number,
  acc: Float64Array,
): void {
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const i0 = at + r * cols;
    for (let c = 0; c < cols; c++) {
      const i = i0 + c;
      acc[c] +=
        src[i] +
        src[i + cols] +
        (src[i + 2 * cols] + src[i + 3 * cols]) +
        (src[i + 4 * cols] + src[i + 5 * cols] + (src[i + 6 * cols] + src[i + 7 * cols]));
    }
  }
  for (; r < rows; r++) for (let c = 0, i = at + r * cols; c < cols; c++, i++) acc[c] += src[i];
}

export const sumWasmConfig: tf.KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: sumWasm as unknown as tf.KernelFunc,
  // the stock kernel binds its C function in its setup, and we call it
  setupFunc: (backend) => stockKernel?.setupFunc?.(backend),
};
