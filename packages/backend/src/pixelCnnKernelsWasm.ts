import type * as tf from '@tensorflow/tfjs-core';

/**
 * Fused elementwise kernels of a PixelCNN++ training step for the wasm backend, under the names
 * `@pixelcnn/gated-resnet` looks up (it falls back to stock ops where they are not registered,
 * e.g. on cpu and webgpu). Each replaces several stock kernels, every one of which makes a pass
 * over an activation and a new tensor (the profile of the demo network's step: Concat, SplitV,
 * Neg, Slice, PadV2, Multiply and Add were a fifth of it). The math that needs exp (elu,
 * sigmoid) stays in the stock XNNPACK kernels: a JS exp costs ~10x theirs.
 *
 * - `PixelCnnNegConcat`: x `[..., C]` -> `[..., 2C]` = concat([x, -x], -1) (concat_elu's input);
 * - `PixelCnnNegConcatGrad`: dy `[..., 2C]` -> `[..., C]` = dy[..., :C] - dy[..., C:];
 * - `PixelCnnGate`: x `[..., F]`, c2 `[..., 2F]`, s = sigmoid(c2) -> x + c2[..., :F] * s[..., F:];
 * - `PixelCnnGateGrad`: dy `[..., F]`, c2, s -> dc2 `[..., 2F]` = [dy * s_b, dy * a * s_b * (1 - s_b)]
 *   (a = c2[..., :F], s_b = s[..., F:]; the gate's gradient for x is dy itself).
 */
export const PIXELCNN_FUSED_KERNELS = [
  'PixelCnnNegConcat',
  'PixelCnnNegConcatGrad',
  'PixelCnnGate',
  'PixelCnnGateGrad',
] as const;

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

type Args = Parameters<tf.KernelFunc>[0];

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const last = (shape: number[]) => shape[shape.length - 1];

function checkFloat(fn: string, named: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(named)) {
    if (t.dtype !== 'float32') {
      throw new Error(`Error in ${fn} (wasm): ${name} must be float32, got ${t.dtype}`);
    }
  }
}

function checkShapes(fn: string, a: tf.TensorInfo, b: tf.TensorInfo, lastA: number, lastB: number) {
  const [sa, sb] = [a.shape, b.shape];
  const ok =
    sa.length === sb.length &&
    sa.length >= 1 &&
    sa.slice(0, -1).every((d, i) => d === sb[i]) &&
    last(sa) === lastA &&
    last(sb) === lastB;
  if (!ok) {
    throw new Error(
      `Error in ${fn} (wasm): expected shapes [..., ${lastA}] and [..., ${lastB}] with the same leading dims, got [${sa}] and [${sb}]`,
    );
  }
}

function negConcat({ inputs, backend }: Args): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  checkFloat('PixelCnnNegConcat', { x });
  const heap = backend as unknown as WasmHeapBackend;
  const c = last(x.shape);
  const out = heap.makeOutput([...x.shape.slice(0, -1), 2 * c], 'float32'); // views: after it
  const src = heap.typedArrayFromHeap(x);
  const dst = heap.typedArrayFromHeap(out);
  const rows = size(x.shape) / c;
  for (let r = 0, i = 0, o = 0; r < rows; r++, o += c) {
    for (let k = 0; k < c; k++, i++, o++) {
      const v = src[i];
      dst[o] = v;
      dst[o + c] = -v;
    }
  }
  return out;
}

function negConcatGrad({ inputs, backend }: Args): tf.TensorInfo {
  const { dy } = inputs as { dy: tf.TensorInfo };
  checkFloat('PixelCnnNegConcatGrad', { dy });
  const two = last(dy.shape);
  if (two % 2 !== 0) {
    throw new Error(
      `Error in PixelCnnNegConcatGrad (wasm): dy's last axis must be even, got [${dy.shape}]`,
    );
  }
  const heap = backend as unknown as WasmHeapBackend;
  const c = two / 2;
  const out = heap.makeOutput([...dy.shape.slice(0, -1), c], 'float32');
  const g = heap.typedArrayFromHeap(dy);
  const dst = heap.typedArrayFromHeap(out);
  const rows = size(dy.shape) / two;
  for (let r = 0, i = 0, o = 0; r < rows; r++, i += c) {
    for (let k = 0; k < c; k++, i++, o++) dst[o] = g[i] - g[i + c];
  }
  return out;
}

function gate({ inputs, backend }: Args): tf.TensorInfo {
  const { x, c2, s } = inputs as { x: tf.TensorInfo; c2: tf.TensorInfo; s: tf.TensorInfo };
  const fn = 'PixelCnnGate';
  checkFloat(fn, { x, c2, s });
  const f = last(x.shape);
  checkShapes(fn, x, c2, f, 2 * f);
  checkShapes(fn, c2, s, 2 * f, 2 * f);
  const heap = backend as unknown as WasmHeapBackend;
  const out = heap.makeOutput([...x.shape], 'float32');
  const [xv, cv, sv, dst] = [x, c2, s, out].map((t) => heap.typedArrayFromHeap(t));
  const rows = size(x.shape) / f;
  for (let r = 0, i = 0, j = 0; r < rows; r++, j += f) {
    for (let k = 0; k < f; k++, i++, j++) dst[i] = xv[i] + cv[j] * sv[j + f];
  }
  return out;
}

function gateGrad({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, c2, s } = inputs as { dy: tf.TensorInfo; c2: tf.TensorInfo; s: tf.TensorInfo };
  const fn = 'PixelCnnGateGrad';
  checkFloat(fn, { dy, c2, s });
  const f = last(dy.shape);
  checkShapes(fn, dy, c2, f, 2 * f);
  checkShapes(fn, c2, s, 2 * f, 2 * f);
  const heap = backend as unknown as WasmHeapBackend;
  const out = heap.makeOutput([...c2.shape], 'float32');
  const [g, cv, sv, dst] = [dy, c2, s, out].map((t) => heap.typedArrayFromHeap(t));
  const rows = size(dy.shape) / f;
  for (let r = 0, i = 0, j = 0; r < rows; r++, j += f) {
    for (let k = 0; k < f; k++, i++, j++) {
      const sb = sv[j + f];
      const d = g[i] * sb;
      dst[j] = d;
      dst[j + f] = d * cv[j] * (1 - sb);
    }
  }
  return out;
}

export const PIXELCNN_KERNELS_WASM: readonly tf.KernelConfig[] = [
  { kernelName: 'PixelCnnNegConcat', backendName: 'wasm', kernelFunc: negConcat },
  { kernelName: 'PixelCnnNegConcatGrad', backendName: 'wasm', kernelFunc: negConcatGrad },
  { kernelName: 'PixelCnnGate', backendName: 'wasm', kernelFunc: gate },
  { kernelName: 'PixelCnnGateGrad', backendName: 'wasm', kernelFunc: gateGrad },
].map((k) => ({ ...k, kernelFunc: k.kernelFunc as unknown as tf.KernelFunc }));
