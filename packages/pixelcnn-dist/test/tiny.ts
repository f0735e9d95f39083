import type { PixelCNNConfig } from '../src/config';

/**
 * The network most tests train, sample and save: 4x4 single-channel images of 4 levels (0..3),
 * one gated resnet per stream and hierarchy, 2 hierarchies (4x4 and 2x2), 4 filters, 2 mixture
 * components. A test spreads it and adds its seed and what it is about:
 * `new PixelCNN({ ...TINY, seed: 13, dropoutP: 0 })`.
 */
export const TINY = {
  imageShape: [4, 4, 1],
  high: 3,
  numResnet: 1,
  numHierarchies: 2,
  numFilters: 4,
  numLogisticMix: 2,
} as const satisfies PixelCNNConfig;
