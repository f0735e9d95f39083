import type * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernelScope';

/** What the patch matrix uses of the wasm backend. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * `Conv2DBackpropFilter` as one matrix product (im2col): with the transposed patch matrix
 * P^T[(di, dj, c), (b, i, j)] = x[b, i*s + di - top, j*s + dj - left, c] (zero outside x),
 *
 *   dw[di, dj, c, o] = sum_{b, i, j} P^T[(di, dj, c), (b, i, j)] * dy[b, i, j, o],
 *
 * so dw `[kh*kw*C, O]` = P^T `[kh*kw*C, B*outH*outW]` @ dy `[B*outH*outW, O]`: one XNNPACK
 * matmul (BatchMatMul), whose packed operand is the small dy (the other orientation,
 * dy^T @ P, packs all of P on every call and runs at half the speed, measured). P^T is built in
 * JS from x transposed to `[C, B, H, W]`, where each of its rows is made of runs of
 * consecutive columns of x. P^T costs kh*kw times x's size on the wasm heap while it lives (the
 * demo network's largest: 38 MB).
 *
 * `info` is conv2d's geometry (`computeConv2DInfo` of x and filterShape); x `[B, H, W, C]`,
 * dy `[B, outH, outW, O]`.
 */
export function conv2dBackpropFilterIm2col(
  k: KernelScope,
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const unpadded =
    info.padInfo.top === 0 && info.padInfo.left === 0 && oh + kh - 1 <= h && ow + kw - 1 <= w;
  if (sh === 1 && sw === 1 && unpadded) {
    return shiftedWindows(k, heap(backend), x, dy, info);
  }
  const wasm = heap(backend);
  return patchProduct(k, wasm, info, dy, b * oh * ow, (patches) => {
    const xT = channelsFirst(wasm.typedArrayFromHeap(x) as Float32Array, [b, h, w, c]);
    fillPatches(xT, patches, info);
  });
}

const heap = (backend: tf.KernelBackend) => backend as unknown as WasmHeapBackend;

/**
 * dw `[kh, kw, C, O]` = P^T `[kh*kw*C, n]` @ dy (as `[n, O]`) in one BatchMatMul, with P^T made
 * on the wasm heap for the call and filled by `fill` (heap views taken inside `fill` are valid:
 * P^T is allocated before it runs), then freed.
 */
function patchProduct(
  k: KernelScope,
  wasm: WasmHeapBackend,
  info: tf.backend_util.Conv2DInfo,
  dy: tf.TensorInfo,
  n: number,
  fill: (patches: Float32Array) => void,
): tf.TensorInfo {
  const { inChannels: c, outChannels: o, filterHeight: kh, filterWidth: kw } = info;
  const patches = wasm.makeOutput([1, kh * kw * c, n], 'float32');
  try {
    fill(wasm.typedArrayFromHeap(patches) as Float32Array);
    const prod = k.run(
      'BatchMatMul',
      { a: patches, b: k.reshape(dy, [1, n, o]) },
      { transposeA: false, transposeB: false },
    ); // [1, kh*kw*C, O]
    return k.reshape(prod, [kh, kw, c, o]);
  } finally {
    wasm.disposeData(patches.dataId);
  }
}

/**
 * The stride-1 case without top/left padding (every conv of PixelCNN++'s layers: they pad
 * explicitly and convolve VALID) with no element-wise gather: let the contraction run over all
 * H*W positions of x, with dy zero-padded to `[B, H, W, O]`. Then with xT = x as `[C, B*H*W]`,
 * P^T's rows for tap (di, dj) are xT shifted by di*W + dj: ONE contiguous copy of C*B*H*W floats
 * per tap. A shifted read that wraps past a row or plane of x lands on a position where the
 * padded dy is zero (j + dj >= W only when j >= outW, i + di >= H only when i >= outH), so it
 * adds nothing (as long as x is finite). The matmul is (H*W)/(outH*outW) larger (11% for the
 * networks' 28x28 layers, 47% at 7x7).
 */
function shiftedWindows(
  k: KernelScope,
  wasm: WasmHeapBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const positions = b * h * w;
  const plane = c * positions;
  const dyPadded =
    oh === h && ow === w
      ? dy
      : k.run(
          'PadV2',
          { x: dy },
          {
            paddings: [
              [0, 0],
              [0, h - oh],
              [0, w - ow],
              [0, 0],
            ],
            constantValue: 0,
          },
        ); // [B, H, W, O]
  const xT = k.transpose(k.reshape(x, [positions, c]), [1, 0]); // [C, B*H*W]
  return patchProduct(k, wasm, info, dyPadded, positions, (dst) => {
    const src = wasm.typedArrayFromHeap(xT) as Float32Array;
    for (let di = 0; di < kh; di++) {
      for (let dj = 0; dj < kw; dj++) {
        const shift = di * w + dj;
        const to = (di * kw + dj) * plane;
        dst.set(src.subarray(shift, plane), to);
        dst.fill(0, to + plane - shift, to + plane); // past the end of x (dy is zero there)
      }
    }
  });
}

/** x `[B, H, W, C]` -> `[C, B, H, W]` (a JS array: it lives only while P^T is built). */
function channelsFirst(src: Float32Array, [b, h, w, c]: number[]): Float32Array {
  const dst = new Float32Array(src.length);
  const plane = b * h * w;
  for (let row = 0; row < b * h; row++) {
    const from = row * w * c;
    const to = row * w;
    for (let ci = 0; ci < c; ci++) {
      const at = ci * plane + to;
      for (let q = 0; q < w; q++) dst[at + q] = src[from + q * c + ci];
    }
  }
  return dst;
}

/** P^T[(di, dj, c), (b, i, j)] = xT[c, b, i*s + di - top, j*s + dj - left], zero outside. */
function fillPatches(xT: Float32Array, dst: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  let to = 0;
  for (let di = 0; di < kh; di++) {
    for (let dj = 0; dj < kw; dj++) {
      // columns j whose q = j*sw + dj - left lies in [0, w)
      const jLo = Math.min(ow, Math.max(0, Math.ceil((left - dj) / sw)));
      const jHi = Math.max(jLo, Math.min(ow, Math.ceil((w + left - dj) / sw)));
      for (let ci = 0; ci < c; ci++) {
        for (let bi = 0; bi < b; bi++) {
          for (let i = 0; i < oh; i++, to += ow) {
            const p = i * sh + di - top;
            if (p < 0 || p >= h) {
              dst.fill(0, to, to + ow);
              continue;
            }
            if (jLo > 0) dst.fill(0, to, to + jLo);
            if (jHi < ow) dst.fill(0, to + jHi, to + ow);
            const base = ((ci * b + bi) * h + p) * w + dj - left;
            if (sw === 1) {
              for (let j = jLo; j < jHi; j++) dst[to + j] = xT[base + j];
            } else {
              for (let j = jLo; j < jHi; j++) dst[to + j] = xT[base + j * sw];
            }
          }
        }
      }
    }
  }
}
