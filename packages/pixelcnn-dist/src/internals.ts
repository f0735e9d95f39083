/**
 * `@pixelcnn/pixelcnn-dist/internals`: the building blocks under the public API, for this
 * repository's apps, bench and tests and for custom samplers (`PixelCNN.sample(n, { sampler })`
 * with a `Sampler` of your own runs the layers piecewise, as the cached sampler does). No
 * stability promise: these follow the implementation and may change in any release.
 */
export type { ConvFn, GatedResnetParams } from '@pixelcnn/gated-resnet';
export type { ConvParams, DenseParams } from '@pixelcnn/masked-conv';
export { conditionalUnits } from './config';
export {
  type PreparedInputs,
  prepareLogProbInputs,
  preparePrefix,
  prepareSampleConditional,
  scaleImages,
} from './inputs';
export {
  applyHead,
  applyInit,
  applyResample,
  applyResnetBlock,
  type BlockParams,
  convFn,
  createNetworkParams,
  disposeNetworkParams,
  type ForwardOptions,
  type NamedLayer,
  networkForward,
  networkLayers,
  networkVariables,
  type ResampleBlockParams,
  type ResnetBlockParams,
  STREAM_CONV,
  type Streams,
} from './network';
export { type NetworkVisitor, walkNetwork } from './networkPlan';
export {
  cachedSampler,
  drawPixel,
  gridToInput,
  IncrementalNetwork,
  naiveSampler,
  PositionCache,
  pixelAt,
  setPixel,
} from './samplers';
export { checkSchedule } from './schedule';
export {
  crc32,
  type DecodedModel,
  decodeArtifacts,
  encodeArtifacts,
  type NamedWeight,
} from './serialization';
