import * as tf from '@tensorflow/tfjs-core';

/**
 * Names of the fused kernels this package runs where the active backend registers them
 * (`@pixelcnn/backend` does on wasm: `registerWasmTrainingKernels`), each replacing several stock
 * kernels and their passes over an activation; elsewhere (cpu, webgpu, a stock tfjs backend) the
 * same math runs as stock ops. Contracts (float32):
 *
 * - `negConcat`: x `[..., C]` -> concat([x, -x], -1) `[..., 2C]`; its gradient `negConcatGrad`:
 *   dy `[..., 2C]` -> dy[..., :C] - dy[..., C:];
 * - `gate`: x `[..., F]`, c2 `[..., 2F]`, s = sigmoid(c2) -> x + c2[..., :F] * s[..., F:]; its
 *   gradient `gateGrad`: dy `[..., F]`, c2, s -> dc2 = [dy * s_b, dy * a * s_b * (1 - s_b)]
 *   (a = c2[..., :F], s_b = s[..., F:]).
 */
export const FUSED_KERNELS = {
  negConcat: 'PixelCnnNegConcat',
  negConcatGrad: 'PixelCnnNegConcatGrad',
  gate: 'PixelCnnGate',
  gateGrad: 'PixelCnnGateGrad',
} as const;

const registered = (...names: string[]): boolean => {
  const backend = tf.getBackend();
  return names.every((n) => tf.getKernel(n, backend) !== undefined);
};

const run = (name: string, inputs: tf.NamedTensorMap): tf.Tensor =>
  tf.engine().runKernel(name, inputs) as tf.Tensor;

const negConcatFused = tf.customGrad((x) => ({
  value: run(FUSED_KERNELS.negConcat, { x: x as tf.Tensor }),
  gradFunc: (dy: tf.Tensor) => run(FUSED_KERNELS.negConcatGrad, { dy }),
}));

/** `concat([x, -x], -1)`: concat_elu's input, `[..., C] -> [..., 2C]`. */
export function negConcat(x: tf.Tensor): tf.Tensor {
  if (registered(FUSED_KERNELS.negConcat, FUSED_KERNELS.negConcatGrad)) return negConcatFused(x);
  return tf.tidy(() => tf.concat([x, tf.neg(x)], -1));
}

// Saves c2 only (what the stock ops keep: a and sigmoid(b)); the backward pass takes the sigmoid
// again, one cheap pass.
const gateFused = tf.customGrad((x, c2, save) => {
  const s = tf.sigmoid(c2 as tf.Tensor);
  (save as tf.GradSaveFunc)([c2 as tf.Tensor]);
  return {
    value: run(FUSED_KERNELS.gate, { x: x as tf.Tensor, c2: c2 as tf.Tensor, s }),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => [
      tf.clone(dy),
      run(FUSED_KERNELS.gateGrad, { dy, c2: saved, s: tf.sigmoid(saved) }),
    ],
  };
});

/**
 * The gate of a gated resnet: `x + a * sigmoid(b)` with `a, b` the two halves of `c2 [..., 2F]`
 * (x `[..., F]`): one fused kernel and its gradient where the backend registers them
 * ({@link FUSED_KERNELS}), else two slices and stock ops.
 */
export function gate<T extends tf.Tensor>(x: T, c2: T): T {
  if (registered(FUSED_KERNELS.gate, FUSED_KERNELS.gateGrad)) return gateFused(x, c2) as T;
  return tf.tidy(() => {
    const F = x.shape[x.rank - 1];
    // fresh arrays per slice: tfjs keeps them as the attrs its gradient reads later
    const at = (start: number) => c2.shape.map((_, i) => (i === c2.rank - 1 ? start : 0));
    const size = () => c2.shape.map((_, i) => (i === c2.rank - 1 ? F : -1));
    const a = tf.slice(c2, at(0), size()); // [..., F]
    const b = tf.slice(c2, at(F), size()); // [..., F]
    return tf.add(x, tf.mul(a, tf.sigmoid(b))) as T;
  });
}
