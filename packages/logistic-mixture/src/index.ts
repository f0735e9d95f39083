export { bitsPerDim, imageLogProb, type LogProbOptions, logProb } from './logProb';
export {
  type Convention,
  disposeMixtureParams,
  MIN_SCALE,
  type MixtureParamSlot,
  type MixtureParams,
  mixtureParamLayout,
  numCoeffs,
  numMixtureParams,
  splitMixtureParams,
} from './mixtureParams';
export {
  type MixtureNoise,
  type MixtureSample,
  type SampleMixtureOptions,
  sampleMixture,
} from './sampleMixture';
export { log1mexp, logDiffSigmoid, logSigmoid } from './stableMath';
export { broadcastShapes, checkValues, integerInRange } from './validate';
