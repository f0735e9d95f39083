// The public API: the distribution, its config, training (the Trainer, the loop around it and
// the held-out evaluation), checkpoints' formats, samplers by name and the sizing estimates. The
// layer-level building blocks are in './internals'; file IO in './node'; the run-directory
// contract in './run'.
// resnetActivation's choices (TFP's `resnet_activation`) are the gated resnets' own.
export { ACTIVATIONS, type Activation } from '@pixelcnn/gated-resnet';
export { bitsPerDim, type MixtureParams } from '@pixelcnn/logistic-mixture';
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
  PIXELCNN_DEFAULTS,
  type PixelCNNConfig,
  type ResolvedPixelCNNConfig,
  resolveConfig,
  TFP_NETWORK,
} from './config';
export { type BitsPerDimScores, EVAL_SEED, evaluateBitsPerDim } from './evaluateBitsPerDim';
export { type NetworkFlops, networkFlops, type ParameterCounts, parameterCounts } from './flops';
export type { PrefixInput, TensorInput } from './inputs';
export { type MeanCi, meanCi95, tQuantile975 } from './meanCi95';
export {
  backendMemoryLimit,
  estimateTrainingMemory,
  fitMicroBatch,
  fusedKernelsRegistered,
  largestFittingMicroBatch,
  MEMORY_ESTIMATE_MARGIN,
  type MicroBatchFit,
  microBatchRefusal,
  networkSize,
  relativeStepCost,
  type TrainingMemoryEstimate,
  type TrainingMemoryOptions,
  WASM_HEAP_LIMIT_BYTES,
} from './memory';
export type { NamedVariable, NetworkParams } from './network';
export {
  type BlockSpec,
  type ConvKind,
  type ConvSpec,
  type InitSpec,
  type NetworkPlan,
  networkPlan,
  type ResampleSpec,
  type ResnetSpec,
  type Stream,
} from './networkPlan';
export {
  type LogProbOptions,
  PixelCNN,
  type SampleOptions,
  samplingNoise,
} from './pixelCnn';
export {
  type PixelProgress,
  SAMPLERS,
  type Sampler,
  type SamplerNetwork,
  type SamplerOptions,
  type SamplingNoise,
} from './samplers';
export {
  type LearningRateSchedule,
  type LearningRateScheduleJSON,
  learningRateAt,
} from './schedule';
export {
  artifactsToModelJSON,
  modelJSONToArtifacts,
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
export type { ExampleOrder, RawExamples, TrainingData } from './trainingData';
export {
  type CheckpointReason,
  type RunLength,
  type StepReport,
  stepsPerEpoch,
  type TrainingPlan,
  type TrainLoopCheckpoints,
  type TrainLoopControl,
  type TrainLoopEvents,
  type TrainLoopOptions,
  type TrainLoopOutcome,
  totalSteps,
  trainLoop,
} from './trainLoop';
export { WeightEMA, type WeightEMAOptions } from './weightEma';
