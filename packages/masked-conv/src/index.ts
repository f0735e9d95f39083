export { type Conv2dOptions, conv2d, deconv2d } from './conv2d';
export { dense, nin } from './dense';
export {
  downRightShiftedConv2d,
  downShiftedConv2d,
  type ShiftedConvOptions,
} from './downShiftedConv2d';
export {
  downRightShiftedDeconv2d,
  downShiftedDeconv2d,
  type ShiftedDeconvOptions,
} from './downShiftedDeconv2d';
export { type MaskedConvOptions, maskedConv2d } from './maskedConv2d';
export {
  embedKernel,
  type MaskedCounterpart,
  type MaskedCounterpartOptions,
  maskedCounterpart,
  type ShiftedConvKind,
} from './maskedCounterpart';
export {
  type ConvParams,
  type CreateConvParamsOptions,
  type CreateDenseParamsOptions,
  createConvParams,
  createDenseParams,
  type DenseParams,
  disposeParams,
  paramVariables,
} from './params';
export { type PixelCnnMaskOptions, pixelCnnMask } from './pixelCnnMask';
export { downShift, rightShift } from './shift';
export { TFP_LAYERS, type TfpLayer, type TfpMask, type TfpMaskOptions, tfpMask } from './tfpMask';
export {
  effectiveWeight,
  effectiveWeightScope,
  type LayerCallOptions,
  layerTensors,
  withEffectiveWeights,
} from './weightNorm';
