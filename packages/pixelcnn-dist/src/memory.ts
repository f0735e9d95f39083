import { numMixtureParams } from '@pixelcnn/logistic-mixture';
import { conditionalUnits, type PixelCNNConfig, resolveConfig } from './config';
import { parameterCounts } from './flops';
import { type NetworkPlan, networkPlan } from './networkPlan';

/** tfjs-backend-wasm's heap cannot grow past 4 GiB (32-bit addresses). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * The bytes a training step may take on a tfjs backend, where a limit is known: the wasm heap's
 * 4 GiB on 'wasm' (running out of it aborts the process); undefined elsewhere.
 */
export function backendMemoryLimit(backend: string): number | undefined {
  return backend === 'wasm' ? WASM_HEAP_LIMIT_BYTES : undefined;
}

/**
 * Float32 values live in a training step per unit of the network's activation size (see
 * {@link estimateTrainingMemory}), per unit of the head's mixture size, and per parameter.
 * Fitted to `tf.profile`'s peak bytes of one `Trainer` step (dropout 0.5, concat_elu) over
 * filters 16-128, 1-2 resnets, 1-3 hierarchies, 16x16 and 28x28 images, 5 and 10 mixture
 * components: every fitted point 0-5% above the measured peak, and configurations outside the
 * fit (memory.test.ts) within 5% either side. The wasm heap's high-water mark stayed below the
 * profiled peak in every case (bench/src/memoryProbe.ts prints both).
 */
const PER_ACTIVATION = 216;
const PER_MIXTURE_PIXEL = 210;
/** Weights, their gradients, Adam's two moments, the EMA, weight-normed kernels and slack. */
const PER_PARAMETER = 7;
/** What {@link largestFittingMicroBatch} adds to an estimate before comparing it with a limit. */
export const MEMORY_ESTIMATE_MARGIN = 1.05;

/** What one training step of a micro-batch keeps alive at its peak, in bytes. */
export interface TrainingMemoryEstimate {
  /** Whole peak for the micro-batch: fixed + microBatchSize * perImage. */
  bytes: number;
  /** Independent of the batch: parameters, gradients, optimizer moments, EMA. */
  fixedBytes: number;
  /** Activations kept for the backward pass, per image of the micro-batch. */
  perImageBytes: number;
}

/**
 * Peak tensor memory of one training step (forward + backward + update) of a micro-batch.
 * The activation size of a plan is sum over its gated resnets of h * w * filters (the streams,
 * gates, concat_elu and dropout of every block scale with it); the head's is H * W * K.
 */
export function estimateTrainingMemory(
  plan: NetworkPlan,
  numParameters: number,
  microBatchSize: number,
): TrainingMemoryEstimate {
  if (!(Number.isInteger(microBatchSize) && microBatchSize >= 1)) {
    throw new Error(
      `Error in estimateTrainingMemory: microBatchSize must be an integer >= 1, got ${microBatchSize}`,
    );
  }
  let activations = 0;
  let pixels = 0;
  for (const b of plan.blocks) {
    if (b.kind !== 'resnet') continue;
    const [h, w] = b.resolution;
    activations += h * w * plan.filters;
    pixels = Math.max(pixels, h * w);
  }
  const mixtures =
    plan.headUnits / (1 + 2 * plan.channels + (plan.channels * (plan.channels - 1)) / 2);
  const perImageBytes = 4 * (PER_ACTIVATION * activations + PER_MIXTURE_PIXEL * mixtures * pixels);
  const fixedBytes = 4 * PER_PARAMETER * numParameters;
  return { bytes: fixedBytes + microBatchSize * perImageBytes, fixedBytes, perImageBytes };
}

/**
 * The largest micro-batch (<= `batchSize`) whose estimated step, plus the estimate's 5% margin,
 * fits in `limitBytes`; 0 when not even one image fits.
 */
export function largestFittingMicroBatch(
  plan: NetworkPlan,
  numParameters: number,
  batchSize: number,
  limitBytes = WASM_HEAP_LIMIT_BYTES,
): number {
  const { fixedBytes, perImageBytes } = estimateTrainingMemory(plan, numParameters, 1);
  const budget = limitBytes / MEMORY_ESTIMATE_MARGIN;
  return Math.max(0, Math.min(batchSize, Math.floor((budget - fixedBytes) / perImageBytes)));
}

/** What {@link fitMicroBatch} finds. */
export interface MicroBatchFit {
  /** The micro-batch: the one asked for (at most the batch), or for 'auto' the largest that fits. */
  microBatchSize: number;
  /** Whether a step on it fits the limit, with the estimate's margin (always, without a limit). */
  fits: boolean;
  /**
   * The estimated bytes of a step on the micro-batch ({@link estimateTrainingMemory}); when not
   * even one image fits, of a step on one image.
   */
  bytes: number;
  /** The largest micro-batch (at most the batch) that fits: 0 when not even one image does. */
  largest: number;
}

/**
 * Size a micro-batch for a batch of `batchSize` against `limitBytes` (none: everything fits), by
 * {@link estimateTrainingMemory} plus its 5% margin: the one decision behind the Trainer's
 * refusal of an oversized micro-batch and its `'auto'`, and the CLI's refusal before any work.
 */
export function fitMicroBatch(
  plan: NetworkPlan,
  numParameters: number,
  batchSize: number,
  microBatchSize: number | 'auto',
  limitBytes?: number,
): MicroBatchFit {
  const asked = microBatchSize === 'auto' ? batchSize : Math.min(microBatchSize, batchSize);
  const estimate = (n: number) => estimateTrainingMemory(plan, numParameters, n).bytes;
  if (limitBytes === undefined) {
    return {
      microBatchSize: asked,
      fits: true,
      bytes: estimate(Math.max(asked, 1)),
      largest: batchSize,
    };
  }
  const largest = largestFittingMicroBatch(plan, numParameters, batchSize, limitBytes);
  const mb = microBatchSize === 'auto' ? largest : asked;
  const fits = mb >= 1 && mb <= largest;
  return { microBatchSize: mb, fits, bytes: estimate(largest >= 1 ? mb : 1), largest };
}

/**
 * A network's plan and parameter count from its config alone, without making its variables:
 * what {@link estimateTrainingMemory} and {@link fitMicroBatch} need, so an oversized network can
 * be refused before it is built. Equal to `new PixelCNN(config).plan` and `.numParameters`.
 */
export function networkSize(config: PixelCNNConfig): { plan: NetworkPlan; numParameters: number } {
  const c = resolveConfig(config);
  const plan = networkPlan(
    c,
    conditionalUnits(c),
    numMixtureParams(c.imageShape[2], c.numLogisticMix),
  );
  const numParameters = parameterCounts(plan, {
    weightNorm: c.useWeightNorm,
    activation: c.resnetActivation,
  }).effective;
  return { plan, numParameters };
}
