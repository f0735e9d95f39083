import type * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernelScope';

/** What the filter packing and the interleaving use of the wasm backend. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * One axis of the polyphase plan. Output p of `Conv2DBackpropInput` receives dy[i] * w[di] for
 * p + before = i*s + di; with r = (p + before) mod s and q = (p + before - r)/s, that is
 * dx[p] = sum_m dy[q - m] * w[r + s*m]: for each phase r, a stride-1 correlation of dy with the
 * flipped sub-filter f_r[t] = w[r + s*(taps_r - 1 - t)]. Phase r's outputs are
 * p = start_r + s*t, t in [0, n), and its t-th output reads dy[t + q0_r - taps_r + 1 ..= t + q0_r].
 * All phases run as one convolution over the union of those windows, [t + lo, t + lo + T), each
 * phase's taps placed at `offset_r` inside the T-tap window (zero elsewhere).
 */
interface AxisPlan {
  n: number;
  /** taps of the shared window */
  window: number;
  padBefore: number;
  padAfter: number;
  phases: { r: number; taps: number; start: number; offset: number }[];
}

function axisPlan(size: number, dyLen: number, k: number, s: number, before: number): AxisPlan {
  const n = Math.ceil(size / s);
  const phases: (AxisPlan['phases'][number] & { lo: number })[] = [];
  for (let r = 0; r < s; r++) {
    const taps = r < k ? Math.ceil((k - r) / s) : 0;
    const start = (((r - before) % s) + s) % s;
    const q0 = (start + before - r) / s;
    phases.push({ r, taps, start, offset: 0, lo: q0 - taps + 1 });
  }
  const live = phases.filter((p) => p.taps > 0); // r = 0 always has a tap
  const lo = Math.min(...live.map((p) => p.lo));
  const hi = Math.max(...live.map((p) => p.lo + p.taps - 1));
  const window = hi - lo + 1;
  for (const p of phases) p.offset = p.lo - lo;
  return { n, window, padBefore: -lo, padAfter: n - 1 + hi - (dyLen - 1), phases };
}

/**
 * `Conv2DBackpropInput` at stride > 1 without the zero-inserted dy (polyphase, or sub-pixel,
 * convolution): output row p only meets the filter rows di = (p + top) mod s + s*m, so the
 * s_h * s_w output phases are stride-1 convolutions of dy with sub-filters of the flipped
 * filter. They run as ONE XNNPACK convolution of dy with the sub-filters side by side on the
 * output channels (`[T_h, T_w, O, s_h*s_w*C]`, T = the union of the phases' tap windows), then
 * the phases are interleaved into dx. For PixelCNN++'s stride-2 2x2 kernels that is a 1x1 conv
 * (a matrix product) with no wasted multiplications; for 2x3, a 1x2 conv where one phase in
 * two has a zero tap (4/3 the useful multiplications, against 4x for zero insertion).
 *
 * At stride 1 this is the plain formulation (one Conv2D of dy with the flipped filter), with the
 * flipped filter built in JS: the wasm Reverse + Transpose it replaces cost milliseconds per call
 * on TFP's 320x320 filters, a third of its step's Conv2DBackpropInput time (measured).
 *
 * `info` is conv2d's geometry (`computeConv2DInfo` of inputShape and filter); dy
 * `[B, outH, outW, O]`, filter `[kh, kw, C, O]`; returns dx `[B, H, W, C]`.
 */
