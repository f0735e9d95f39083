import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulWasmConfig, rememberStockBatchMatMul } from './batchMatMulWasm';
import { conv2dBackpropFilterWasmConfig } from './conv2dBackpropFilterWasm';
import {
  conv2dBackpropInputWasmConfig,
  rememberStockConv2dBackpropInput,
} from './conv2dBackpropInputWasm';
import { registerConv2dGradient } from './conv2dGradient';
import { COPY_KERNELS_WASM, rememberStockCopyKernel } from './copyKernelsWasm';
import { PIXELCNN_KERNELS_WASM } from './pixelCnnKernelsWasm';
import { rememberStockSum, sumWasmConfig } from './sumWasm';
import { unsortedSegmentSumWasmConfig } from './unsortedSegmentSumWasm';
import { registerZeroGradients } from './zeroGradients';

/** Kernels this package registers for the wasm backend (tfjs 4.22). */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'UnsortedSegmentSum',
  'BatchMatMul',
  'Slice',
  'SplitV',
  'Concat',
  'Identity',
  'Transpose',
  'Sum',
  'PixelCnnNegConcat',
  'PixelCnnNegConcatGrad',
  'PixelCnnGate',
  'PixelCnnGateGrad',
] as const;

const OURS: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterWasmConfig,
  conv2dBackpropInputWasmConfig,
  unsortedSegmentSumWasmConfig,
  batchMatMulWasmConfig,
  ...COPY_KERNELS_WASM,
  sumWasmConfig,
  ...PIXELCNN_KERNELS_WASM,
];

/** Stock kernels we wrap or keep for cases ours hands back. */
const REMEMBER: Record<string, (config: tf.KernelConfig) => void> = {
  Conv2DBackpropInput: rememberStockConv2dBackpropInput,
  BatchMatMul: rememberStockBatchMatMul,
  Slice: rememberStockCopyKernel,
  SplitV: rememberStockCopyKernel,
  Concat: rememberStockCopyKernel,
  Identity: rememberStockCopyKernel,
  Transpose: rememberStockCopyKernel,
  Sum: rememberStockSum,
};

const isOurs = (config: tf.KernelConfig | undefined, ours: tf.KernelConfig): boolean =>
  config !== undefined && config.kernelFunc === ours.kernelFunc;

/**
 * Make the wasm backend able to train a PixelCNN++ (and fast at it). Registers, for backend
 * 'wasm':
 * - `Conv2DBackpropFilter` (missing in tfjs 4.22: the weight gradient of conv2d and
 *   conv2dTranspose threw), one XNNPACK matmul per filter tap over views of x;
 * - `Conv2DBackpropInput`, replacing the stock naive loop with one XNNPACK Conv2D of the
 *   zero-inserted dy and the flipped filter (also conv2dTranspose's forward pass);
 * - `UnsortedSegmentSum` (missing; `tf.gather`'s gradient), as a one-hot matrix product;
 * - `BatchMatMul` with transposed operands (every matMul gradient) at XNNPACK speed instead of
 *   the stock naive loop, by transposing explicitly first;
 * - `Slice`, `SplitV`, `Concat` reading the wasm heap in place (the stock Slice copies its whole
 *   input first) and copying short rows with a loop; `Identity` sharing its input's buffer
 *   (reference counted) instead of copying it: every tensor saved for a gradient is a clone;
 *   `Transpose` of batched 2-D swaps as a blocked copy;
 * - `Sum` over leading axes (bias and broadcast gradients) as column sums, without the stock
 *   kernel's transpose of its whole input;
 * - PixelCNN++'s fused elementwise kernels (concat_elu's negate-and-concat and the gate, each
 *   with its gradient; see `pixelCnnKernelsWasm.ts`), which `@pixelcnn/gated-resnet` uses where
 *   they are registered;
 * and, for every backend (gradients are global): zero gradients for comparison and logical ops
 * (`tf.where(tf.greater(w, 0), ...)` on a gradient path), and conv2d gradients for dilations
 * and numeric pads with a dimRoundingMode (both wrong or refused in tfjs 4.22).
 *
 * Idempotent; call it after importing `@tensorflow/tfjs-backend-wasm` (and, to be safe, before
 * `tf.setBackend('wasm')`; if the wasm backend is already running, the kernels are set up on
 * it now). Returns the names of the wasm kernels now ours, whether registered by this call or
 * an earlier one.
 */
export function registerWasmTrainingKernels(): string[] {
  const names: string[] = [];
  for (const ours of OURS) {
    const current = tf.getKernel(ours.kernelName, 'wasm');
    if (!isOurs(current, ours)) {
      if (current) {
        REMEMBER[ours.kernelName]?.(current);
        tf.unregisterKernel(ours.kernelName, 'wasm');
      }
      tf.registerKernel(ours);
      // setupFunc normally runs when the backend starts; a running backend gets it now.
      const running = tf.findBackend('wasm');
      if (running && ours.setupFunc) ours.setupFunc(running);
    }
    names.push(ours.kernelName);
  }
  registerZeroGradients();
  registerConv2dGradient();
  return names;
}
