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
export { registerWasmTrainingKernels } from './wasmKernels';
export { enableWasmThreads } from './wasmThreads';
