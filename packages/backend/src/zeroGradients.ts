import * as tf from '@tensorflow/tfjs-core';

/**
 * Ops whose output is piecewise constant (booleans), so their gradient is zero almost
 * everywhere, but for which tfjs 4.22 registers no gradient: taking a gradient through
 * `tf.where(tf.greater(w, 0), a, b)` throws "gradient function not found for Greater".
 * (`GreaterEqual` already has one in tfjs-core.)
 */
export const ZERO_GRADIENT_KERNELS = [
  'Equal',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'NotEqual',
  'LogicalAnd',
  'LogicalNot',
  'LogicalOr',
  'LogicalXor',
] as const;

function hasGradient(kernelName: string): boolean {
  try {
    return tf.getGradient(kernelName) != null;
  } catch {
    return false;
  }
}

/**
 * Register a zero gradient for every op in `ZERO_GRADIENT_KERNELS` that has none yet (gradients
 * are global, not per backend; an existing one is left alone). Returns the names that have a
 * gradient afterwards. The gradient is float32 zeros shaped like each input, since tfjs
 * rejects non-float32 gradients even for boolean inputs.
 */
export function registerZeroGradients(): string[] {
  for (const kernelName of ZERO_GRADIENT_KERNELS) {
    if (hasGradient(kernelName)) continue;
    const unary = kernelName === 'LogicalNot';
    tf.registerGradient({
      kernelName,
      inputsToSave: unary ? ['x'] : ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const zeros: Record<string, () => tf.Tensor> = {};
        (unary ? ['x'] : ['a', 'b']).forEach((name, i) => {
          zeros[name] = () => tf.zeros(saved[i].shape);
        });
        return zeros;
      },
    });
  }
  return [...ZERO_GRADIENT_KERNELS];
}
