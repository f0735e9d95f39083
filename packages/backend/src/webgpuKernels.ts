import * as tf from '@tensorflow/tfjs-core';

/** Kernels this package registers for the webgpu backend (tfjs 4.22). */
export const WEBGPU_KERNELS = ['AddN'] as const;

interface WebGpuBackendLike extends tf.KernelBackend {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
}

let stockAddN: tf.KernelConfig | undefined;

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
  const current = tf.getKernel('AddN', 'webgpu');
  if (!current) return [];
  if (current.kernelFunc !== addNWebGpu) {
    stockAddN = current;
    tf.unregisterKernel('AddN', 'webgpu');
    tf.registerKernel({ kernelName: 'AddN', backendName: 'webgpu', kernelFunc: addNWebGpu });
  }
  return [...WEBGPU_KERNELS];
}
