import type { PixelCNNConfig } from '@pixelcnn/pixelcnn-dist';

/** A network to benchmark and how hard to push it. */
export interface BenchConfig {
  description: string;
  config: PixelCNNConfig & { imageShape: [number, number, number]; numFilters: number };
  /** Training: effective batch, micro-batch (gradient accumulation), timed steps after a warm-up. */
  train: { batch: number; microBatch?: number; steps: number };
  /**
   * Sampling: images per run; naive steps timed before extrapolating to H*W; `cachedPixels`: time
   * the cached sampler over that many pixels only and extrapolate too (else the whole run).
   */
  sample: { n: number; naivePixels: number; cachedPixels?: number };
  /**
   * Smaller sizes on a software WebGPU adapter (SwiftShader: a CPU emulation at ~0.1-0.3 GFLOP/s
   * per conv), so its rows finish in minutes; they say nothing about GPU speed.
   */
  software?: { train: BenchConfig['train']; sample: BenchConfig['sample'] };
}

/**
 * Issue 17's demo network (the trainer's demo until it moved to 3 hierarchies), the trainer's demo
 * network now, and TFP's default PixelCNN (numResnet 5, numHierarchies 3,
 * numFilters 160, numLogisticMix 10) on 28x28 QuickDraw images. TFP's network trains in the 4 GB
 * wasm heap at micro-batches of up to 2 as it is, and of ~20 with recomputed blocks (slower per
 * image: bench `micro-batches`).
 */
/** Issue 17's demo network; the trainer's demo is the same with 3 hierarchies. */
const DEMO_NETWORK: BenchConfig['config'] = {
  imageShape: [28, 28, 1],
  numResnet: 1,
  numHierarchies: 2,
  numFilters: 32,
  numLogisticMix: 5,
  dropoutP: 0,
};

export const CONFIGS: Record<string, BenchConfig> = {
  demo: {
    description: "issue 17's demo network: 1 resnet, 2 hierarchies, 32 filters, 5 mix",
    config: DEMO_NETWORK,
    train: { batch: 32, steps: 2 },
    sample: { n: 8, naivePixels: 4 },
    software: { train: { batch: 4, steps: 1 }, sample: { n: 2, naivePixels: 2, cachedPixels: 56 } },
  },
  demo3: {
    description: "the trainer demo's network: 1 resnet, 3 hierarchies, 32 filters, 5 mix",
    config: { ...DEMO_NETWORK, numHierarchies: 3 },
    train: { batch: 32, steps: 2 },
    sample: { n: 8, naivePixels: 4 },
  },
  tfp: {
    description: "TFP's defaults: 5 resnets, 3 hierarchies, 160 filters, 10 mix",
    config: { imageShape: [28, 28, 1], numFilters: 160 },
    // the trainer's automatic micro-batch for this network (the fastest that fits the heap:
    // bench micro-batches); 3 would not fit without recomputing the blocks
    train: { batch: 8, microBatch: 2, steps: 1 },
    sample: { n: 8, naivePixels: 2 },
  },
};

/** What run.ts asks a worker process to measure. */
export interface WorkerArgs {
  label: string;
  backend: 'wasm' | 'cpu' | 'webgpu';
  threads: number;
  configs: string[];
  /** Configs whose training (and lone conv) is skipped (e.g. on cpu, whose weight gradient is pathological). */
  skipTrain?: string[];
}

export interface WorkerResult {
  label: string;
  backend: string;
  threads: number;
  /** webgpu: the adapter ("google swiftshader (...), software"), and whether it is a CPU emulation. */
  adapter?: string;
  software?: boolean;
  /** The backend could not start (e.g. no WebGPU adapter): why; no rows. */
  skipped?: string;
  configs: Array<{
    name: string;
    /** Effective parameters (our variables, = PixelCNN.numParameters). */
    parameters: number;
    /** What Keras counts for TFP's network of the same config (full masked kernels). */
    tfpKerasParameters: number;
    gflopForwardPerImage: number;
    loneConv?: { forwardGflops: number; trainGflops: number };
    train?: {
      batch: number;
      microBatch?: number;
      steps: number;
      msPerStep: number;
      imagesPerSecond: number;
      gflops: number;
    };
    heapBytes?: number;
    /** The largest kernels' shares of one training micro-batch's kernel time (tf.profile). */
    profile?: { kernel: string; share: number }[];
    sample?: {
      n: number;
      naiveTimedPixels: number;
      naiveSeconds: number;
      naiveImagesPerSecond: number;
      cachedSeconds: number;
      /** Set when the cached time is extrapolated from this many pixels. */
      cachedTimedPixels?: number;
      cachedImagesPerSecond: number;
      speedup: number;
    };
  }>;
  heapBytes?: number;
  maxRssBytes?: number;
}
