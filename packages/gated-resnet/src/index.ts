export { ACTIVATIONS, type Activation, activationWidth, applyActivation } from './activation';
export {
  type ConvFn,
  conditionProjection,
  type GatedResnetOptions,
  gate,
  gatedResnet,
  gatedResnetHidden,
} from './gatedResnet';
export {
  type CreateGatedResnetParamsOptions,
  createGatedResnetParams,
  disposeGatedResnetParams,
  type GatedResnetParams,
  gatedResnetVariables,
} from './gatedResnetParams';
