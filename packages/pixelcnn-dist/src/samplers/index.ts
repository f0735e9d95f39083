import { cachedSampler } from './cachedSampler';
import { naiveSampler } from './naiveSampler';
import type { Sampler } from './types';

/**
 * Samplers by name, for `PixelCNN.sample(n, { sampler })`: 'cached' (Ramachandran et al. 2017,
 * each activation computed once) and 'naive' (TFP's H*W full forward passes). Every sampler gives
 * the naive sampler's samples for the same noise.
 */
export const SAMPLERS: Record<string, Sampler> = {
  cached: cachedSampler,
  naive: naiveSampler,
};

export { cachedSampler } from './cachedSampler';
export { IncrementalNetwork } from './incrementalNetwork';
export { drawPixel, gridToInput, naiveSampler, pixelAt, setPixel } from './naiveSampler';
export { PositionCache } from './positionCache';
export type {
  PixelProgress,
  Sampler,
  SamplerNetwork,
  SamplerOptions,
  SamplingNoise,
} from './types';