export function conv2dBackpropInputPolyphase(
  k: KernelScope,
  backend: tf.KernelBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outChannels: o } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const rows = axisPlan(h, oh, kh, sh, info.padInfo.top);
  const cols = axisPlan(w, ow, kw, sw, info.padInfo.left);
  const heap = backend as unknown as WasmHeapBackend;

  const cropTop = Math.max(0, -rows.padBefore);
  const cropBottom = Math.max(0, -rows.padAfter);
  const cropLeft = Math.max(0, -cols.padBefore);
  const cropRight = Math.max(0, -cols.padAfter);
  const dyH = oh - cropTop - cropBottom;
  const dyW = ow - cropLeft - cropRight;
  if (dyH <= 0 || dyW <= 0) {
    // every dy element the phases would read lies in the padding
    const out = heap.makeOutput([b, h, w, c], 'float32');
    heap.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const packed = packFilter(heap, filter, rows, cols, sh, sw); // [T_h, T_w, O, sh*sw*C]
  try {
    const x =
      cropTop + cropBottom + cropLeft + cropRight > 0
        ? k.run('Slice', { x: dy }, { begin: [0, cropTop, cropLeft, 0], size: [b, dyH, dyW, o] })
        : dy;
    const y = k.run(
      'Conv2D',
      { x, filter: packed },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [Math.max(0, rows.padBefore), Math.max(0, rows.padAfter)],
          [Math.max(0, cols.padBefore), Math.max(0, cols.padAfter)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [B, n, m, sh*sw*C]
    if (y.shape[1] !== rows.n || y.shape[2] !== cols.n) {
      throw new Error(
        `Error in Conv2DBackpropInput (wasm, polyphase): the phase conv gave [${y.shape}], expected [${b},${rows.n},${cols.n},${sh * sw * c}] (internal)`,
      );
    }
    // stride 1: one phase, the conv's output is dx
    return sh === 1 && sw === 1 ? y : interleave(heap, y, [b, h, w, c], rows, cols);
  } finally {
    heap.disposeData(packed.dataId);
  }
}

/**
 * The phases' flipped sub-filters side by side, `[T_h, T_w, O, s_h*s_w*C]`, zero outside each
 * phase's taps: F[off_h + t, off_w + u, o, (r_h*s_w + r_w)*C + c] =
 * w[r_h + s_h*(taps_h-1-t), r_w + s_w*(taps_w-1-u), c, o]. Built in JS (the wasm StridedSlice and
 * Reverse kernels cost milliseconds on a 160x160 filter).
 */
function packFilter(
  heap: WasmHeapBackend,
  filter: tf.TensorInfo,
  rows: AxisPlan,
  cols: AxisPlan,
  sh: number,
  sw: number,
): tf.TensorInfo {
  const [, kw, c, o] = filter.shape;
  const g = sh * sw * c;
  const out = heap.makeOutput([rows.window, cols.window, o, g], 'float32'); // views: after it
  const dst = heap.typedArrayFromHeap(out) as Float32Array;
  const src = heap.typedArrayFromHeap(filter) as Float32Array;
  dst.fill(0);
  for (const pr of rows.phases) {
    for (const pc of cols.phases) {
      const group = (pr.r * sw + pc.r) * c;
      for (let t = 0; t < pr.taps; t++) {
        const di = pr.r + sh * (pr.taps - 1 - t);
        for (let u = 0; u < pc.taps; u++) {
          const dj = pc.r + sw * (pc.taps - 1 - u);
          const from = (di * kw + dj) * c * o;
          const to = ((pr.offset + t) * cols.window + pc.offset + u) * o * g + group;
          for (let oi = 0; oi < o; oi++) {
            const row = to + oi * g;
            for (let ci = 0; ci < c; ci++) dst[row + ci] = src[from + ci * o + oi];
          }
        }
      }
    }
  }
  return out;
}

/** dx[b, start_h + s_h*t, start_w + s_w*u, :] = y[b, t, u, phase (r_h, r_w)'s channels]. */
function interleave(
  heap: WasmHeapBackend,
  y: tf.TensorInfo,
  shape: [number, number, number, number],
  rows: AxisPlan,
  cols: AxisPlan,
): tf.TensorInfo {
  const [b, h, w, c] = shape;
  const sh = rows.phases.length;
  const sw = cols.phases.length;
  const { n } = rows;
  const m = cols.n;
  const g = sh * sw * c;
  const out = heap.makeOutput(shape, 'float32'); // heap views below: after it
  const dst = heap.typedArrayFromHeap(out) as Float32Array;
  const src = heap.typedArrayFromHeap(y) as Float32Array;
  for (const pr of rows.phases) {
    const tEnd = Math.min(n, Math.ceil((h - pr.start) / sh));
    for (const pc of cols.phases) {
      const uEnd = Math.min(m, Math.ceil((w - pc.start) / sw));
      const group = (pr.r * sw + pc.r) * c;
      const step = sw * c;
      for (let bi = 0; bi < b; bi++) {
        for (let t = 0; t < tEnd; t++) {
          let from = (bi * n + t) * m * g + group;
          let to = ((bi * h + pr.start + sh * t) * w + pc.start) * c;
          if (c >= 64) {
            for (let u = 0; u < uEnd; u++, from += g, to += step) {
              dst.set(src.subarray(from, from + c), to);
            }
          } else {
            for (let u = 0; u < uEnd; u++, from += g, to += step) {
              for (let i = 0; i < c; i++) dst[to + i] = src[from + i];
            }
          }
        }
      }
    }
  }
  return out;
}
