import * as tf from '@tensorflow/tfjs-core';

/**
 * Slice, SplitV and Concat for the wasm backend without the stock kernels' two costs (tfjs 4.22):
 * every stock Slice first copies its whole input out of the wasm heap (`readSync` is
 * `HEAPU8.slice`), so SplitV into k pieces copies the input k times; and rows are copied with one
 * `subarray` view + `set` per innermost row, which for a channel slice of an activation
 * (`[32, 28, 28, 64] -> [..., 32]`: 25,088 rows of 32) costs more than the copy itself. These
 * kernels read heap views in place and copy short rows with a plain loop. Slice, the gate
 * halves, concat_elu's concat and the skip concats (forward), and SplitV (their gradient) took
 * ~35% of a small PixelCNN's training step on wasm before.
 */

/** What these kernels use of the wasm backend. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

type Stock = Record<
  'Slice' | 'SplitV' | 'Concat' | 'Identity' | 'Transpose',
  tf.KernelConfig | undefined
>;
const stock: Stock = {
  Slice: undefined,
  SplitV: undefined,
  Concat: undefined,
  Identity: undefined,
  Transpose: undefined,
};

/** Remember a stock kernel we replace (string tensors still go to it). */
export function rememberStockCopyKernel(config: tf.KernelConfig | undefined): void {
  if (!config) return;
  const name = config.kernelName as keyof Stock;
  const ours = COPY_KERNELS_WASM.find((k) => k.kernelName === name);
  if (name in stock && ours && config.kernelFunc !== ours.kernelFunc) stock[name] = config;
}

type Args = Parameters<tf.KernelFunc>[0];

function viaStock(name: keyof Stock, args: Args) {
  const k = stock[name];
  if (!k)
    throw new Error(
      `Error in ${name} (wasm): string tensors need the stock kernel, not registered`,
    );
  return k.kernelFunc(args) as tf.TensorInfo | tf.TensorInfo[];
}

/** Below this many elements a row is copied by a loop (a view + set costs more). */
const SHORT_ROW = 64;

function copyRow(
  src: tf.TypedArray,
  from: number,
  dst: tf.TypedArray,
  to: number,
  n: number,
): void {
  if (n >= SHORT_ROW) {
    dst.set(src.subarray(from, from + n), to);
  } else {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
  }
}

/**
 * Copy the box `begin + [0, size)` of `src` (shape `shape`) into `dst` (contiguous, shape `size`).
 * Trailing axes taken whole merge into one run; the rest is an odometer over outer positions.
 */
function copyBox(
  src: tf.TypedArray,
  shape: number[],
  begin: number[],
  size: number[],
  dst: tf.TypedArray,
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  // merge trailing axes that are taken whole into the innermost run
  let last = rank - 1;
  let run = size[last];
  while (last > 0 && size[last] === shape[last] && begin[last] === 0) {
    last--;
    run *= size[last];
  }
  const strides = new Array<number>(rank).fill(1);
  for (let a = rank - 2; a >= 0; a--) strides[a] = strides[a + 1] * shape[a + 1];
  // odometer over axes [0, last)
  const idx = new Array<number>(last).fill(0);
  const total = size.slice(0, last).reduce((x, y) => x * y, 1);
  let base = 0;
  for (let a = 0; a <= last; a++) base += begin[a] * strides[a];
  let off = base;
  for (let o = 0, to = 0; o < total; o++, to += run) {
    copyRow(src, off, dst, to, run);
    // advance
    for (let a = last - 1; a >= 0; a--) {
      idx[a]++;
      off += strides[a];
      if (idx[a] < size[a]) break;
      off -= strides[a] * size[a];
      idx[a] = 0;
    }
  }
}

function sliceWasm(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return viaStock('Slice', args) as tf.TensorInfo;
  const { begin, size } = (args.attrs ?? {}) as unknown as {
    begin: number | number[];
    size?: number | number[];
  };
  const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, b, s);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(s, x.dtype);
  if (tf.util.sizeFromShape(s) > 0) {
    copyBox(backend.typedArrayFromHeap(x), x.shape, b, s, backend.typedArrayFromHeap(out));
  }
  return out;
}

function splitVWasm(args: Args): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return viaStock('SplitV', args) as tf.TensorInfo[];
  const { numOrSizeSplits, axis } = (args.attrs ?? {}) as unknown as {
    numOrSizeSplits: number | number[];
    axis: number | number[];
  };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
  const backend = args.backend as unknown as WasmHeapBackend;
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[ax] = n;
    const out = backend.makeOutput(size, x.dtype);
    if (n > 0 && tf.util.sizeFromShape(size) > 0) {
      // views after the allocation: growing the wasm heap detaches older ones
      copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    }
    begin[ax] += n;
    return out;
  });
}

