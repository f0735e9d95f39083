import { FUSED_KERNELS } from '@pixelcnn/gated-resnet';
import { numMixtureParams } from '@pixelcnn/logistic-mixture';
import * as tf from '@tensorflow/tfjs-core';
import { conditionalUnits, type PixelCNNConfig, resolveConfig } from './config';
import { parameterCounts } from './flops';
import { type NetworkPlan, networkPlan } from './networkPlan';
import { UPDATE_CHUNK_PARAMETERS } from './optimizerUpdate';

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
 * Float32 values a training step keeps per parameter (weights, their gradients, Adam's two
 * moments, the EMA, the effective weights), per unit of the network's activation size (see
 * {@link estimateTrainingMemory}), per unit of its largest gated resnet and per unit of the head's
 * mixture size (per image of the micro-batch): with stock ops and with gated-resnet's fused
 * kernels (which keep fewer intermediates), each without and with recomputed blocks (then a few
 * values per unit of activation are kept, the blocks' inputs, and one block's intermediates and
 * their gradients live while its backward pass runs). Least-squares fits of `tf.profile`'s peak
 * bytes of one `Trainer` step on wasm (dropout 0.5, concat_elu, micro-batches 2 and 6; bench
 * `memory-probe --json`) over 10 networks: filters 8-64, 1-2 resnets, 1-3 hierarchies, 12x12 to
 * 28x28 images of 1 and 3 channels, 5 and 10 mixture components. With {@link UPDATE_VALUES} every
 * measured peak is within 5% of its estimate (2-6% over for three of the networks). TFP's default
 * network (outside the fit): estimate / measured peak 1.19 at micro-batch 1, 1.06 recomputed at
 * 1-8 (its fixed part is smaller than the small networks': on the safe side).
 */
const PER_VALUE = {
  stock: {
    kept: { parameter: 8.5, activation: 188, largestBlock: 0, mixturePixel: 258 },
    recomputed: { parameter: 6.05, activation: 7.1, largestBlock: 125, mixturePixel: 220 },
  },
  fused: {
    kept: { parameter: 8.4, activation: 141, largestBlock: 0, mixturePixel: 256 },
    recomputed: { parameter: 6.06, activation: 8.3, largestBlock: 94, mixturePixel: 220 },
  },
};
/**
 * The update's peak, per parameter: the weights, moments, EMA and gradients (`resident`), and
 * Adam's intermediates of the chunk it updates at once (`perChunkParameter`, for at most
 * {@link UPDATE_CHUNK_PARAMETERS} parameters). Networks under one chunk peak here when their
 * activations are small (measured: 19.0 values per parameter for each such step).
 */
const UPDATE_VALUES = { resident: 7, perChunkParameter: 12 };
/**
 * {@link relativeStepCost}: the per-image overhead of small micro-batches and the extra time of
 * recomputing the blocks, least-squares fits (within 4% of each point) of bench `micro-batches`
 * (TFP's default network, Trainer steps on a batch of 8, wasm 2 threads, 2026-12-06): seconds per
 * image 2.34 / 2.07 at micro-batches 1 / 2, and recomputed 2.92 / 2.78 / 2.54 / 2.44 at 1 / 2 / 4
 * / 8. So the automatic choice for that network is micro-batch 2 without recomputation.
 */
const SMALL_BATCH_OVERHEAD = 0.23;
const RECOMPUTE_COST = 0.28;
/** What {@link largestFittingMicroBatch} adds to an estimate before comparing it with a limit. */
export const MEMORY_ESTIMATE_MARGIN = 1.05;

/** What one training step of a micro-batch keeps alive at its peak, in bytes. */
export interface TrainingMemoryEstimate {
  /** Whole peak for the micro-batch: max(updateBytes, fixed + microBatchSize * perImage). */
  bytes: number;
  /** Independent of the batch while the gradients are computed: parameters, moments, EMA, ... */
  fixedBytes: number;
  /** Activations kept for the backward pass, per image of the micro-batch. */
  perImageBytes: number;
  /** The update's peak (weights, moments, EMA, gradients and the optimizer's intermediates). */
  updateBytes: number;
}

/** How a training step runs, as far as its memory goes. */
export interface TrainingMemoryOptions {
  /**
   * Gradient checkpointing (`recomputeBlocks` of `PixelCNN.logProb`): each gated resnet keeps
   * only its inputs for the backward pass. Default false.
   */
  recomputeBlocks?: boolean;
  /**
   * Whether the backend runs gated-resnet's fused kernels (`@pixelcnn/backend` registers them on
   * wasm; {@link fusedKernelsRegistered} asks the active backend), whose steps peak lower.
   * Default false (the larger, stock-op estimate).
   */
  fusedKernels?: boolean;
}

/** Whether the active tfjs backend registers every kernel of gated-resnet's `FUSED_KERNELS`. */
export function fusedKernelsRegistered(): boolean {
  const backend = tf.getBackend();
  return Object.values(FUSED_KERNELS).every((k) => tf.getKernel(k, backend) !== undefined);
}

/**
 * Peak tensor memory of one training step (forward + backward + update) of a micro-batch.
 * The activation size of a plan is sum over its gated resnets of h * w * filters (the streams,
 * gates, concat_elu and dropout of every block scale with it); the head's is H * W * K * C. With
 * `recomputeBlocks` each gated resnet keeps only its inputs, and its intermediates live only while
 * its backward pass runs: a few values per unit of activation plus one block's worth.
 */
export function estimateTrainingMemory(
  plan: NetworkPlan,
  numParameters: number,
  microBatchSize: number,
  o: TrainingMemoryOptions = {},
): TrainingMemoryEstimate {
  if (!(Number.isInteger(microBatchSize) && microBatchSize >= 1)) {
    throw new Error(
      `Error in estimateTrainingMemory: microBatchSize must be an integer >= 1, got ${microBatchSize}`,
    );
  }
  let activations = 0;
  let largestBlock = 0;
  let pixels = 0;
  for (const b of plan.blocks) {
    if (b.kind !== 'resnet') continue;
    const [h, w] = b.resolution;
    activations += h * w * plan.filters;
    largestBlock = Math.max(largestBlock, h * w * plan.filters);
    pixels = Math.max(pixels, h * w);
  }
  const mixtures =
    plan.headUnits / (1 + 2 * plan.channels + (plan.channels * (plan.channels - 1)) / 2);
  const k =
    PER_VALUE[o.fusedKernels ? 'fused' : 'stock'][o.recomputeBlocks ? 'recomputed' : 'kept'];
  // the mixture's log-probability works on [..., K, C] per pixel
  const mixturePixels = mixtures * plan.channels * pixels;
  const perImage =
    k.activation * activations + k.largestBlock * largestBlock + k.mixturePixel * mixturePixels;
  const perImageBytes = 4 * perImage;
  const fixedBytes = 4 * k.parameter * numParameters;
  const updateBytes =
    4 *
    (UPDATE_VALUES.resident * numParameters +
      UPDATE_VALUES.perChunkParameter * Math.min(numParameters, UPDATE_CHUNK_PARAMETERS));
  const bytes = Math.max(updateBytes, fixedBytes + microBatchSize * perImageBytes);
  return { bytes, fixedBytes, perImageBytes, updateBytes };
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
  o: TrainingMemoryOptions = {},
): number {
  const est = estimateTrainingMemory(plan, numParameters, 1, o);
  const budget = limitBytes / MEMORY_ESTIMATE_MARGIN;
  if (est.updateBytes > budget) return 0;
  const n = Math.floor((budget - est.fixedBytes) / est.perImageBytes);
  return Math.max(0, Math.min(batchSize, n));
}

/** What {@link fitMicroBatch} finds. */
export interface MicroBatchFit {
  /**
   * The micro-batch: the one asked for (at most the batch), or for 'auto' the fastest that fits
   * (the largest, with or without recomputed blocks by {@link relativeStepCost}).
   */
  microBatchSize: number;
  /** Whether its gated resnets are recomputed in the backward pass (memory). */
  recomputeBlocks: boolean;
  /** Whether a step on it fits the limit, with the estimate's margin (always, without a limit). */
  fits: boolean;
  /**
   * The estimated bytes of a step on the micro-batch ({@link estimateTrainingMemory}); when not
   * even one image fits, of a step on one image.
   */
  bytes: number;
  /**
   * The largest micro-batch (at most the batch) that fits, recomputing the blocks where allowed:
   * 0 when not even one image does.
   */
  largest: number;
}

/**
 * Size a micro-batch for a batch of `batchSize` against `limitBytes` (none: everything fits), by
 * {@link estimateTrainingMemory} plus its 5% margin: the one decision behind the Trainer's
 * refusal of an oversized micro-batch and its `'auto'`, and the CLI's refusal before any work.
 * `recomputeBlocks` (default false): `'auto'` recomputes the blocks where a micro-batch fits no
 * other way, or, for an `'auto'` micro-batch, where that is faster ({@link relativeStepCost});
 * `true`/`false` forces it. Without a limit nothing is recomputed unless forced.
 */
export function fitMicroBatch(
  plan: NetworkPlan,
  numParameters: number,
  batchSize: number,
  microBatchSize: number | 'auto',
  limitBytes?: number,
  o: { recomputeBlocks?: boolean | 'auto'; fusedKernels?: boolean } = {},
): MicroBatchFit {
  const asked = microBatchSize === 'auto' ? batchSize : Math.min(microBatchSize, batchSize);
  const recompute = o.recomputeBlocks ?? false;
  const modes = recompute === 'auto' ? [false, true] : [recompute];
  const estimate = (n: number, recomputeBlocks: boolean) =>
    estimateTrainingMemory(plan, numParameters, n, {
      recomputeBlocks,
      fusedKernels: o.fusedKernels,
    }).bytes;
  if (limitBytes === undefined) {
    const r = recompute === true;
    return {
      microBatchSize: asked,
      recomputeBlocks: r,
      fits: true,
      bytes: estimate(Math.max(asked, 1), r),
      largest: batchSize,
    };
  }
  const largestOf = modes.map((r) =>
    largestFittingMicroBatch(plan, numParameters, batchSize, limitBytes, {
      recomputeBlocks: r,
      fusedKernels: o.fusedKernels,
    }),
  );
  const largest = Math.max(...largestOf);
  const last = modes.length - 1;
  const result = (mb: number, i: number, fits: boolean): MicroBatchFit => ({
    microBatchSize: mb,
    recomputeBlocks: modes[i],
    fits,
    bytes: estimate(largest >= 1 ? Math.max(mb, 1) : 1, modes[i]),
    largest,
  });
  if (largest < 1) return result(microBatchSize === 'auto' ? 0 : asked, last, false);
  if (microBatchSize !== 'auto') {
    // the first mode (no recomputation first) that fits the asked micro-batch
    const i = largestOf.findIndex((l) => asked <= l);
    return i >= 0 ? result(asked, i, true) : result(asked, last, false);
  }
  let best = -1;
  modes.forEach((r, i) => {
    if (largestOf[i] < 1) return;
    const cost = relativeStepCost(largestOf[i], r);
    if (best < 0 || cost < relativeStepCost(largestOf[best], modes[best])) best = i;
  });
  return result(largestOf[best], best, true);
}

/**
 * Modelled time per image of a training step on micro-batches of `microBatch` relative to a step
 * whose micro-batch overheads are negligible, on wasm: per-micro-batch overheads shrink as
 * {@link SMALL_BATCH_OVERHEAD} / microBatch, and recomputing the blocks costs
 * {@link RECOMPUTE_COST} more.
 */
export function relativeStepCost(microBatch: number, recomputeBlocks: boolean): number {
  return (1 + SMALL_BATCH_OVERHEAD / microBatch) * (recomputeBlocks ? 1 + RECOMPUTE_COST : 1);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/**
 * Why a micro-batch does not fit its limit, in the one wording the Trainer's refusal and the
 * apps' share (each adds its own advice: the option to change, a smaller network); undefined
 * when it fits. `limit.wasmHeap`: the limit is the wasm heap's own (`backendMemoryLimit`), not
 * one the caller set. E.g. "a training step on micro-batches of 8 images needs about 5.12 GiB,
 * more than the wasm heap's 4.00 GiB; the largest micro-batch that fits is 1", or "this network
 * needs about 9.50 GiB for a training step on one image, more than the memory limit of 8.00 GiB"
 * (" even with recomputed blocks" after the limit when the fit recomputed them).
 */
export function microBatchRefusal(
  fit: MicroBatchFit,
  limit: { bytes: number; wasmHeap: boolean },
): string | undefined {
  if (fit.fits) return undefined;
  const over =
    `more than ${limit.wasmHeap ? "the wasm heap's" : 'the memory limit of'} ${gib(limit.bytes)}` +
    (fit.recomputeBlocks ? ' even with recomputed blocks' : '');
  return fit.largest >= 1
    ? `a training step on micro-batches of ${fit.microBatchSize} images needs about ${gib(fit.bytes)}, ${over}; the largest micro-batch that fits is ${fit.largest}`
    : `this network needs about ${gib(fit.bytes)} for a training step on one image, ${over}`;
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
