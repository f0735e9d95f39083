export { ACTIVATIONS, type Activation, activationWidth, applyActivation } from './activation';
export { type ConvFn, type GatedResnetOptions, gatedResnet } from './gatedResnet';
export {
  type CreateGatedResnetParamsOptions,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnetVariables,
} from './gatedResnetParams';
