import type * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernelScope';
import { WasmHeapViews } from './wasmHeapViews';

/** What the gather and the views use of the wasm backend. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * `Conv2DBackpropFilter` as one XNNPACK matrix product per filter tap, over views: no patch
 * matrix is built (im2col without the copies). With stride s and padding (top, left),
 *
 *   dw[di, dj, c, o] = sum_{b, i, j} x[b, i*s + di - top, j*s + dj - left, c] * dy[b, i, j, o].
 *
 * Split x into its s_h * s_w phases, xp_(pi,pj)[b, u, v, c] = x[b, u*s + pi - top,
 * v*s + pj - left, c] (zero outside x), on a common grid `[Hq, Wq]` that holds every read
 * (Hq = outH + floor((kh-1)/s_h)), stored channels first: X_(pi,pj) `[C, K]`, K = B*Hq*Wq. Tap
 * (di, dj) = (qi*s_h + pi, qj*s_w + pj) then reads X_(pi,pj) at column k + qi*Wq + qj for dy's
 * grid position k, so with dy zero-padded to the grid, `[K, O]`,
 *
 *   dw[di, dj] `[C, O]` = X_(pi,pj) shifted by qi*Wq + qj `[C, K]` @ dy `[K, O]`,
 *
 * where the shifted matrix is a view of X's buffer at that offset (rows of stride K). A shifted
 * read past the end of a row lands on the next row's start at a position where the padded dy is
 * zero (the grid holds every read, so column k + shift >= K only when dy's row or column index
 * is past outH / outW), and the buffer has `shift` zeros after its last row. Every matmul shares
 * the same dy tensor, which XNNPACK packs once (its operator cache is keyed by that tensor).
 *
 * Costs one pass over x (the gather) and one over dy (the pad) besides the matmuls: at the
 * networks' batch-32 shapes the matmuls run at XNNPACK's full speed (the large contraction over
 * B*H*W positions is XNNPACK's best case), where a materialised patch matrix wrote kh*kw copies
 * of x first.
 *
 * `info` is conv2d's geometry (`computeConv2DInfo` of x and filterShape); x `[B, H, W, C]`,
 * dy `[B, outH, outW, O]`; returns `[kh, kw, C, O]`.
 */
export function conv2dBackpropFilterTaps(
  k: KernelScope,
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: b, inChannels: c, outChannels: o } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const hq = oh + Math.floor((kh - 1) / sh);
  const wq = ow + Math.floor((kw - 1) / sw);
  const positions = b * hq * wq; // K
  const phases = sh * sw;
  const maxShift = Math.floor((kh - 1) / sh) * wq + Math.floor((kw - 1) / sw);
  const heap = backend as unknown as WasmHeapBackend;

  const dyGrid =
    hq === oh && wq === ow
      ? dy
      : k.run(
          'PadV2',
          { x: dy },
          {
            paddings: [
              [0, 0],
              [0, hq - oh],
              [0, wq - ow],
              [0, 0],
            ],
            constantValue: 0,
          },
        ); // [B, Hq, Wq, O]
  const dyMatrix = k.reshape(dyGrid, [1, positions, o]);
  const xp = heap.makeOutput([phases * c * positions + maxShift], 'float32');
  const views = new WasmHeapViews(backend);
  try {
    gatherPhases(
      heap.typedArrayFromHeap(x) as Float32Array,
      heap.typedArrayFromHeap(xp) as Float32Array,
      info,
      hq,
      wq,
    );
    const dw = heap.makeOutput([kh, kw, c, o], 'float32');
    for (let di = 0; di < kh; di++) {
      for (let dj = 0; dj < kw; dj++) {
        const phase = (di % sh) * sw + (dj % sw);
        const shift = Math.floor(di / sh) * wq + Math.floor(dj / sw);
        const a = views.view(xp, phase * c * positions + shift, [1, c, positions]);
        const tap = k.run(
          'BatchMatMul',
          { a, b: dyMatrix },
          { transposeA: false, transposeB: false },
        ); // [1, C, O]
        // views after the matmul: its output may have grown the heap
        (heap.typedArrayFromHeap(dw) as Float32Array).set(
          heap.typedArrayFromHeap(tap) as Float32Array,
          (di * kw + dj) * c * o,
        );
        heap.disposeData(tap.dataId);
      }
    }
    return dw;
  } finally {
    views.releaseAll();
    heap.disposeData(xp.dataId);
  }
}

/**
 * xp[phase][c][(b, u, v)] = x[b, u*s_h + pi - top, v*s_w + pj - left, c] (zero outside x), then
 * `maxShift` zeros. Reads x contiguously, writes C rows at once (a transpose per phase).
 */
function gatherPhases(
  src: Float32Array,
  dst: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  hq: number,
  wq: number,
): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const positions = b * hq * wq;
  // zeros first, then the values: one fill is ~4x cheaper than filling each row's padding
  dst.fill(0);
  for (let pi = 0; pi < sh; pi++) {
    for (let pj = 0; pj < sw; pj++) {
      const base = (pi * sw + pj) * c * positions;
      // columns v whose x column v*sw + pj - left lies in [0, w)
      const vLo = Math.min(wq, Math.max(0, Math.ceil((left - pj) / sw)));
      const vHi = Math.max(vLo, Math.min(wq, Math.ceil((w + left - pj) / sw)));
      for (let bi = 0; bi < b; bi++) {
        for (let u = 0; u < hq; u++) {
          const r = u * sh + pi - top;
          if (r < 0 || r >= h) continue;
          const pos0 = (bi * hq + u) * wq;
          const rowStart = (bi * h + r) * w;
          for (let v = vLo; v < vHi; v++) {
            const from = (rowStart + v * sw + pj - left) * c;
            let to = base + pos0 + v;
            for (let ci = 0; ci < c; ci++, to += positions) dst[to] = src[from + ci];
          }
        }
      }
    }
  }
}
