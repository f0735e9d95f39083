export {
  CLASSIFIER_FORMAT,
  CLASSIFIER_FORMAT_VERSION,
  type ClassifierConfig,
  DrawingClassifier,
  type LabelledImages,
  type ResolvedClassifierConfig,
} from './classifier';
export {
  type FetchOptions,
  fetchHandler,
  loadClassifier,
  loadModel,
  MODEL_NAMES,
  MODELS,
  type ModelFiles,
  type ModelInfo,
  type ModelRecord,
  modelFiles,
  modelHandler,
  modelInfo,
} from './models';
export {
  type Recognition,
  recognitionShare,
  type Share,
  wilsonInterval,
  Z95,
} from './recognition';
export { type ClassifierTrainingOptions, trainClassifier } from './trainClassifier';
