import { naiveSampler } from './naiveSampler';
import type { Sampler } from './types';

/**
 * Samplers by name, for `PixelCNN.sample(n, { sampler })`. A faster exact sampler (e.g. 'cached',
 * Ramachandran et al. 2017) registers here; every sampler must give the naive sampler's samples
 * for the same noise.
 */
export const SAMPLERS: Record<string, Sampler> = {
  naive: naiveSampler,
};

export { drawPixel, naiveSampler, pixelAt, setPixel } from './naiveSampler';
export type {
  PixelProgress,
  Sampler,
  SamplerNetwork,
  SamplerOptions,
  SamplingNoise,
} from './types';