function concatWasm(args: Args): tf.TensorInfo {
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  if (inputs[0].dtype === 'string') return viaStock('Concat', args) as tf.TensorInfo;
  const { axis } = (args.attrs ?? {}) as unknown as { axis: number | number[] };
  const ax = tf.util.parseAxisParam(axis, inputs[0].shape)[0];
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, ax);
  const outShape = tf.backend_util.computeOutShape(shapes, ax);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(outShape, inputs[0].dtype); // views below: after it
  const kept = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (kept.length === 0) return out;
  // [outer, inner_i] blocks: each input contributes `inner_i` elements per outer position
  const outer = tf.util.sizeFromShape(outShape.slice(0, ax));
  const inners = kept.map((t) => tf.util.sizeFromShape(t.shape.slice(ax)));
  const rowLen = inners.reduce((a, b) => a + b, 0);
  const dst = backend.typedArrayFromHeap(out);
  const srcs = kept.map((t) => backend.typedArrayFromHeap(t));
  for (let o = 0; o < outer; o++) {
    let to = o * rowLen;
    for (let i = 0; i < srcs.length; i++) {
      copyRow(srcs[i], o * inners[i], dst, to, inners[i]);
      to += inners[i];
    }
  }
  return out;
}

/** What the sharing Identity uses of the wasm backend (it keeps a reference count per buffer). */
interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

/**
 * Identity that shares the input's buffer (reference counted, as the cpu backend and wasm's own
 * Reshape do) instead of copying it. tfjs clones every tensor a kernel saves for its gradient
 * (`keep(clone(t))`), so with the stock copying Identity a training step on wasm held a second
 * copy of every saved activation: for TFP's default network, 3.8 GB of tensors for one image.
 */
function identityWasm(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return viaStock('Identity', args) as tf.TensorInfo;
  (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * A permutation reduced to its essentials: size-1 axes dropped and axes that stay neighbours in
 * the output merged, so `[B, H, W, C]` with perm `[3, 0, 1, 2]` is `[B*H*W, C]` with perm `[1, 0]`.
 * Returns the merged input shape and the permutation of its axes.
 */
export function reducePermutation(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  // runs of output axes whose input axes are consecutive: one merged axis each
  const groups: number[][] = [];
  for (const a of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  return {
    shape: byInput.map((g) => g.reduce((n, a) => n * shape[a], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/**
 * `[A, R, C]` when a reduced permutation ({@link reducePermutation}) is a batched 2-D swap
 * `[A, R, C] -> [A, C, R]` (A = 1 for a plain `[R, C] -> [C, R]`), else undefined.
 */
export function batchedSwap(r: {
  shape: number[];
  perm: number[];
}): [number, number, number] | undefined {
  if (r.perm.length === 2 && r.perm[0] === 1) return [1, r.shape[0], r.shape[1]];
  if (r.perm.length === 3 && r.perm[0] === 0 && r.perm[1] === 2)
    return [r.shape[0], r.shape[1], r.shape[2]];
  return undefined;
}

/** Rows per block of the transposing copy (a block's destination lines stay in L1). */
const TRANSPOSE_BLOCK = 16;

/**
 * Transpose for the wasm backend: any permutation that reduces ({@link reducePermutation}) to a
 * batched 2-D swap `[A, R, C] -> [A, C, R]` (every transpose of our kernels: an activation to
 * channels-first, a matmul operand) as a JS copy in blocks of rows; others go to the stock
 * kernel. The stock kernel's generic loop took 6-24 ms for a `[25088, 64]`-`[6272, 320]` matrix
 * where this takes 2.5-9 (2.5-5x, measured on the loaded 2-core machine).
 */
function transposeWasm(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { perm } = (args.attrs ?? {}) as unknown as { perm: number[] };
  const r = reducePermutation(x.shape, perm);
  const swap = batchedSwap(r);
  const copy = r.perm.every((a, i) => a === i);
  if (x.dtype === 'string' || x.dtype === 'complex64' || !(swap || copy)) {
    return viaStock('Transpose', args) as tf.TensorInfo;
  }
  const backend = args.backend as unknown as WasmHeapBackend;
  const outShape = perm.map((a) => x.shape[a]);
  const out = backend.makeOutput(outShape, x.dtype); // views below: after it
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (copy) {
    dst.set(src);
    return out;
  }
  const [a, rows, cols] = swap as [number, number, number];
  const plane = rows * cols;
  for (let b = 0; b < a; b++) {
    const base = b * plane;
    for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
      const r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
      for (let c = 0; c < cols; c++) {
        const to = base + c * rows;
        for (let i = r0, from = base + r0 * cols + c; i < r1; i++, from += cols)
          dst[to + i] = src[from];
      }
    }
  }
  return out;
}

export const COPY_KERNELS_WASM: readonly tf.KernelConfig[] = [
  { kernelName: 'Slice', backendName: 'wasm', kernelFunc: sliceWasm as unknown as tf.KernelFunc },
  { kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitVWasm as unknown as tf.KernelFunc },
  { kernelName: 'Concat', backendName: 'wasm', kernelFunc: concatWasm as unknown as tf.KernelFunc },
  {
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: identityWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Transpose',
    backendName: 'wasm',
    kernelFunc: transposeWasm as unknown as tf.KernelFunc,
    // the stock kernel binds its C function in its setup; complex permutations still go to it
    setupFunc: (backend) => stock.Transpose?.setupFunc?.(backend),
  },
];
