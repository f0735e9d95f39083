export type { ConvFn, GatedResnetParams } from '@pixelcnn/gated-resnet';
export { bitsPerDim, type MixtureParams } from '@pixelcnn/logistic-mixture';
export type { ConvParams, DenseParams } from '@pixelcnn/masked-conv';
export {
  CHECKPOINT_FILE_NAMES,
  type CheckpointFiles,
  type CheckpointHandlers,
  checkpointUrls,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpointFrom,
  MODEL_JSON_FILE,
  type OpenedCheckpoint,
  saveCheckpointTo,
  TRAINER_STATE_URL_SUFFIX,
} from './checkpointFiles';
export {
  conditionalUnits,
  PIXELCNN_DEFAULTS,
  type PixelCNNConfig,
  RESNET_ACTIVATIONS,
  type ResolvedPixelCNNConfig,
  resolveConfig,
  TFP_NETWORK,
} from './config';
export { type NetworkFlops, networkFlops, type ParameterCounts, parameterCounts } from './flops';
export {
  broadcastShapes,
  type PrefixInput,
  type PreparedInputs,
  prepareLogProbInputs,
  preparePrefix,
  prepareSampleConditional,
  scaleImages,
  type TensorInput,
} from './inputs';
export {
  estimateTrainingMemory,
  largestFittingMicroBatch,
  MEMORY_ESTIMATE_MARGIN,
  type TrainingMemoryEstimate,
  WASM_HEAP_LIMIT_BYTES,
} from './memory';
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
  type NamedVariable,
  type NetworkParams,
  networkForward,
  networkLayers,
  networkVariables,
  type ResampleBlockParams,
  type ResnetBlockParams,
  STREAM_CONV,
  type Streams,
} from './network';
export {
  type BlockSpec,
  type ConvKind,
  type ConvSpec,
  type InitSpec,
  type NetworkPlan,
  type NetworkVisitor,
  networkPlan,
  type ResampleSpec,
  type ResnetSpec,
  type Stream,
  walkNetwork,
} from './networkPlan';
export {
  type LogProbOptions,
  PixelCNN,
  type SampleOptions,
  samplingNoise,
} from './pixelCnn';
export {
  cachedSampler,
  drawPixel,
  gridToInput,
  IncrementalNetwork,
  naiveSampler,
  type PixelProgress,
  PositionCache,
  pixelAt,
  SAMPLERS,
  type Sampler,
  type SamplerNetwork,
  type SamplerOptions,
  type SamplingNoise,
  setPixel,
} from './samplers';
export {
  checkSchedule,
  type LearningRateSchedule,
  type LearningRateScheduleJSON,
  learningRateAt,
} from './schedule';
export {
  artifactsToModelJSON,
  crc32,
  type DecodedModel,
  decodeArtifacts,
  encodeArtifacts,
  modelJSONToArtifacts,
  type NamedWeight,
  PIXELCNN_FORMAT,
  PIXELCNN_FORMAT_VERSION,
  WEIGHTS_FILE,
} from './serialization';
export {
  dropoutSeed,
  evaluateNll,
  PIXELCNNPP_TRAINING,
  Trainer,
  type TrainerOptions,
  type TrainStepResult,
} from './trainer';
export {
  decodeTrainerState,
  encodeTrainerState,
  type StateTensor,
  TRAINER_BIN_FILE,
  TRAINER_JSON_FILE,
  TRAINER_STATE_FORMAT,
  TRAINER_STATE_VERSION,
  type TrainerOptionsJSON,
  type TrainerSnapshot,
  type TrainerStateJSON,
} from './trainerState';
export { WeightEMA, type WeightEMAOptions } from './weightEma';
