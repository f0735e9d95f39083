import * as tf from '@tensorflow/tfjs-core';

/** Kernels this package registers for the webgpu backend (tfjs 4.22). */
export const WEBGPU_KERNELS = ['AddN', 'PadV2', 'Transpose'] as const;

interface WebGpuBackendLike extends tf.KernelBackend {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  incRef(dataId: tf.DataId): void;
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values?: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
}

let stockAddN: tf.KernelConfig | undefined;
let stockPad: tf.KernelConfig | undefined;
let stockTranspose: tf.KernelConfig | undefined;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * `tf.pad` of a rank-5+ tensor: tfjs-backend-webgpu 4.22 writes its shader with a `vec5` (or
 * vec6) index type WGSL does not have, so the pipeline is invalid and the output buffer keeps
 * whatever it held (stale data from a reused buffer, silently). Every slice of a 5-D tensor
 * differentiates into one (the mixture's `[N, H, W, K, C]` parameters), and a dilated conv's
 * gradient too. Ours pads one axis at a time as a rank-3 `[before, axis, after]` view (a reshape
 * shares the buffer); rank <= 4 goes to the stock kernel.
 */
const padWebGpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const stock = stockPad!;
  const x = (inputs as unknown as { x: tf.TensorInfo }).x;
  const { paddings, constantValue } = attrs as unknown as {
    paddings: [number, number][];
    constantValue: number;
  };
  if (x.shape.length <= 4) return stock.kernelFunc({ inputs, backend, attrs });
  const b = backend as WebGpuBackendLike;
  const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => {
    b.incRef(t.dataId);
    return { dataId: t.dataId, shape, dtype: t.dtype };
  };
  const shape = [...x.shape];
  let cur = view(x, shape);
  for (let i = 0; i < shape.length; i++) {
    const [before, after] = paddings[i];
    if (before === 0 && after === 0) continue;
    const three = [prod(shape.slice(0, i)), shape[i], prod(shape.slice(i + 1))];
    const padded = stock.kernelFunc({
      inputs: { x: { ...cur, shape: three } } as unknown as tf.NamedTensorInfoMap,
      backend,
      attrs: {
        paddings: [
          [0, 0],
          [before, after],
          [0, 0],
        ],
        constantValue,
      } as unknown as tf.NamedAttrMap,
    }) as tf.TensorInfo;
    b.disposeData(cur.dataId);
    shape[i] += before + after;
    cur = { ...padded, shape: [...shape] };
  }
  return cur;
};

/**
 * `tf.transpose` of an int32 or bool tensor (bool is i32 there too): tfjs-backend-webgpu 4.22's
 * general transpose shader writes an i32 into its f32 output (`setOutputAtIndex` type mismatch),
 * so beyond the sizes it hands to the CPU the pipeline is invalid and the output is zeros or
 * stale data, silently (found by the Transpose property test: [5, 5, 4, 3, 4] by
 * [2, 3, 0, 1, 4]). Ours gathers the flat input at the source index of each output element
 * (computed here, uploaded: a write, no read); float32 goes to the stock kernel.
 */
const transposeWebGpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = (inputs as unknown as { x: tf.TensorInfo }).x;
  const { perm } = attrs as unknown as { perm: number[] };
  if (x.dtype === 'float32' || x.dtype === 'complex64')
    return stockTranspose!.kernelFunc({ inputs, backend, attrs });
  const b = backend as WebGpuBackendLike;
  const shape = x.shape;
  const n = prod(shape);
  const outShape = perm.map((a) => shape[a]);
  const inStrides = shape.map((_, i) => prod(shape.slice(i + 1)));
  const step = perm.map((a) => inStrides[a]); // input offset of one step along each output axis
  const from = new Int32Array(n);
  const at = new Array<number>(outShape.length).fill(0);
  for (let k = 0, src = 0; k < n; k++) {
    from[k] = src;
    for (let d = outShape.length - 1; d >= 0; d--) {
      src += step[d];
      if (++at[d] < outShape[d]) break;
      src -= step[d] * outShape[d];
      at[d] = 0;
    }
  }
  const indices = b.makeTensorInfo([n], 'int32', from);
  b.incRef(x.dataId);
  const flat = { dataId: x.dataId, shape: [n], dtype: x.dtype };
  const gathered = tf.getKernel('GatherV2', 'webgpu')!.kernelFunc({
    inputs: { x: flat, indices } as unknown as tf.NamedTensorInfoMap,
    backend,
    attrs: { axis: 0, batchDims: 0 } as unknown as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  b.disposeData(flat.dataId);
  b.disposeData(indices.dataId);
  return { ...gathered, shape: outShape };
};

/**
 * `tf.addN` of n tensors: tfjs-backend-webgpu 4.22 binds all n inputs and the output to one
 * shader, so beyond `maxStorageBuffersPerShaderStage - 1` inputs (7 at WebGPU's default limit of
 * 8, which tfjs requests) the pipeline is invalid and the result is whatever the output buffer
 * held: garbage, silently (a gradient-norm `addN` over every parameter hit it). Ours sums groups
 * that fit with the stock kernel, then the partial sums, in a tree.
 */
const addNWebGpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const stock = stockAddN!;
  const b = backend as WebGpuBackendLike;
  const max = Math.max(2, (b.device?.limits.maxStorageBuffersPerShaderStage ?? 8) - 1);
  let ts = inputs as unknown as tf.TensorInfo[];
  const partials: tf.TensorInfo[] = [];
  while (ts.length > max) {
    const next: tf.TensorInfo[] = [];
    for (let i = 0; i < ts.length; i += max) {
      const group = ts.slice(i, i + max);
      if (group.length === 1) {
        next.push(group[0]);
        continue;
      }
      const sum = stock.kernelFunc({
        inputs: group as unknown as tf.NamedTensorInfoMap,
        backend,
        attrs,
      }) as tf.TensorInfo;
      partials.push(sum);
      next.push(sum);
    }
    ts = next;
  }
  const out = stock.kernelFunc({ inputs: ts as unknown as tf.NamedTensorInfoMap, backend, attrs });
  for (const p of partials) b.disposeData(p.dataId);
  return out;
};

/**
 * Fix tfjs-backend-webgpu 4.22 kernels that give wrong results (see `WEBGPU_KERNELS`).
 * Idempotent; call after the webgpu backend's kernels are registered (importing it does).
 */
export function registerWebGpuKernels(): string[] {
  const ours: [string, tf.KernelFunc, (k: tf.KernelConfig) => void][] = [
    ['AddN', addNWebGpu, (k) => (stockAddN = k)],
    ['PadV2', padWebGpu, (k) => (stockPad = k)],
    ['Transpose', transposeWebGpu, (k) => (stockTranspose = k)],
  ];
  const names: string[] = [];
  for (const [name, kernelFunc, remember] of ours) {
    const current = tf.getKernel(name, 'webgpu');
    if (!current) continue;
    if (current.kernelFunc !== kernelFunc) {
      remember(current);
      tf.unregisterKernel(name, 'webgpu');
      tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc });
    }
    names.push(name);
  }
  return names;
}
