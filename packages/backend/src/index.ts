export { registerConv2dGradient } from './conv2dGradient';
export {
  BACKEND_ENV,
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendName,
  type BackendReport,
  type InitBackendOptions,
  initBackend,
  WASM_THREADS_ENV,
} from './initBackend';
export { PIXELCNN_FUSED_KERNELS } from './pixelCnnKernelsWasm';
export {
  setWasmConvAlgorithms,
  type WasmConvAlgorithms,
  wasmConvAlgorithms,
} from './wasmConvAlgorithms';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasmKernels';
export {
  enableWasmThreads,
  MAX_WASM_THREADS,
  WASM_THREADS_PINNED_VERSION,
  type WasmThreadsReport,
  wasmThreadsReport,
} from './wasmThreads';
export {
  describeAdapter,
  SOFTWARE_ADAPTER,
  SWIFTSHADER_ICD_PATHS,
  WEBGPU_NODE_VERSION,
  type WebGpuAdapter,
  webgpuAdapter,
} from './webgpu';
export { registerWebGpuKernels, WEBGPU_KERNELS } from './webgpuKernels';
export { registerZeroGradients, ZERO_GRADIENT_KERNELS } from './zeroGradients';
