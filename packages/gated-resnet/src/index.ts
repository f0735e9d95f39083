export { ACTIVATIONS, type Activation, activationWidth, applyActivation } from './activation';
export { FUSED_KERNELS, gate, negConcat } from './fused';
export {
  type ConvFn,
  conditionProjection,
  type GatedResnetOptions,
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
